// Lanes and the health monitor through the real mesh with agent processes: a chat
// waits behind the running lane item and goes before queued ones, a full lane refuses
// chat, messages and deliveries with lane_full, a killed agent comes back (and gets the
// item it was handling again), and the hourly restart cap marks an agent failed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PublishResponseSchema, type PublishResponse } from '../../src/shared/wire/fleet.js';
import type { AgentStatusEntry } from '../../src/shared/wire/admin.js';
import { legion } from '../helpers/project.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';

const PERMISSIONS = `default:
  allowed_apis: [llm]
agents:
  worker:
    can_subscribe: [jobs]
    allowed_apis: [llm]
  sender:
    can_message: [worker]
    allowed_apis: [llm]
`;

async function until<T>(
  probe: () => Promise<T | null | undefined | false>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('lanes and the health monitor', () => {
  let h: Harness;
  let adminToken: string;

  const agent = async (name: string): Promise<AgentStatusEntry> => {
    const found = (await h.client.status()).agents.find((a) => a.name === name);
    if (!found) throw new Error(`no agent ${name} in the status`);
    return found;
  };
  const adminPost = (path: string, body: unknown) =>
    fetch(`${h.client.baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const publish = async (payload: unknown): Promise<PublishResponse> => {
    const response = await adminPost('/api/pubsub/publish', { topic: 'jobs', payload });
    expect(response.status).toBe(200);
    return PublishResponseSchema.parse(await response.json());
  };
  /** Index of each fake call whose last user message matches, in arrival order. */
  const callsMatching = (pattern: RegExp) =>
    h.fake.calls.flatMap((call, index) =>
      pattern.test(call.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '') ? [index] : [],
    );
  const drained = (name: string) =>
    until(
      async () => ((await agent(name)).lane.queued + (await agent(name)).lane.inflight === 0 ? true : null),
      `${name}'s lane to drain`,
    );

  beforeAll(async () => {
    h = await startHarness({
      agentsYaml:
        'agents:\n  worker:\n    role: works jobs\n    subscriptions: [jobs]\n  sender:\n    role: sends\n  fragile:\n    role: breaks\n',
      permissionsYaml: PERMISSIONS,
      meshYaml: (port) =>
        `mesh:\n  host: 127.0.0.1\n  port: ${port}\n  lane_depth_cap: 3\n  health: { interval_ms: 200, failed_checks: 2, max_restarts_per_hour: 2 }\nllm:\n  default_model: openai/gpt-4o-mini\n  providers:\n    openai: {}\n`,
    });
    adminToken = readFileSync(join(h.project.dir, '.legion', 'admin.token'), 'utf8').trim();
  });
  afterAll(async () => h?.close());

  it('runs a chat after the lane item in flight and before the ones queued earlier', async () => {
    h.fake.script({ tool_calls: [{ name: 'exec', arguments: { command: 'sleep 5' } }] });
    const first = await publish({ job: 'first' });
    const running = await until(async () => (await agent('worker')).lane.running, 'the first event to be in flight');
    expect(running).toMatchObject({ kind: 'event' });
    const second = await publish({ job: 'second' });

    const status = await legion(['status'], h.project.dir);
    expect(status.stdout).toMatch(
      /worker\s+healthy \(busy\)\s+running\s+1 queued \(cap 3\), running event dlv_\S+ since \d\d:\d\d:\d\d \(\d+s\)\s+0\s/,
    );

    const chat = h.say('worker', 'hello from a person');
    await until(async () => ((await agent('worker')).lane.queued === 2 ? true : null), 'the chat to queue');
    expect(callsMatching(/hello from a person/)).toEqual([]);
    expect(await chat).toBe('echo: hello from a person');
    await until(async () => callsMatching(new RegExp(second.event_id)).length > 0, 'the second event to be delivered');

    const firstCalls = callsMatching(new RegExp(first.event_id));
    const chatCalls = callsMatching(/hello from a person/);
    const secondCalls = callsMatching(new RegExp(second.event_id));
    expect(firstCalls).toHaveLength(2); // the exec call and the answer after its result
    expect(Math.max(...firstCalls)).toBeLessThan(chatCalls[0] ?? -1);
    expect(chatCalls[0]).toBeLessThan(secondCalls[0] ?? -1);
    await drained('worker');
  });

  it('refuses a chat, a message and a delivery with lane_full once the lane holds the cap', async () => {
    h.fake.script({ tool_calls: [{ name: 'exec', arguments: { command: 'sleep 5' } }] });
    await publish({ job: 'long' });
    await until(async () => (await agent('worker')).lane.running, 'the long event to be in flight');
    await publish({ job: 'queued-1' });
    await publish({ job: 'queued-2' });
    expect((await agent('worker')).lane).toMatchObject({ queued: 2, inflight: 1, cap: 3 });

    const chat = await adminPost('/api/agents/worker/chat', { message: 'are you free?' });
    expect(chat.status).toBe(429);
    const chatError = ((await chat.json()) as { error: { code: string; message: string } }).error;
    expect(chatError.code).toBe('lane_full');
    expect(chatError.message).toMatch(
      /lane of agent worker is full: 3 items queued or running, the cap is 3 \(mesh\.lane_depth_cap/,
    );

    const refused = await publish({ job: 'one too many' });
    expect(refused.deliveries).toBe(0);
    expect(refused.refused).toEqual([
      { agent: 'worker', reason: expect.stringMatching(/lane of agent worker is full/) },
    ]);

    const senderToken = h.runtime.launches.get('sender')?.secrets.mesh_token ?? '';
    const message = await fetch(`${h.mesh.agentApiUrl}/mesh/messages/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${senderToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agent: 'worker', message: 'ping' }),
    });
    expect(message.status).toBe(429);
    expect(((await message.json()) as { error: { code: string } }).error.code).toBe('lane_full');

    const logs = await legion(['logs', '--agent', 'worker'], h.project.dir);
    expect(logs.stdout).toMatch(/worker\s+delivery_refused\s+jobs/);
    await drained('worker');
  });

  it('restarts a killed agent with its data, and hands it the item it was handling again', async () => {
    expect(await h.say('worker', 'call write_file {"path":"keep.txt","content":"still here"}')).toMatch(
      /wrote 10 bytes/,
    );
    h.fake.script({ tool_calls: [{ name: 'exec', arguments: { command: 'sleep 30' } }] });
    const crash = await publish({ job: 'crash' });
    await until(async () => callsMatching(new RegExp(crash.event_id)).length === 1, 'the event to reach the agent');
    const before = await agent('worker');
    expect(before.lane.running).toMatchObject({ kind: 'event' });

    await h.runtime.kill('worker');
    const after = await until(async () => {
      const now = await agent('worker');
      return now.health === 'healthy' && now.restarts === 1 && now.container?.id !== before.container?.id ? now : null;
    }, 'the agent to be restarted and healthy');
    expect(after.last_error).toBe('restarted: its container is exited');

    await until(
      async () => callsMatching(new RegExp(crash.event_id)).length === 2,
      'the event to be handed over again',
    );
    await drained('worker');
    expect(await h.say('worker', 'call read_file {"path":"keep.txt"}')).toContain('still here');
  });

  it('marks an agent failed with the reason once it used up its restarts for the hour', async () => {
    for (const restarts of [1, 2]) {
      const before = await agent('fragile');
      await h.runtime.kill('fragile');
      await until(async () => {
        const now = await agent('fragile');
        return now.health === 'healthy' && now.restarts === restarts && now.container?.id !== before.container?.id
          ? true
          : null;
      }, `restart ${restarts}`);
    }
    await h.runtime.kill('fragile');
    const failed = await until(async () => {
      const now = await agent('fragile');
      return now.health === 'failed' ? now : null;
    }, 'the agent to be marked failed');
    expect(failed.restarts).toBe(2);
    expect(failed.last_error).toBe(
      'gave up after 2 restarts within an hour (mesh.health.max_restarts_per_hour is 2); last problem: its container is exited',
    );

    await expect(h.client.chat('fragile', 'hello?', () => undefined)).rejects.toThrow(
      /agent fragile is not running \(failed: gave up after 2 restarts/,
    );
    const status = await legion(['status'], h.project.dir);
    expect(status.stdout).toMatch(/fragile\s+failed\s+exited\s+0 queued \(cap 3\)\s+2\s/);
    expect(status.stdout).toContain('fragile: last error: gave up after 2 restarts within an hour');
  });
});
