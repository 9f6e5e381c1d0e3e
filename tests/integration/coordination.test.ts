// Fleet coordination through the real mesh: blackboard hand-over between two agents,
// permission denials the model can read, pub/sub and messages waking an agent on its
// lane, artifacts, hot-reloaded permissions, and the CLI reading it all back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventListSchema } from '../../src/shared/wire/events.js';
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { runRepl } from '../../src/cli/repl.js';
import { CLI, legion } from '../helpers/project.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';

const PERMISSIONS = `default:
  allowed_apis: [llm]
agents:
  researcher:
    can_message: [qualifier]
    can_publish: [research_complete]
    blackboard_read: ["context/*"]
    blackboard_write: ["context/prospect_*"]
    allowed_apis: [llm]
  qualifier:
    can_subscribe: [research_complete, "new_*"]
    blackboard_read: ["context/*", "artifacts/**"]
    blackboard_write: ["agents/qualifier/*"]
    allowed_apis: [llm]
`;

/** Polls `probe` until it returns a value (the permission watcher reloads within ~100 ms). */
async function eventually<T>(probe: () => Promise<T | null>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('fleet coordination', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      agentsYaml:
        'agents:\n  researcher:\n    role: research\n  qualifier:\n    role: qualify leads\n    subscriptions: [research_complete]\n  scout:\n    role: unlisted\n',
      permissionsYaml: PERMISSIONS,
    });
  });
  afterAll(async () => h?.close());

  it('hands a value over the blackboard: A writes, B reads value and version', async () => {
    const wrote = await h.say(
      'researcher',
      'call write_shared_state {"key":"context/prospect_acme","value":{"name":"Acme","score":87}}',
    );
    expect(wrote).toContain('wrote context/prospect_acme at version 1');
    const read = await h.say('qualifier', 'call read_shared_state {"key":"context/prospect_acme"}');
    expect(read).toMatch(/"value": \{\s+"name": "Acme",\s+"score": 87\s+\}/);
    expect(read).toMatch(/"version": 1/);
    expect(read).toMatch(/"writer": "researcher"/);
  });

  it('shows the model the rule that denied a write, and records the denial', async () => {
    const denied = await h.say('qualifier', 'call write_shared_state {"key":"context/verdict","value":"hot"}');
    expect(denied).toContain('qualifier may not write context/verdict: blackboard_write is ["agents/qualifier/*"]');
    const events = await h.client.requestJson('GET', '/api/events?agent=qualifier&limit=50', EventListSchema);
    expect(events.events).toContainEqual(expect.objectContaining({ kind: 'denied', subject: 'context/verdict' }));
  });

  it('refuses the LLM to an agent without allowed_apis: llm', async () => {
    h.writePermissions(PERMISSIONS.replace('default:\n  allowed_apis: [llm]\n', 'default:\n  allowed_apis: []\n'));
    const denied = await eventually(async () => {
      const last = await h.client.chat('scout', 'hello', () => undefined);
      return last.type === 'error' ? last.error.message : null;
    });
    expect(denied).toContain('scout may not use the API llm: allowed_apis is [] (default entry)');
    h.writePermissions(PERMISSIONS);
    expect(
      await eventually(async () =>
        (await h.client.chat('scout', 'back?', () => undefined)).type === 'done' ? 'ok' : null,
      ),
    ).toBe('ok');
  });

  it('wakes a config subscriber with the payload of a publish', async () => {
    const published = await h.say(
      'researcher',
      'call publish_event {"topic":"research_complete","payload":{"lead":"acme-corp"}}',
    );
    expect(published).toMatch(/published evt_\S+ on research_complete to 1 subscriber/);
    const call = await h.waitForCall(
      'qualifier',
      /\[event research_complete · id evt_\S+ · published by researcher\][\s\S]*acme-corp/,
    );
    expect(call).toBeDefined();
  });

  it('refuses a publish outside can_publish with the rule', async () => {
    const denied = await h.say('researcher', 'call publish_event {"topic":"secrets","payload":1}');
    expect(denied).toContain('researcher may not publish to secrets: can_publish is ["research_complete"]');
  });

  it("subscribes at runtime, within can_subscribe, and is woken by the operator's publish", async () => {
    expect(await h.say('qualifier', 'call subscribe_event {"topic":"new_lead"}')).toContain('subscribed to new_lead');
    expect(await h.say('qualifier', 'call subscribe_event {"topic":"payroll"}')).toContain(
      'qualifier may not subscribe to payroll',
    );
    const adminToken = readFileSync(join(h.project.dir, '.legion', 'admin.token'), 'utf8').trim();
    const response = await fetch(`${h.client.baseUrl}/api/pubsub/publish`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ topic: 'new_lead', payload: { company: 'Globex' } }),
    });
    expect(await response.json()).toMatchObject({ topic: 'new_lead', deliveries: 1 });
    await h.waitForCall('qualifier', /\[event new_lead[\s\S]*Globex/);
  });

  it('routes a message to an allowed agent and wakes it; refuses one that is not allowed', async () => {
    const sent = await h.say(
      'researcher',
      'call send_message {"agent":"qualifier","message":"please qualify acme today"}',
    );
    expect(sent).toMatch(/message msg_\S+ queued for qualifier \(delivery msgd_\S+\)/);
    await h.waitForCall('qualifier', /\[message from researcher · id msg_\S+\]\nplease qualify acme today/);
    expect(await h.say('qualifier', 'call send_message {"agent":"researcher","message":"hi"}')).toContain(
      'qualifier may not message researcher: can_message is []',
    );
    expect(await h.say('researcher', 'call send_message {"agent":"ghost","message":"hi"}')).toContain(
      'no agent named "ghost"',
    );
  });

  it('saves an artifact to /data/artifacts and registers it on the blackboard', async () => {
    const saved = await h.say(
      'researcher',
      'call save_artifact {"name":"reports/acme.md","content":"# Acme\\nGood fit."}',
    );
    expect(saved).toMatch(/registered as artifacts\/researcher\/reports\/acme\.md version 1/);
    expect(readFileSync(join(h.runtime.dataDir('researcher'), 'artifacts', 'reports', 'acme.md'), 'utf8')).toBe(
      '# Acme\nGood fit.',
    );
    const read = await h.say('qualifier', 'call read_shared_state {"key":"artifacts/researcher/reports/acme.md"}');
    expect(read).toMatch(/"path": "\/data\/artifacts\/reports\/acme\.md"/);
    expect(read).toMatch(/"size": 16/);
  });

  it('lists the fleet for list_agents', async () => {
    const listed = await h.say('scout', 'call list_agents {}');
    expect(listed).toMatch(/"name": "qualifier",\s+"role": "qualify leads",\s+"health": "healthy"/);
  });

  it('applies an edited permissions file without a restart, and keeps the old rules on an invalid edit', async () => {
    h.writePermissions(
      PERMISSIONS.replace(
        'blackboard_write: ["agents/qualifier/*"]',
        'blackboard_write: ["agents/qualifier/*", "context/verdict"]',
      ),
    );
    const deadline = Date.now() + 5000;
    let reply = '';
    while (Date.now() < deadline) {
      reply = await h.say('qualifier', 'call write_shared_state {"key":"context/verdict","value":"hot"}');
      if (reply.includes('wrote context/verdict')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(reply).toContain('wrote context/verdict at version 1');

    h.writePermissions('agents:\n  qualifier:\n    blackboard_writes: []\n');
    const status = async () => (await h.client.status()).permissions;
    while ((await status()).last_error === null && Date.now() < deadline + 5000)
      await new Promise((r) => setTimeout(r, 50));
    expect((await status()).last_error).toMatch(
      /config\/permissions\.yaml: agents\.qualifier: unknown key "blackboard_writes"/,
    );
    expect(await h.say('qualifier', 'call write_shared_state {"key":"context/verdict","value":"warm"}')).toContain(
      'wrote context/verdict at version 2',
    );
    h.writePermissions(PERMISSIONS);
  });

  it('shows the event log and the blackboard through the CLI', async () => {
    const logs = await legion(['logs', '--agent', 'researcher', '-n', '200'], h.project.dir);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/researcher\s+blackboard_write\s+context\/prospect_acme/);
    expect(logs.stdout).toMatch(/researcher\s+publish\s+research_complete/);
    expect(logs.stdout).toMatch(/researcher\s+message\s+qualifier/);
    const get = await legion(['blackboard', 'get', 'context/prospect_acme'], h.project.dir);
    expect(get.code).toBe(0);
    expect(JSON.parse(get.stdout)).toEqual({ name: 'Acme', score: 87 });
    const status = await legion(['status'], h.project.dir);
    expect(status.stdout).toMatch(/qualifier\s+healthy\s+\S+\s+0 queued/);
    expect(existsSync(join(h.project.dir, '.legion', 'mesh.db'))).toBe(true);
  });

  it('broadcasts from the REPL: every agent answers, each reply labelled', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let screen = '';
    output.on('data', (d: Buffer) => (screen += d.toString()));
    const repl = runRepl({ client: h.client, mode: 'attach', agent: 'researcher', input, output });
    input.write('/broadcast status check, everyone\n');
    await eventually(async () =>
      /\[scout\] /.test(screen) && /\[qualifier\] /.test(screen) && /\[researcher\] /.test(screen) ? true : null,
    );
    for (const agent of ['researcher', 'qualifier', 'scout'])
      expect(screen).toContain(`[${agent}] echo: status check, everyone`);
    input.write('/quit\n');
    await repl;
  });

  it('follows the event log as it grows', async () => {
    const follower = spawn(process.execPath, [CLI, 'logs', '--follow', '-n', '1'], { cwd: h.project.dir });
    let out = '';
    follower.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await eventually(async () => (out.length > 0 ? true : null));
      await h.say('researcher', 'call write_shared_state {"key":"context/prospect_followed","value":1}');
      await eventually(async () => (/blackboard_write\s+context\/prospect_followed/.test(out) ? true : null));
    } finally {
      follower.kill();
    }
  });
});
