// `legion chat <agent> --history` through a real mesh, real agent processes and the
// fake provider: chat, webhook, cron and pub/sub turns and a failed chat turn, each
// with what it was asked and where it came from; keyset paging; 400s and 404s from the
// admin API; the CLI's listing (newest last) and --json; and the history still read
// once the agent has stopped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legion } from '../helpers/project.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';
import { eventually } from '../helpers/triggers.js';
import { HistoryPageSchema, type HistoryTurn } from '../../src/shared/wire/history.js';
import { PublishResponseSchema } from '../../src/shared/wire/fleet.js';
import type { LegionError } from '../../src/shared/errors.js';

const AGENTS = `agents:
  keeper:
    role: keeps watch
    subscriptions: [alerts]
  other:
    role: unrelated
`;

const PERMISSIONS = `default:
  allowed_apis: [llm]
agents:
  keeper:
    allowed_apis: [llm]
    can_subscribe: [alerts]
`;

describe('chat --history', () => {
  let h: Harness;
  const history = (query = '') => h.client.requestJson('GET', `/api/agents/keeper/history${query}`, HistoryPageSchema);
  /** The refusal of a request the mesh turns down: status, code and message. */
  const refusal = async (path: string) => {
    try {
      await h.client.requestJson('GET', path, HistoryPageSchema);
    } catch (err) {
      return err as LegionError;
    }
    throw new Error(`${path} was not refused`);
  };

  beforeAll(async () => {
    h = await startHarness({ agentsYaml: AGENTS, permissionsYaml: PERMISSIONS });
  });
  afterAll(async () => h?.close());

  it('lists turns of every origin with their inputs, origins and states, newest first', async () => {
    expect(await h.say('keeper', 'hello keeper, first turn')).toContain('hello keeper, first turn');

    h.fake.script({ error: { status: 400, message: 'scripted refusal of this turn' } });
    const failed = await h.client.chat('keeper', 'this turn fails', () => undefined);
    expect(failed.type).toBe('error');

    const added = await legion(
      ['webhook', 'add', 'deploys', '--agent', 'keeper', '--message', 'deploy finished: {payload.note}'],
      h.project.dir,
    );
    expect(added.code).toBe(0);
    const tested = await legion(['webhook', 'test', 'deploys', '--payload', '{"note":"v1.2 is live"}'], h.project.dir);
    expect(tested.code).toBe(0);

    const published = await h.client.requestJson('POST', '/api/pubsub/publish', PublishResponseSchema, {
      topic: 'alerts',
      payload: { level: 'high', what: 'disk full' },
    });
    expect(published.deliveries).toBe(1);

    const cron = await legion(['cron', 'add', 'keeper', 'every 1s', 'nightly report please'], h.project.dir);
    expect(cron.code).toBe(0);
    const cronId = cron.stdout.trim().split('\n').at(-1) ?? '';
    const turns = await eventually(async () => {
      const page = await history('?limit=50');
      const done = (kind: string) => page.turns.some((t) => t.origin.kind === kind && t.state === 'done');
      return done('cron') && done('event') && done('webhook') ? page.turns : null;
    }, 'cron, pub/sub and webhook turns to be done');
    expect((await legion(['cron', 'remove', cronId], h.project.dir)).code).toBe(0);

    const find = (kind: string, input: RegExp): HistoryTurn => {
      const turn = turns.find((t) => t.origin.kind === kind && t.input !== null && input.test(t.input));
      if (!turn) throw new Error(`no ${kind} turn asking ${input} in ${JSON.stringify(turns, null, 2)}`);
      return turn;
    };
    expect(find('chat', /^hello keeper, first turn$/)).toMatchObject({
      origin: { source: null },
      state: 'done',
      error: null,
      reply: expect.stringContaining('hello keeper, first turn'),
    });
    expect(find('chat', /^this turn fails$/)).toMatchObject({
      state: 'failed',
      reply: null,
      error: expect.stringContaining('scripted refusal of this turn'),
    });
    expect(find('webhook', /deploy finished: v1\.2 is live/)).toMatchObject({
      origin: { source: 'deploys' },
      state: 'done',
      reply: expect.stringContaining('deploy finished: v1.2 is live'),
    });
    expect(find('event', /"what":"disk full"/)).toMatchObject({
      origin: { source: 'alerts from operator' },
      state: 'done',
    });
    expect(find('cron', /^nightly report please$/)).toMatchObject({
      origin: { source: expect.stringContaining(`job ${cronId} (every 1s)`) },
      state: 'done',
    });
    // Newest first.
    const times = turns.map((t) => t.created_at);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('pages by keyset: each page older than the last, none twice, the last page says so', async () => {
    const all = (await history('?limit=200')).turns.map((t) => t.id);
    expect(all.length).toBeGreaterThanOrEqual(5);
    const seen: string[] = [];
    let before: number | null = null;
    for (;;) {
      const page = await history(`?limit=2${before === null ? '' : `&before=${before}`}`);
      seen.push(...page.turns.map((t) => t.id));
      if (page.next_before === null) break;
      expect(page.turns).toHaveLength(2);
      before = page.next_before;
    }
    expect(seen).toEqual(all);
  });

  it('answers a bad limit or cursor with a 400 naming it, and an unknown agent with a 404 naming it', async () => {
    for (const query of ['limit=0', 'limit=201', 'limit=abc', 'before=-1', 'before=1e3', 'since=3']) {
      const refused = await refusal(`/api/agents/keeper/history?${query}`);
      expect(refused.status, query).toBe(400);
      expect(refused.message, query).toContain(query.split('=')[0]);
    }
    const unknown = await refusal('/api/agents/nobody/history');
    expect(unknown).toMatchObject({ status: 404, code: 'unknown_agent', message: expect.stringContaining('"nobody"') });
    expect(await history('?limit=1').then((p) => p.turns.length)).toBe(1);
    expect((await h.client.requestJson('GET', '/api/agents/other/history', HistoryPageSchema)).turns).toEqual([]);
  });

  it('prints the history from the CLI, newest last, and as JSON; refuses bad flags', async () => {
    const listed = await legion(['chat', 'keeper', '--history', '--limit', '50'], h.project.dir);
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    expect(listed.stdout).toMatch(
      /chat · done\n {2}asked: hello keeper, first turn\n {2}reply: .*hello keeper, first turn/,
    );
    expect(listed.stdout).toMatch(/chat · failed: .*scripted refusal of this turn\n {2}asked: this turn fails/);
    expect(listed.stdout).toMatch(/webhook deploys · done\n {2}asked: deploy finished: v1\.2 is live/);
    expect(listed.stdout).toMatch(
      /pub\/sub alerts from operator · done\n {2}asked: \{"level":"high","what":"disk full"\}/,
    );
    expect(listed.stdout).toMatch(/cron job cron_\S+ \(every 1s\) · done\n {2}asked: nightly report please/);
    // Oldest first on screen: the first chat comes before the failed one.
    expect(listed.stdout.indexOf('hello keeper, first turn')).toBeLessThan(listed.stdout.indexOf('this turn fails'));

    const paged = await legion(['chat', 'keeper', '--history', '--limit', '1'], h.project.dir);
    expect(paged.stdout).toMatch(/^\(older turns: legion chat keeper --history --before \d+\)\n/);

    const json = await legion(['chat', 'keeper', '--history', '--json', '--limit', '3'], h.project.dir);
    expect(json.code).toBe(0);
    expect(HistoryPageSchema.parse(JSON.parse(json.stdout)).turns).toHaveLength(3);

    const bad = await legion(['chat', 'keeper', '--history', '--limit', '0'], h.project.dir);
    expect(bad).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('--limit "0": expected a whole number from 1 to 200'),
    });
    const clash = await legion(['chat', 'keeper', '--history', '-m', 'hi'], h.project.dir);
    expect(clash).toMatchObject({ code: 1, stderr: expect.stringContaining('-m cannot be used with --history') });
    const unknown = await legion(['chat', 'nobody', '--history'], h.project.dir);
    expect(unknown).toMatchObject({ code: 1, stderr: expect.stringContaining('no agent named "nobody"') });
  });

  it('reads the history of an agent that no longer runs (removed from the fleet)', async () => {
    await h.client.removeAgent('keeper');
    const listed = await legion(['chat', 'keeper', '--history'], h.project.dir);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('asked: hello keeper, first turn');
  });
});
