// Bounded state: mesh.db's size after 100k blackboard writes and 100k metered LLM calls
// with the default retention (the pruner running as it does in the mesh, every 10k
// writes here in place of every 10 minutes), and blackboard `list` page time at cursor
// depth 0 and 100k. Measured on the stores over a real mesh.db, without HTTP.
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMeshDb } from '../src/mesh/db.js';
import { EventLog, eventsMigrations } from '../src/mesh/events/log.js';
import { blackboardMigrations, BlackboardStore } from '../src/mesh/blackboard/store.js';
import { lanesMigrations } from '../src/mesh/lanes/store.js';
import { webhooksMigrations } from '../src/mesh/triggers/webhooks/store.js';
import { costsMigrations } from '../src/mesh/costs/ledger.js';
import { openCostMeter } from '../src/mesh/costs/meter.js';
import { loadPriceBook } from '../src/shared/config/prices.js';
import { Pruner } from '../src/mesh/retention/pruner.js';
import { DEFAULT_RETENTION } from '../src/shared/config/schema.js';
import { createLogger } from '../src/shared/logging.js';
import { median, percentile, type BenchRow } from './table.js';

const WRITES = 100_000;
const CALLS = 100_000;
const PRUNE_EVERY = 10_000;
const KEYS = 100_000;
const PAGE = 100;
const SAMPLES = 300;
const SIZE_TARGET_MB = 50;

function fileMb(path: string): number {
  const size = (p: string) => (existsSync(p) ? statSync(p).size : 0);
  return (size(path) + size(`${path}-wal`)) / 1024 / 1024;
}

function timePages(store: BlackboardStore, cursor: string | undefined): number[] {
  const times: number[] = [];
  for (let i = 0; i < SAMPLES; i += 1) {
    const begin = process.hrtime.bigint();
    store.list({ prefix: 'context/', limit: PAGE, ...(cursor === undefined ? {} : { cursor }) });
    times.push(Number(process.hrtime.bigint() - begin) / 1e6);
  }
  return times;
}

export async function stateBench(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'legion-bench-state-'));
  const logger = createLogger({}, { write: () => undefined });
  const path = join(dir, 'mesh.db');
  const db = openMeshDb(path, [
    ...eventsMigrations,
    ...blackboardMigrations,
    ...lanesMigrations,
    ...webhooksMigrations,
    ...costsMigrations,
  ]);
  try {
    const pruner = new Pruner({ db, config: () => DEFAULT_RETENTION, timeZone: () => 'UTC', logger });
    const store = new BlackboardStore(db);
    // A fleet's working set: 1000 task keys rewritten over and over with a small JSON document.
    for (let i = 0; i < WRITES; i += 1) {
      store.set({
        key: `tasks/t${i % 1000}`,
        value: { status: 'working', step: i, note: 'x'.repeat(200) },
        writer: 'bench',
      });
      if ((i + 1) % PRUNE_EVERY === 0) await pruner.runOnce();
    }
    const meter = openCostMeter({
      db,
      prices: loadPriceBook(dir, logger),
      config: () => ({ mesh: { timezone: 'UTC' }, agents: {} }),
      events: new EventLog(db, logger),
      logger,
    });
    for (let i = 0; i < CALLS; i += 1) {
      const reservation = meter.reserve({
        agent: `agent${i % 5}`,
        trace: `tr_${i}`,
        request: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }], max_tokens: 200 },
      });
      meter.settle(
        reservation,
        { status: 'ok', usage: { prompt_tokens: 900, completion_tokens: 150 } },
        800,
        `tr_${i}`,
      );
      if ((i + 1) % PRUNE_EVERY === 0) await pruner.runOnce();
    }
    await pruner.runOnce();
    db.pragma('wal_checkpoint(TRUNCATE)');
    const sizeMb = fileMb(path);

    const insert = db.prepare(
      "INSERT INTO blackboard_entries (key, value, version, writer, updated_at) VALUES (?, '1', 1, 'bench', '2025-01-01T00:00:00Z')",
    );
    db.transaction(() => {
      for (let i = 0; i < KEYS; i += 1) insert.run(`context/k${String(i).padStart(6, '0')}`);
    })();
    const shallow = timePages(store, undefined);
    const deep = timePages(store, `context/k${String(KEYS - PAGE - 1).padStart(6, '0')}`);
    const ratio = median(deep) / median(shallow);
    const ms = (xs: number[]) => `median ${median(xs).toFixed(3)} ms, p99 ${percentile(xs, 99).toFixed(3)} ms`;
    return [
      [
        `mesh.db after ${WRITES / 1000}k blackboard writes + ${CALLS / 1000}k LLM calls (default retention)`,
        `${sizeMb.toFixed(1)} MB`,
        `< ${SIZE_TARGET_MB} MB`,
        sizeMb < SIZE_TARGET_MB,
      ],
      [`blackboard list page (${PAGE} keys) at cursor depth 0`, ms(shallow), '-', true],
      [
        `blackboard list page (${PAGE} keys) at cursor depth ${KEYS / 1000}k`,
        `${ms(deep)} (${ratio.toFixed(2)}x depth 0)`,
        '<= 2x depth 0',
        ratio <= 2,
      ],
    ];
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
