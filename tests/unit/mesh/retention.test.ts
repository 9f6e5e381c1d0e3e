// Retention over a real mesh.db: `legion costs` totals (the meter's report, the query
// the CLI reads) are identical before and after per-call rows are rolled up and
// pruned, in UTC and in a zone with DST; history keeps what versioning needs; only
// finished lane items go; blackboard paging over 100k keys returns every key once.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMeshDb, type Db } from '../../../src/mesh/db.js';
import { EventLog, eventsMigrations } from '../../../src/mesh/events/log.js';
import { blackboardMigrations, BlackboardStore } from '../../../src/mesh/blackboard/store.js';
import { lanesMigrations } from '../../../src/mesh/lanes/store.js';
import { webhooksMigrations } from '../../../src/mesh/triggers/webhooks/store.js';
import { CostLedger, costsMigrations } from '../../../src/mesh/costs/ledger.js';
import { openCostMeter } from '../../../src/mesh/costs/meter.js';
import { periodKeys } from '../../../src/mesh/costs/periods.js';
import { loadPriceBook } from '../../../src/shared/config/prices.js';
import { Pruner } from '../../../src/mesh/retention/pruner.js';
import { RetentionSchema, type RetentionConfig } from '../../../src/shared/config/schema.js';
import { createLogger } from '../../../src/shared/logging.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const logger = createLogger({}, { write: () => undefined });
const DAY = 86_400_000;

function openDb(): { db: Db; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'legion-retention-'));
  const db = openMeshDb(join(dir, 'mesh.db'), [
    ...eventsMigrations,
    ...blackboardMigrations,
    ...lanesMigrations,
    ...webhooksMigrations,
    ...costsMigrations,
  ]);
  cleanups.push(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { db, dir };
}

function retention(overrides: Record<string, unknown>): RetentionConfig {
  return RetentionSchema.parse(overrides);
}

describe('per-call cost rows', () => {
  for (const timezone of ['UTC', 'Europe/Berlin']) {
    it(`roll up into daily totals so legion costs stays exact (${timezone})`, async () => {
      const { db, dir } = openDb();
      const now = Date.parse('2025-03-31T20:00:00Z');
      const config = () => ({ mesh: { timezone }, agents: {} });
      const meter = openCostMeter({
        db,
        prices: loadPriceBook(dir, logger),
        config,
        events: new EventLog(db, logger),
        logger,
        now: () => now,
      });
      const ledger = new CostLedger(db);
      // 600 calls over the last 40 days (across the DST change of 30 March), two agents, two models.
      for (let i = 599; i >= 0; i -= 1) {
        const at = now - Math.floor((i * 40 * DAY) / 600) - 1;
        ledger.record(
          {
            at,
            agent: i % 3 === 0 ? 'scout' : 'writer',
            kind: 'chat',
            provider: 'openai',
            model: i % 2 === 0 ? 'gpt-4o' : 'gpt-4o-mini',
            prompt_tokens: 100 + i,
            completion_tokens: 10 + (i % 7),
            costNano: 1_000_003 * (i + 1),
            latency_ms: 5,
            outcome: i % 11 === 0 ? 'failed' : 'ok',
            trace: null,
          },
          periodKeys(at, timezone),
        );
      }
      const reports = () =>
        (['today', 'week', 'month'] as const).flatMap((period) => [
          meter.report({ period }),
          meter.report({ period, agent: 'writer' }),
        ]);
      const before = reports();
      expect(before[4]?.totals.calls).toBeGreaterThan(300);

      const pruner = new Pruner({
        db,
        config: () => retention({ llm_calls: { max_age_days: 5, max_rows: 50 } }),
        timeZone: () => timezone,
        logger,
        now: () => now,
      });
      const counts = await pruner.runOnce();
      expect(counts.llm_calls).toBe(550);
      expect(db.prepare('SELECT COUNT(*) AS n FROM cost_usage').get()).toEqual({ n: 50 });
      expect(reports()).toEqual(before);
    });
  }
});

describe('blackboard history, events, lanes', () => {
  it('prunes old history but keeps the newest change of a deleted key, so its versions keep increasing', async () => {
    const { db } = openDb();
    let clock = Date.parse('2025-01-01T00:00:00Z');
    const store = new BlackboardStore(db, { now: () => clock });
    for (let i = 1; i <= 5; i += 1) store.set({ key: 'tasks/a', value: i, writer: 'w' });
    store.set({ key: 'tasks/gone', value: 1, writer: 'w' });
    store.delete({ key: 'tasks/gone', writer: 'w' });
    clock += 40 * DAY;
    const pruner = new Pruner({ db, config: () => retention({}), timeZone: () => 'UTC', logger, now: () => clock });
    expect((await pruner.runOnce()).blackboard_history).toBe(6);
    expect(store.history('tasks/a')).toEqual([]);
    expect(store.get('tasks/a')?.version).toBe(5);
    expect(store.set({ key: 'tasks/gone', value: 2, writer: 'w' }).version).toBe(3);
  });

  it('prunes only finished lane items, and the oldest events beyond the count', async () => {
    const { db } = openDb();
    const events = new EventLog(db, logger);
    for (let i = 0; i < 30; i += 1) events.record({ agent: null, kind: 'test', subject: String(i) });
    const insert = db.prepare(
      "INSERT INTO lane_items (id, agent, kind, body, status, created_at, finished_at) VALUES (?, 'a', 'message', '{}', ?, ?, ?)",
    );
    const old = '2020-01-01T00:00:00.000Z';
    insert.run('done-old', 'done', old, old);
    insert.run('queued-old', 'queued', old, null);
    insert.run('done-new', 'done', new Date().toISOString(), new Date().toISOString());
    const pruner = new Pruner({
      db,
      config: () => retention({ events: { max_rows: 10 } }),
      timeZone: () => 'UTC',
      logger,
    });
    expect(await pruner.runOnce()).toEqual({ events: 20, lane_items: 1 });
    expect(
      events
        .list({})
        .map((e) => Number(e.subject))
        .sort((a, b) => a - b),
    ).toEqual(Array.from({ length: 10 }, (_, i) => 20 + i));
    expect(db.prepare('SELECT id FROM lane_items ORDER BY seq').all()).toEqual([
      { id: 'queued-old' },
      { id: 'done-new' },
    ]);
  });
});

describe('blackboard paging', () => {
  it('returns each of 100k keys once, in order', () => {
    const { db } = openDb();
    const store = new BlackboardStore(db);
    const insert = db.prepare(
      "INSERT INTO blackboard_entries (key, value, version, writer, updated_at) VALUES (?, '1', 1, 'w', '2025-01-01')",
    );
    const keys = Array.from({ length: 100_000 }, (_, i) => `context/k${String(i).padStart(6, '0')}`);
    db.transaction(() => keys.forEach((key) => insert.run(key)))();
    insert.run('contexts/outside');
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = store.list({ prefix: 'context/', limit: 500, ...(cursor === undefined ? {} : { cursor }) });
      seen.push(...page.entries.map((e) => e.key));
      if (page.next_cursor === null) break;
      cursor = page.next_cursor;
    }
    expect(seen).toEqual(keys);
  });
});
