// Helpers for webhook and watcher tests: a webhook sender that signs as the docs say
// (by hand, not with the mesh's own signer), counting the turns an agent was woken
// for, and restarting the harness's mesh on the same project directory.
import { createHmac } from 'node:crypto';
import { Mesh } from '../../src/mesh/server.js';
import { loadProject } from '../../src/shared/config/project.js';
import { createLogger } from '../../src/shared/logging.js';
import { MeshClient } from '../../src/cli/mesh-client.js';
import type { FakeCall } from '../fakes/fake-provider.js';
import type { Harness } from './mesh-harness.js';

export interface SignedPost {
  url: string;
  body: string | Buffer;
  secret?: string;
  contentType?: string;
  /** Unix seconds to sign; default now. */
  timestamp?: number;
  /** Sent instead of the correct signature. */
  signature?: string;
}

export function hmacSignature(secret: string, timestamp: number, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}

/** POSTs to a webhook URL; signs when a secret is given. */
export async function postHook(post: SignedPost): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': post.contentType ?? 'application/json' };
  if (post.secret !== undefined) {
    const timestamp = post.timestamp ?? Math.floor(Date.now() / 1000);
    headers['x-legion-timestamp'] = String(timestamp);
    headers['x-legion-signature'] = post.signature ?? hmacSignature(post.secret, timestamp, post.body);
  }
  const response = await fetch(post.url, { method: 'POST', headers, body: post.body });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** Turns (first model call of each) of `agent` whose newest user message matches: each is one hand-over. */
export function turnsFor(calls: FakeCall[], agent: string, pattern: RegExp): FakeCall[] {
  return calls.filter((call) => {
    const last = call.messages.at(-1);
    const fromAgent = call.messages.some((m) => m.role === 'system' && m.content.startsWith(`You are ${agent},`));
    return fromAgent && last?.role === 'user' && pattern.test(last.content);
  });
}

export async function eventually<T>(
  probe: () => Promise<T | null> | T | null,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RunningMesh {
  mesh: Mesh;
  client: MeshClient;
  log: () => string;
}

/** Stops `current` and starts a new mesh (re-reading config/) on the harness's project and runtime. */
export async function restartMesh(h: Harness, current: Mesh): Promise<RunningMesh> {
  await current.stop();
  let log = '';
  const mesh = new Mesh({
    project: loadProject(h.project.dir),
    runtime: h.runtime,
    logger: createLogger({}, { write: (line: string) => void (log += line) }),
    progress: () => undefined,
    onShutdownRequested: () => undefined,
  });
  const results = await mesh.start();
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) throw new Error(`agents failed to start: ${JSON.stringify(failed)}`);
  return { mesh, client: MeshClient.connect(h.project.dir), log: () => log };
}
