// Cron through the real mesh, real agent processes and the fake provider: the cron and
// heartbeat tools as a model calls them, with and without can_manage_cron (denied with
// the rule), an agent confined to its own jobs, bad schedules answered with the
// problem, and the CLI (`cron add` prints the id last, list, run, remove).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { runRepl } from '../../src/cli/repl.js';
import { legion } from '../helpers/project.js';
import { waitFor } from '../helpers/wait.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';
import { CronJobListSchema } from '../../src/shared/wire/cron.js';
import { EventListSchema } from '../../src/shared/wire/events.js';

const AGENTS = `agents:
  clock:
    role: keeps time
  plain:
    role: no scheduling rights
`;

const PERMISSIONS = `default:
  allowed_apis: [llm]
agents:
  clock:
    allowed_apis: [llm]
    can_manage_cron: true
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('cron', () => {
  let h: Harness;
  /** Calls of turns the cron job started: their last user message is the lane item's text. */
  const cronCalls = (message: string) =>
    h.fake.calls.filter((c) => {
      const text = c.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
      return (
        c.messages.some((m) => m.role === 'system' && m.content.startsWith('You are clock,')) &&
        text.startsWith('[cron job ') &&
        text.includes(message)
      );
    });
  const cronTurns = (message: string) => cronCalls(message).length;

  beforeAll(async () => {
    h = await startHarness({ agentsYaml: AGENTS, permissionsYaml: PERMISSIONS });
  });
  afterAll(async () => h?.close());

  it('lets an agent with can_manage_cron schedule, list and remove its own job, which fires on its lane', async () => {
    const set = await h.say('clock', 'call set_cron {"schedule":"every 1s","message":"tick from cron"}');
    const id = /scheduled cron job (cron_[\w-]+)/.exec(set)?.[1];
    expect(id).toBeDefined();
    expect(set).toContain('"every 1s" (UTC) → "tick from cron"');

    const deadline = Date.now() + 10_000;
    while (cronTurns('tick from cron') < 2 && Date.now() < deadline) await sleep(100);
    expect(cronTurns('tick from cron')).toBeGreaterThanOrEqual(2);
    // The reply to a cron job is in the event log, so `legion logs` shows it.
    const logs = await legion(['logs', '--agent', 'clock', '-n', '500'], h.project.dir);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/ clock +reply +cron \{"item":"[^"]+","text":"[^"]*tick from cron/);
    expect(cronCalls('tick from cron')[0]?.messages.at(-1)?.content).toMatch(
      new RegExp(`^\\[cron job ${id} \\(every 1s\\) · id cronr_\\S+ · from cron\\]\\ntick from cron`),
    );

    expect(await h.say('clock', 'call list_cron {}')).toContain(`${id}: "every 1s" (UTC)`);
    expect(await h.say('clock', `call remove_cron {"id":"${id}"}`)).toContain(`removed cron job ${id}`);
    // A firing queued before the removal may still be delivered; after that, nothing.
    await sleep(1500);
    const after = cronTurns('tick from cron');
    await sleep(2500);
    expect(cronTurns('tick from cron')).toBe(after);
    expect(await h.say('clock', 'call list_cron {}')).toContain('you have no cron jobs');
  });

  it("shows a cron job's reply in a running REPL as it happens, and its full text with /show", async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let screen = '';
    output.on('data', (chunk: Buffer) => (screen += chunk.toString()));
    const done = runRepl({
      client: h.client,
      mode: 'attach',
      agent: 'plain',
      input,
      output,
      projectDir: h.project.dir,
    });
    // The REPL is open before the job exists: what follows can only come from the job firing.
    await waitFor(() => (screen.includes('/help lists commands') ? true : null), 'the REPL to start');
    const added = await legion(['cron', 'add', 'clock', 'every 1s', 'repl tick'], h.project.dir);
    const id = added.stdout.trim().split('\n').at(-1) ?? '';
    await waitFor(
      () => (/\[cron → clock\] echo: \[cron job [^\n]*\(\/show 1\)/.test(screen) ? true : null),
      'the cron reply in the REPL',
      15_000,
    );
    await legion(['cron', 'remove', id], h.project.dir);
    input.write('/show 1\n/quit\n');
    await done;
    expect(screen).toMatch(/\[cron → clock\]\necho: \[cron job [^\n]+\nrepl tick/);
  });

  it('answers a bad schedule or time zone with the problem', async () => {
    expect(await h.say('clock', 'call set_cron {"schedule":"* * *","message":"x"}')).toContain(
      'invalid schedule "* * *": expected 5 or 6 fields, "every <n>s|m|h|d" or "at <ISO time>"',
    );
    expect(await h.say('clock', 'call set_cron {"schedule":"0 9 * * MON","message":"x","tz":"Moon/Base"}')).toContain(
      'unknown time zone "Moon/Base"',
    );
  });

  it('denies every cron and heartbeat tool without can_manage_cron, naming the rule, and records the denial', async () => {
    const rule = 'plain may not manage cron jobs or its heartbeat: can_manage_cron is false (default entry)';
    expect(await h.say('plain', 'call set_cron {"schedule":"every 1m","message":"x"}')).toContain(rule);
    expect(await h.say('plain', 'call list_cron {}')).toContain(rule);
    expect(await h.say('plain', 'call set_heartbeat {"every":"5m"}')).toContain(rule);
    const events = await h.client.requestJson('GET', '/api/events?agent=plain&limit=100', EventListSchema);
    expect(events.events).toContainEqual(
      expect.objectContaining({ kind: 'denied', detail: expect.objectContaining({ permission: 'can_manage_cron' }) }),
    );
    const { jobs } = await h.client.requestJson('GET', '/api/cron/jobs?agent=plain', CronJobListSchema);
    expect(jobs).toEqual([]);
  });

  it('keeps an agent away from jobs that are not its own', async () => {
    const added = await legion(['cron', 'add', 'plain', '0 9 * * *', 'standup'], h.project.dir);
    expect(added.stderr).toBe('');
    const id = added.stdout.trim().split('\n').at(-1) ?? '';
    expect(await h.say('clock', `call remove_cron {"id":"${id}"}`)).toContain(`clock has no cron job ${id}`);
    expect(await h.say('clock', 'call list_cron {}')).not.toContain(id);
    expect((await legion(['cron', 'remove', id], h.project.dir)).stdout).toBe(`removed cron job ${id}\n`);
  });

  it("sets the agent's heartbeat with set_heartbeat", async () => {
    expect(
      await h.say('clock', 'call set_heartbeat {"every":"10m","probes":[{"blackboard_changed":{"prefix":"tasks/"}}]}'),
    ).toMatch(/heartbeat every 10m, probes \[\{"blackboard_changed":\{"prefix":"tasks\/"\}\}\]; next beat 20\d\d-/);
    expect(await h.say('clock', 'call set_heartbeat {"every":"off"}')).toContain('heartbeat off');
  });

  it('adds, lists, runs and removes jobs from the CLI; add prints the id as its last line', async () => {
    const added = await legion(
      ['cron', 'add', 'clock', '0 9 * * MON-FRI', 'morning report', '--tz', 'Europe/Berlin', '--missed', 'skip'],
      h.project.dir,
    );
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const lines = added.stdout.trimEnd().split('\n');
    const id = lines.at(-1) ?? '';
    expect(id).toMatch(/^cron_[\w-]+$/);
    expect(lines[0]).toMatch(/^added a cron job for clock: "0 9 \* \* MON-FRI" \(Europe\/Berlin\), next run 20\d\d-/);

    const list = await legion(['cron', 'list', '--agent', 'clock'], h.project.dir);
    expect(list.stdout).toMatch(/^ID\s+AGENT\s+SCHEDULE\s+TZ\s+NEXT RUN\s+LAST RUN\s+LAST STATUS/);
    expect(list.stdout).toMatch(
      new RegExp(`${id}\\s+clock\\s+0 9 \\* \\* MON-FRI\\s+Europe/Berlin\\s+20\\d\\d-\\S+\\s+-\\s+-`),
    );

    const run = await legion(['cron', 'run', id], h.project.dir);
    expect(run.stdout).toMatch(new RegExp(`^fired ${id}: run crun_\\S+ queued for clock \\(lane item cronr_\\S+\\)`));
    await h.waitForCall('clock', /morning report/);
    const runs = await legion(['cron', 'runs', id], h.project.dir);
    expect(runs.stdout).toMatch(/crun_\S+\s+manual\s+\S+\s+(pending|ok)/);
    expect((await legion(['cron', 'remove', id], h.project.dir)).stdout).toBe(`removed cron job ${id}\n`);
    expect((await legion(['cron', 'remove', id], h.project.dir)).stderr).toBe(`error: no cron job ${id}\n`);
  });

  it('refuses bad schedules and unknown agents from the CLI with the problem', async () => {
    const bad = await legion(['cron', 'add', 'clock', '* * *', 'x'], h.project.dir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      'error: invalid schedule "* * *": expected 5 or 6 fields, "every <n>s|m|h|d" or "at <ISO time>"\n',
    );
    const unknown = await legion(['cron', 'add', 'ghost', 'every 1m', 'x'], h.project.dir);
    expect(unknown.stderr).toMatch(/no agent named "ghost"/);
  });
});
