// Heartbeats through the real mesh, real agent processes and the fake provider: beats
// that find nothing cost no LLM request at all; a probe that fires runs exactly one
// turn; a HEARTBEAT_OK reply is recorded but never shown in `legion logs`, any other
// reply is; workspace probes read the agent server's report, and the agent's own turn
// (its daily log) does not wake it again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { directiveResponder, type FakeCall } from '../fakes/fake-provider.js';
import { legion } from '../helpers/project.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';
import { HeartbeatStatusSchema, type Beat } from '../../src/shared/wire/heartbeat.js';
import { BlackboardWriteResultSchema } from '../../src/shared/wire/blackboard.js';

const AGENTS = `agents:
  sleeper:
    role: sleeps until something happens
    heartbeat:
      every: 1s
      probes: [pending_deliveries, queued_items, { blackboard_changed: { prefix: signals/ } }]
  keeper:
    role: keeps the workspace
    heartbeat:
      every: 1s
      probes: [workspace_changed, heartbeat_rules]
`;

// Changes count only under keys the agent may read: sleeper reads signals/.
const PERMISSIONS = `default:
  allowed_apis: [llm]
agents:
  sleeper:
    allowed_apis: [llm]
    blackboard_read: ["signals/**"]
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(probe: () => Promise<T | null> | T | null, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('heartbeat', () => {
  let h: Harness;
  const callsOf = (agent: string): FakeCall[] =>
    h.fake.calls.filter((c) =>
      c.messages.some((m) => m.role === 'system' && m.content.startsWith(`You are ${agent},`)),
    );
  const beats = async (agent: string): Promise<Beat[]> =>
    (await h.client.requestJson('GET', `/api/heartbeat?agent=${agent}&limit=200`, HeartbeatStatusSchema)).beats;
  const writeSignal = (key: string) =>
    h.client.requestJson('PUT', `/api/blackboard/entries/${key}`, BlackboardWriteResultSchema, {
      value: { at: Date.now() },
    });

  beforeAll(async () => {
    h = await startHarness({ agentsYaml: AGENTS, permissionsYaml: PERMISSIONS });
  });
  afterAll(async () => h?.close());

  it('sends no request to the provider across several beats that find nothing', async () => {
    await until(async () => ((await beats('sleeper')).length >= 1 ? true : null), 'a first beat');
    const before = (await beats('sleeper')).length;
    await sleep(3500);
    const all = await beats('sleeper');
    const recent = all.slice(0, all.length - before);
    expect(recent.length).toBeGreaterThanOrEqual(3);
    expect(recent.every((b) => b.outcome === 'quiet' && b.lane_item === null)).toBe(true);
    expect(callsOf('sleeper')).toEqual([]);
  });

  it('runs exactly one turn when a probe fires, with the findings, and shows the reply in legion logs', async () => {
    // A change counts from the first beat that saw the agent running (its baseline).
    await until(
      async () => ((await beats('sleeper')).some((b) => b.outcome === 'quiet') ? true : null),
      'a quiet beat of sleeper',
    );
    await writeSignal('signals/deploy');
    const woken = await until(
      async () => (await beats('sleeper')).find((b) => b.outcome === 'reported') ?? null,
      'the wake-up to be answered',
    );
    expect(woken.findings.find((f) => f.fired)).toEqual({
      probe: 'blackboard_changed signals/',
      fired: true,
      detail: '1 key changed under "signals/": signals/deploy',
    });
    expect(woken.reply).toMatch(
      /^echo: \[heartbeat hb_\S+ · id beat_\S+ · from mesh probes\]\nHeartbeat: these checks found something/,
    );
    expect(woken.calls).toBe(1);
    await sleep(2500);
    const calls = callsOf('sleeper');
    expect(calls).toHaveLength(1);
    expect(calls[0]?.messages.at(-1)?.content).toContain(
      '- blackboard_changed signals/: 1 key changed under "signals/": signals/deploy',
    );
    const logs = await legion(['logs', '--agent', 'sleeper', '-n', '200'], h.project.dir);
    expect(logs.stderr).toBe('');
    expect(logs.stdout).toMatch(new RegExp(`sleeper\\s+heartbeat_wake\\s+${woken.id}`));
    expect(logs.stdout).toMatch(new RegExp(`sleeper\\s+heartbeat_reply\\s+${woken.id} .*echo: \\[heartbeat`));
  });

  it('records HEARTBEAT_OK as ok and keeps it out of legion logs', async () => {
    h.fake.respondWith((call) =>
      /^\[heartbeat /.test(call.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '')
        ? { text: 'HEARTBEAT_OK' }
        : directiveResponder(call),
    );
    try {
      await writeSignal('signals/rollback');
      const ok = await until(
        async () => (await beats('sleeper')).find((b) => b.outcome === 'ok') ?? null,
        'an ok beat',
      );
      expect(ok).toMatchObject({ reply: null, calls: 1 });
      expect(callsOf('sleeper')).toHaveLength(2);
      const logs = await legion(['logs', '--agent', 'sleeper', '-n', '500'], h.project.dir);
      expect(logs.stdout).toMatch(new RegExp(`heartbeat_wake\\s+${ok.id}`));
      // (The earlier wake-up's echoed prompt mentions HEARTBEAT_OK; this beat's lines must not.)
      const lines = logs.stdout
        .split('\n')
        .filter((line) => line.includes(ok.id) || (ok.lane_item !== null && line.includes(ok.lane_item)));
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.filter((line) => line.includes('HEARTBEAT_OK'))).toEqual([]);
      expect(logs.stdout).not.toMatch(new RegExp(`heartbeat_reply\\s+${ok.id}`));
      const listed = await legion(['heartbeat', '--agent', 'sleeper', '-n', '200'], h.project.dir);
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(
        /sleeper\s+1s\s+\["pending_deliveries","queued_items",\{"blackboard_changed":\{"prefix":"signals\/"\}\}\]\s+config/,
      );
      expect(listed.stdout).toMatch(
        new RegExp(`${ok.id}\\s+sleeper\\s+\\S+\\s+ok\\s+blackboard_changed signals/\\s+\\$`),
      );
    } finally {
      h.fake.respondWith(directiveResponder);
    }
  });

  it('wakes on a file dropped into the workspace, once, and not for its own daily log', async () => {
    await until(
      async () => ((await beats('keeper')).some((b) => b.outcome === 'quiet') ? true : null),
      'a quiet beat of keeper',
    );
    const workspace = join(h.runtime.dataDir('keeper'), 'workspace');
    mkdirSync(join(workspace, 'inbox'), { recursive: true });
    writeFileSync(join(workspace, 'inbox', 'order-17.txt'), 'two crates');
    const woken = await until(
      async () => (await beats('keeper')).find((b) => b.outcome === 'reported') ?? null,
      'keeper to be woken',
    );
    expect(woken.findings.filter((f) => f.fired)).toEqual([
      { probe: 'workspace_changed', fired: true, detail: 'workspace files added inbox/order-17.txt' },
    ]);
    await sleep(3000);
    expect(callsOf('keeper')).toHaveLength(1);
  });

  it('wakes for HEARTBEAT.md rules and sends their text along', async () => {
    writeFileSync(
      join(h.runtime.dataDir('keeper'), 'workspace', 'HEARTBEAT.md'),
      '# HEARTBEAT.md\n<!-- rules below -->\n- Count the files in inbox/.\n',
    );
    await until(() => (callsOf('keeper').length >= 2 ? true : null), 'a wake-up for the rules');
    const text = callsOf('keeper')[1]?.messages.at(-1)?.content ?? '';
    expect(text).toContain('- heartbeat_rules: HEARTBEAT.md holds 1 rule line');
    expect(text).toContain('Your HEARTBEAT.md:\n# HEARTBEAT.md\n<!-- rules below -->\n- Count the files in inbox/.');
  });
});
