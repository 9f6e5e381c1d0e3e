// The cron scheduler over a real mesh.db in a temp dir, a real lane store and a clock
// the test moves: due jobs fire onto the lane, a job never runs twice at once, runs
// missed while the mesh was down run once at start-up (or are skipped when the job
// says so), one-shots fire once, and runs settle from their lane items.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openMeshDb, type Db } from '../../src/mesh/db.js';
import { EventLog, eventsMigrations } from '../../src/mesh/events/log.js';
import { LaneStore, lanesMigrations } from '../../src/mesh/lanes/store.js';
import { TriggerBodySchema } from '../../src/mesh/lanes/format.js';
import { CronStore, cronMigrations } from '../../src/mesh/triggers/cron/store.js';
import { CronScheduler, MAX_AGENT_JOBS } from '../../src/mesh/triggers/cron/scheduler.js';
import { createLogger } from '../../src/shared/logging.js';
import { LegionError } from '../../src/shared/errors.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const silent = createLogger({}, { write: () => undefined });

let dir: string;
let db: Db;
let clock: number;
let lanes: LaneStore;
let events: EventLog;
let kicked: string[];

function scheduler(agents = ['ticker']): CronScheduler {
  return new CronScheduler({
    store: new CronStore(db),
    lanes,
    events,
    logger: silent,
    knownAgents: () => agents,
    onEnqueued: (agent) => kicked.push(agent),
    now: () => clock,
  });
}

/** The agent takes its next lane item and answers it (what the dispatcher does). */
function deliverNext(agent = 'ticker'): string {
  const item = lanes.claimNext(agent);
  if (!item) throw new Error('nothing queued');
  lanes.complete(item.id, 'done');
  return item.id;
}

function laneItems(): { id: string; kind: string; body: string; status: string; trace: string | null }[] {
  return db
    .prepare<[], { id: string; kind: string; body: string; status: string; trace: string | null }>(
      'SELECT id, kind, body, status, trace FROM lane_items ORDER BY seq',
    )
    .all();
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'legion-cron-'));
  db = openMeshDb(join(dir, 'mesh.db'), [...eventsMigrations, ...lanesMigrations, ...cronMigrations]);
  clock = T0;
  lanes = new LaneStore(db);
  events = new EventLog(db, silent);
  kicked = [];
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('adding jobs', () => {
  it('stores the job with its next run and refuses bad schedules and zones with a 400 naming the problem', () => {
    const cron = scheduler();
    const job = cron.add({
      agent: 'ticker',
      schedule: '*/5 * * * *',
      message: 'check the inbox',
      tz: 'Europe/Berlin',
      createdBy: 'operator',
    });
    expect(job).toMatchObject({
      agent: 'ticker',
      schedule: '*/5 * * * *',
      tz: 'Europe/Berlin',
      missed: 'run',
      enabled: true,
      next_run: '2030-01-01T00:05:00.000Z',
      last_run: null,
      last_status: null,
    });
    const refusal = (fn: () => unknown): LegionError => {
      try {
        fn();
      } catch (err) {
        if (err instanceof LegionError) return err;
        throw err;
      }
      throw new Error('expected a refusal');
    };
    const bad = refusal(() => cron.add({ agent: 'ticker', schedule: '* * *', message: 'x', createdBy: 'operator' }));
    expect(bad.status).toBe(400);
    expect(bad.message).toBe('invalid schedule "* * *": expected 5 or 6 fields, "every <n>s|m|h|d" or "at <ISO time>"');
    expect(
      refusal(() =>
        cron.add({ agent: 'ticker', schedule: '* * * * *', message: 'x', tz: 'Nowhere/Land', createdBy: 'operator' }),
      ).message,
    ).toMatch(/unknown time zone "Nowhere\/Land"/);
    expect(
      refusal(() =>
        cron.add({ agent: 'ticker', schedule: 'at 2020-01-01T00:00Z', message: 'x', createdBy: 'operator' }),
      ).message,
    ).toMatch(/that time has passed/);
    expect(cron.list()).toHaveLength(1);
  });

  it('stops an agent from adding more than MAX_AGENT_JOBS jobs; the operator is not limited', () => {
    const cron = scheduler();
    for (let i = 0; i < MAX_AGENT_JOBS; i += 1)
      cron.add({ agent: 'ticker', schedule: 'every 1h', message: `job ${i}`, createdBy: 'agent' });
    expect(() => cron.add({ agent: 'ticker', schedule: 'every 1h', message: 'one more', createdBy: 'agent' })).toThrow(
      `ticker already has ${MAX_AGENT_JOBS} cron jobs`,
    );
    expect(
      cron.add({ agent: 'ticker', schedule: 'every 1h', message: 'operator', createdBy: 'operator' }).created_by,
    ).toBe('operator');
  });
});

describe('firing', () => {
  it('enqueues a cron lane item with the message when due, records the run and moves on', () => {
    const cron = scheduler();
    const job = cron.add({ agent: 'ticker', schedule: 'every 10s', message: 'tick', createdBy: 'agent' });
    clock = T0 + 9_000;
    cron.runDue();
    expect(laneItems()).toHaveLength(0);
    clock = T0 + 10_000;
    cron.runDue();
    const [item] = laneItems();
    expect(item).toMatchObject({ kind: 'cron', status: 'queued' });
    expect(TriggerBodySchema.parse(JSON.parse(item?.body ?? '{}'))).toEqual({
      source: 'cron',
      title: `job ${job.id} (every 10s)`,
      text: 'tick',
    });
    expect(kicked).toEqual(['ticker']);
    const [run] = cron.runs(job.id, 10);
    expect(run).toMatchObject({
      trigger: 'schedule',
      status: 'pending',
      lane_item: item?.id,
      scheduled_for: '2030-01-01T00:00:10.000Z',
    });
    // The run's id is the lane item's trace, so the turn's LLM calls are booked under it.
    expect(item?.trace).toBe(run?.id);
    expect(cron.list()[0]).toMatchObject({
      next_run: '2030-01-01T00:00:20.000Z',
      last_run: '2030-01-01T00:00:10.000Z',
      last_status: 'pending',
    });
  });

  it('never runs a job twice at once: a firing while the previous item is queued or in flight is skipped with the reason', () => {
    const cron = scheduler();
    const job = cron.add({ agent: 'ticker', schedule: 'every 10s', message: 'tick', createdBy: 'operator' });
    clock = T0 + 10_000;
    cron.runDue();
    clock = T0 + 20_000;
    cron.runDue();
    const queuedSkip = cron.runs(job.id, 1)[0];
    expect(queuedSkip).toMatchObject({ status: 'skipped', lane_item: null });
    expect(queuedSkip?.reason).toMatch(/^the previous run crun_\S+ is still queued \(lane item cronr_\S+\)$/);

    const inflight = lanes.claimNext('ticker');
    clock = T0 + 30_000;
    cron.runDue();
    expect(cron.runs(job.id, 1)[0]?.reason).toMatch(/is still in flight/);
    expect(laneItems()).toHaveLength(1);
    expect(cron.list()[0]).toMatchObject({ last_status: 'skipped' });

    lanes.complete(inflight?.id ?? '', 'ok');
    cron.settle(inflight?.id ?? '');
    clock = T0 + 40_000;
    cron.runDue();
    expect(laneItems()).toHaveLength(2);
    const statuses = cron.runs(job.id, 10).map((r) => r.status);
    expect(statuses).toEqual(['pending', 'skipped', 'skipped', 'ok']);
  });

  it('skips a job whose agent is not configured', () => {
    const cron = scheduler([]);
    const job = cron.add({ agent: 'ghost', schedule: 'every 1m', message: 'boo', createdBy: 'operator' });
    clock = T0 + 60_000;
    cron.runDue();
    expect(cron.runs(job.id, 1)[0]).toMatchObject({
      status: 'skipped',
      reason: 'agent ghost is not in config/agents.yaml',
    });
    expect(laneItems()).toHaveLength(0);
  });

  it('fires a one-shot `at` job once and then disables it', () => {
    const cron = scheduler();
    const job = cron.add({
      agent: 'ticker',
      schedule: 'at 2030-01-01T00:01:00Z',
      message: 'once',
      createdBy: 'operator',
    });
    clock = T0 + 120_000;
    cron.runDue();
    deliverNext();
    clock = T0 + 3_600_000;
    cron.runDue();
    expect(laneItems()).toHaveLength(1);
    expect(cron.list()[0]).toMatchObject({ id: job.id, enabled: false, next_run: null, last_status: 'ok' });
  });

  it('fires now on `run`, leaves the schedule alone, and still never twice at once', () => {
    const cron = scheduler();
    const job = cron.add({ agent: 'ticker', schedule: '0 9 * * *', message: 'standup', createdBy: 'operator' });
    expect(cron.runNow(job.id)).toMatchObject({ trigger: 'manual', status: 'pending', scheduled_for: null });
    expect(cron.runNow(job.id)).toMatchObject({ trigger: 'manual', status: 'skipped' });
    expect(cron.list()[0]?.next_run).toBe('2030-01-01T09:00:00.000Z');
    expect(() => cron.runNow('cron_nope')).toThrow(/no cron job cron_nope/);
  });

  it('settles a run as error when its lane item fails for good', () => {
    const cron = scheduler();
    const job = cron.add({ agent: 'ticker', schedule: 'every 1m', message: 'tick', createdBy: 'operator' });
    clock = T0 + 60_000;
    cron.runDue();
    const item = lanes.claimNext('ticker');
    if (!item) throw new Error('expected an item');
    lanes.retryOrFail(item, 'agent ticker did not answer', 0, 1);
    expect(cron.list()[0]).toMatchObject({ last_status: 'error', last_reason: 'agent ticker did not answer' });
    expect(cron.runs(job.id, 1)[0]?.finished_at).not.toBeNull();
  });

  it('only lets an agent see and remove its own jobs', () => {
    const cron = scheduler(['ticker', 'other']);
    const mine = cron.add({ agent: 'ticker', schedule: 'every 1m', message: 'a', createdBy: 'agent' });
    const theirs = cron.add({ agent: 'other', schedule: 'every 1m', message: 'b', createdBy: 'agent' });
    expect(cron.list('ticker').map((j) => j.id)).toEqual([mine.id]);
    expect(() => cron.remove(theirs.id, 'ticker')).toThrow(`ticker has no cron job ${theirs.id}`);
    cron.remove(mine.id, 'ticker');
    expect(cron.list().map((j) => j.id)).toEqual([theirs.id]);
  });
});

describe('runs missed while the mesh was down', () => {
  it('runs once at start-up however many runs were missed, then continues from now', () => {
    const job = scheduler().add({ agent: 'ticker', schedule: 'every 1m', message: 'tick', createdBy: 'operator' });
    // The mesh is down for ten minutes: ten runs fell due.
    clock = T0 + 10 * 60_000 + 5_000;
    const restarted = scheduler();
    restarted.catchUp();
    expect(laneItems()).toHaveLength(1);
    expect(restarted.runs(job.id, 10)).toEqual([
      expect.objectContaining({ trigger: 'missed', status: 'pending', scheduled_for: '2030-01-01T00:01:00.000Z' }),
    ]);
    expect(restarted.list()[0]?.next_run).toBe('2030-01-01T00:11:00.000Z');
    restarted.runDue();
    expect(laneItems()).toHaveLength(1);
  });

  it('records a missed run as skipped, without waking the agent, when the job says missed: skip', () => {
    const job = scheduler().add({
      agent: 'ticker',
      schedule: '0 9 * * *',
      message: 'standup',
      missed: 'skip',
      createdBy: 'operator',
    });
    clock = Date.parse('2030-01-01T12:00:00Z');
    const restarted = scheduler();
    restarted.catchUp();
    expect(laneItems()).toHaveLength(0);
    expect(restarted.runs(job.id, 10)).toEqual([
      expect.objectContaining({
        trigger: 'missed',
        status: 'skipped',
        reason: 'missed while the mesh was down (due 2030-01-01T09:00:00.000Z); the job says missed: skip',
      }),
    ]);
    expect(restarted.list()[0]?.next_run).toBe('2030-01-02T09:00:00.000Z');
  });
});
