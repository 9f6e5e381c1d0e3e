// An in-process mesh over agent processes and the fake provider, for integration
// tests of coordination. Agents are real agent servers; only Docker is left out.
import { dirname, join } from 'node:path';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { Mesh } from '../../src/mesh/server.js';
import { loadProject } from '../../src/shared/config/project.js';
import { createLogger } from '../../src/shared/logging.js';
import { MeshClient } from '../../src/cli/mesh-client.js';
import {
  startFakeProvider,
  type FakeCall,
  type FakeProvider,
  type FakeProviderOptions,
} from '../fakes/fake-provider.js';
import { freePort, makeProject, type TestProject } from './project.js';
import { ProcessRuntime } from './process-runtime.js';

export interface Harness {
  fake: FakeProvider;
  project: TestProject;
  runtime: ProcessRuntime;
  mesh: Mesh;
  client: MeshClient;
  /** The reply of one chat turn with `agent`; throws on an error event. */
  say: (agent: string, message: string) => Promise<string>;
  /** Waits until the fake saw a call from `agent` (by its system prompt) whose last user message matches. */
  waitForCall: (agent: string, pattern: RegExp, timeoutMs?: number) => Promise<FakeCall>;
  writePermissions: (yaml: string) => void;
  /** Everything the mesh's pino logger wrote so far. */
  meshLog: () => string;
  close: () => Promise<void>;
}

export interface HarnessOptions {
  agentsYaml: string;
  /** A function gets the running fake provider, for rules that name its address. */
  permissionsYaml?: string | ((fake: FakeProvider) => string);
  /** Lines added to .env; a function gets the running fake provider (LEGION_ANTHROPIC_BASE_URL). */
  env?: Record<string, string> | ((fake: FakeProvider) => Record<string, string>);
  /** config/mesh.yaml for the mesh's admin port; makeProject's default otherwise. */
  meshYaml?: (port: number) => string;
  /** Files of config/workflows by name (x.yaml), written before the mesh starts. */
  workflows?: Record<string, string>;
  /** Any other files by project-relative path (config/agents/x/SOUL.md), written before the mesh starts. */
  files?: Record<string, string>;
  /** Options of the fake provider (a pause between stream frames, for streaming tests). */
  fake?: FakeProviderOptions;
  /** How long a dashboard login code lives (the mesh's default is 60 s). */
  dashboardCodeTtlMs?: number;
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const fake = await startFakeProvider(options.fake);
  const port = await freePort();
  const meshYaml = options.meshYaml?.(port);
  const project = makeProject({
    port,
    openaiBaseUrl: fake.openaiBaseUrl,
    agentsYaml: options.agentsYaml,
    ...(meshYaml === undefined ? {} : { meshYaml }),
  });
  const writePermissions = (yaml: string) => writeFileSync(join(project.dir, 'config', 'permissions.yaml'), yaml);
  if (options.permissionsYaml)
    writePermissions(
      typeof options.permissionsYaml === 'string' ? options.permissionsYaml : options.permissionsYaml(fake),
    );
  if (options.workflows) {
    mkdirSync(join(project.dir, 'config', 'workflows'));
    for (const [file, yaml] of Object.entries(options.workflows))
      writeFileSync(join(project.dir, 'config', 'workflows', file), yaml);
  }
  for (const [file, text] of Object.entries(options.files ?? {})) {
    mkdirSync(dirname(join(project.dir, file)), { recursive: true });
    writeFileSync(join(project.dir, file), text);
  }
  if (options.env)
    appendFileSync(
      join(project.dir, '.env'),
      Object.entries(typeof options.env === 'function' ? options.env(fake) : options.env)
        .map(([key, value]) => `${key}=${value}\n`)
        .join(''),
    );
  let meshLog = '';
  const runtime = new ProcessRuntime(join(project.dir, 'agents-data'));
  const mesh = new Mesh({
    project: loadProject(project.dir),
    runtime,
    logger: createLogger({}, { write: (line: string) => void (meshLog += line) }),
    progress: () => undefined,
    onShutdownRequested: () => undefined,
    ...(options.dashboardCodeTtlMs === undefined ? {} : { dashboardCodeTtlMs: options.dashboardCodeTtlMs }),
  });
  const results = await mesh.start();
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) throw new Error(`agents failed to start: ${JSON.stringify(failed)}`);
  const client = MeshClient.connect(project.dir);

  const say = async (agent: string, message: string) => {
    const last = await client.chat(agent, message, () => undefined);
    if (last.type !== 'done') throw new Error(`chat with ${agent} failed: ${JSON.stringify(last)}`);
    return last.reply;
  };
  const waitForCall = async (agent: string, pattern: RegExp, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const call = fake.calls.find(
        (c) =>
          c.messages.some((m) => m.role === 'system' && m.content.startsWith(`You are ${agent},`)) &&
          pattern.test(c.messages.filter((m) => m.role === 'user').at(-1)?.content ?? ''),
      );
      if (call) return call;
      if (Date.now() > deadline) throw new Error(`no call from ${agent} matching ${pattern} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  return {
    fake,
    project,
    runtime,
    mesh,
    client,
    say,
    waitForCall,
    writePermissions,
    meshLog: () => meshLog,
    close: async () => {
      await mesh.stop();
      await fake.close();
      project.cleanup();
    },
  };
}
