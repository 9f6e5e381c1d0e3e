// The heartbeat scheduler over a real mesh.db (lanes, blackboard, events), a stand-in
// agent report and a clock the test moves: quiet beats wake nobody, a fired probe wakes
// the agent once, the agent's own writes and a wake-up still in progress do not lead to
// another, HEARTBEAT_OK is recorded but not logged, and set_heartbeat overrides config.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openMeshDb, type Db } from '../../src/mesh/db.js';
import { EventLog, eventsMigrations } from '../../src/mesh/events/log.js';
import { LaneStore, lanesMigrations } from '../../src/mesh/lanes/store.js';
import { TriggerBodySchema } from '../../src/mesh/lanes/format.js';
import { BlackboardStore, blackboardMigrations } from '../../src/mesh/blackboard/store.js';
import { HeartbeatStore, heartbeatMigrations } from '../../src/mesh/triggers/heartbeat/store.js';
import { HeartbeatScheduler } from '../../src/mesh/triggers/heartbeat/scheduler.js';
import { createLogger } from '../../src/shared/logging.js';
import type { AgentProbeReport, HeartbeatConfig } from '../../src/shared/wire/heartbeat.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const silent = createLogger({}, { write: () => undefined });

let dir: string;
let db: Db;
let clock: number;
let lanes: LaneStore;
let events: EventLog;
let blackboard: BlackboardStore;
let config: HeartbeatConfig | undefined;
let agentReport: AgentProbeReport;
let probeCalls: number;
let ready: boolean;

/** A scheduler that has seen the agent once at the current time (what start() does), so its first beat is one `every` later. */
async function begin(): Promise<HeartbeatScheduler> {
  const hb = scheduler();
  await hb.runDue();
  return hb;
}

function scheduler(): HeartbeatScheduler {
  return new HeartbeatScheduler({
    store: new HeartbeatStore(db),
    lanes,
    blackboard,
    permissions: {
      check: (_agent, _permission, key) =>
        key.startsWith('tasks/secret') ? { allowed: false, reason: 'no' } : { allowed: true },
    },
    events,
    logger: silent,
    knownAgents: () => ['watcher'],
    configured: () => config,
    isReady: () => ready,
    probeAgent: async () => {
      probeCalls += 1;
      return agentReport;
    },
    traceCost: () => ({ calls: 2, cost_usd: 0.0015 }),
    onEnqueued: () => undefined,
    now: () => clock,
  });
}

/** Moves the clock by `ms` and runs what is due. */
async function advance(hb: HeartbeatScheduler, ms: number): Promise<void> {
  clock += ms;
  await hb.runDue();
}

function heartbeatItems(): { id: string; body: string; status: string; trace: string | null }[] {
  return db
    .prepare<[], { id: string; body: string; status: string; trace: string | null }>(
      "SELECT id, body, status, trace FROM lane_items WHERE kind = 'heartbeat' ORDER BY seq",
    )
    .all();
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'legion-heartbeat-'));
  db = openMeshDb(join(dir, 'mesh.db'), [
    ...eventsMigrations,
    ...lanesMigrations,
    ...blackboardMigrations,
    ...heartbeatMigrations,
  ]);
  clock = T0;
  lanes = new LaneStore(db);
  events = new EventLog(db, silent);
  blackboard = new BlackboardStore(db, { now: () => clock });
  config = { every: '1m', probes: ['pending_deliveries', { blackboard_changed: { prefix: 'tasks/' } }] };
  agentReport = {
    workspace: { files: [], truncated: false },
    disk: null,
    heartbeat_md: '# HEARTBEAT.md\n- look at tasks/ first',
  };
  probeCalls = 0;
  ready = true;
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('beats', () => {
  it('records quiet beats, wakes nobody and asks the agent nothing when only mesh probes are configured', async () => {
    const hb = await begin();
    for (let i = 0; i < 4; i += 1) await advance(hb, 60_000);
    const { beats } = hb.status('watcher');
    expect(beats.map((b) => b.outcome)).toEqual(['quiet', 'quiet', 'quiet', 'quiet']);
    expect(beats[3]?.findings).toEqual([
      { probe: 'pending_deliveries', fired: false, detail: 'no pub/sub events or messages queued' },
      {
        probe: 'blackboard_changed tasks/',
        fired: false,
        detail: 'first beat: watching keys under "tasks/" from now on',
      },
    ]);
    expect(heartbeatItems()).toEqual([]);
    expect(probeCalls).toBe(0);
  });

  it('wakes the agent once with the findings and HEARTBEAT.md when another writer changes a watched key', async () => {
    const hb = await begin();
    await advance(hb, 60_000);
    blackboard.set({ key: 'tasks/build', value: { todo: 'ship' }, writer: 'planner' });
    blackboard.set({ key: 'notes/other', value: 1, writer: 'planner' });
    await advance(hb, 60_000);
    const [item] = heartbeatItems();
    const body = TriggerBodySchema.parse(JSON.parse(item?.body ?? '{}'));
    const beat = hb.status('watcher').beats[0];
    expect(beat).toMatchObject({ outcome: 'woken', lane_item: item?.id });
    expect(item?.trace).toBe(beat?.id);
    expect(body.text).toContain('- blackboard_changed tasks/: 1 key changed under "tasks/": tasks/build');
    expect(body.text).toContain('Your HEARTBEAT.md:\n# HEARTBEAT.md\n- look at tasks/ first');
    expect(body.text).not.toContain('pending_deliveries');
    // The report was fetched only for HEARTBEAT.md, since no agent-side probe is configured.
    expect(probeCalls).toBe(1);
  });

  it("does not count the agent's own writes or keys it may not read", async () => {
    const hb = await begin();
    await advance(hb, 60_000);
    blackboard.set({ key: 'tasks/mine', value: 1, writer: 'watcher' });
    blackboard.set({ key: 'tasks/secret-plan', value: 1, writer: 'planner' });
    await advance(hb, 60_000);
    expect(hb.status('watcher').beats[0]?.outcome).toBe('quiet');
  });

  it('skips beats while the previous wake-up is queued or in flight, keeping what it found for later', async () => {
    const hb = await begin();
    lanes.enqueue('watcher', 'event', { event_id: 'e1', topic: 't', payload: 1, publisher: 'p' }, null);
    await advance(hb, 60_000);
    expect(heartbeatItems()).toHaveLength(1);
    await advance(hb, 60_000);
    expect(hb.status('watcher').beats[0]).toMatchObject({
      outcome: 'skipped',
      reason: expect.stringMatching(/^the previous wake-up beat_\S+ is still queued$/),
    });
    // The agent works its lane: the event, then the wake-up.
    const event = lanes.claimNext('watcher');
    lanes.complete(event?.id ?? '', 'handled');
    const wake = lanes.claimNext('watcher');
    await advance(hb, 60_000);
    expect(hb.status('watcher').beats[0]?.reason).toMatch(/is still in flight$/);
    lanes.complete(wake?.id ?? '', 'HEARTBEAT_OK');
    hb.settle(wake?.id ?? '', 'HEARTBEAT_OK');
    await advance(hb, 60_000);
    expect(hb.status('watcher').beats[0]?.outcome).toBe('quiet');
    expect(heartbeatItems()).toHaveLength(1);
  });

  it('records a skipped beat while the agent is not running', async () => {
    ready = false;
    const hb = await begin();
    await advance(hb, 60_000);
    expect(hb.status('watcher').beats[0]).toMatchObject({
      outcome: 'skipped',
      reason: 'watcher is not running',
      findings: [],
    });
  });
});

describe('replies', () => {
  async function wokenItem(hb: HeartbeatScheduler): Promise<string> {
    lanes.enqueue('watcher', 'message', { message_id: 'm1', from: 'boss', message: 'hi' }, null);
    await advance(hb, 60_000);
    const id = heartbeatItems()[0]?.id;
    if (!id) throw new Error('no wake-up');
    return id;
  }

  it('records HEARTBEAT_OK as ok with the cost, and writes nothing to the event log', async () => {
    const hb = await begin();
    const item = await wokenItem(hb);
    hb.settle(item, '  HEARTBEAT_OK\n');
    expect(hb.status('watcher').beats[0]).toMatchObject({ outcome: 'ok', reply: null, calls: 2, cost_usd: 0.0015 });
    expect(events.list({}).filter((e) => e.kind === 'heartbeat_reply')).toEqual([]);
  });

  it('records any other reply and writes it to the event log', async () => {
    const hb = await begin();
    const item = await wokenItem(hb);
    hb.settle(item, 'boss said hi; answered');
    const beat = hb.status('watcher').beats[0];
    expect(beat).toMatchObject({ outcome: 'reported', reply: 'boss said hi; answered' });
    expect(events.list({}).find((e) => e.kind === 'heartbeat_reply')).toMatchObject({
      agent: 'watcher',
      subject: beat?.id,
      detail: { reply: 'boss said hi; answered', calls: 2, cost_usd: 0.0015 },
    });
  });

  it('records a wake-up whose lane item failed as an error', async () => {
    const hb = await begin();
    const item = await wokenItem(hb);
    lanes.claimNext('watcher');
    const wake = lanes.claimNext('watcher');
    expect(wake).toBeNull();
    const message = db.prepare<[], { id: string }>("SELECT id FROM lane_items WHERE kind = 'message'").get();
    lanes.complete(message?.id ?? '', 'ok');
    const claimed = lanes.claimNext('watcher');
    expect(claimed?.id).toBe(item);
    if (claimed) lanes.retryOrFail(claimed, 'agent watcher did not answer', 0, 1);
    expect(hb.status('watcher').beats[0]).toMatchObject({ outcome: 'error', reason: 'agent watcher did not answer' });
  });
});

describe('settings', () => {
  it('lets set_heartbeat override agents.yaml, keep the probes, and turn the heartbeat off', async () => {
    const hb = await begin();
    const set = hb.set('watcher', '10s', undefined);
    expect(set).toMatchObject({
      agent: 'watcher',
      every: '10s',
      source: 'set_heartbeat',
      probes: ['pending_deliveries', { blackboard_changed: { prefix: 'tasks/' } }],
      next_beat: '2030-01-01T00:00:10.000Z',
    });
    await advance(hb, 10_000);
    expect(hb.status('watcher').beats).toHaveLength(1);
    expect(hb.set('watcher', 'off', undefined)).toMatchObject({
      every: null,
      source: 'set_heartbeat',
      next_beat: null,
    });
    await advance(hb, 600_000);
    expect(hb.status('watcher').beats).toHaveLength(1);
  });

  it('defaults the probes, and continues its cadence across a restart', async () => {
    config = { every: '1m' };
    const hb = await begin();
    await advance(hb, 60_000);
    expect(hb.status('watcher').beats[0]?.findings.map((f) => f.probe)).toEqual([
      'pending_deliveries',
      'queued_items',
      'heartbeat_rules',
    ]);
    // A new scheduler (mesh restart) 20 s later beats 40 s later, on the old cadence.
    clock += 20_000;
    const restarted = await begin();
    expect(restarted.status('watcher').settings[0]?.next_beat).toBe(new Date(T0 + 120_000).toISOString());
  });
});
