// A real cost meter over its own mesh.db in a temp dir, for tests and benchmarks that
// mount the LLM routes without a whole mesh. Prices come from the shipped table under
// `projectDir`'s config/prices.yaml, exactly as in the mesh.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMeshDb, type Db } from '../../src/mesh/db.js';
import { EventLog, eventsMigrations } from '../../src/mesh/events/log.js';
import { costsMigrations } from '../../src/mesh/costs/ledger.js';
import { openCostMeter, type CostConfig, type CostMeter, type LlmMetering } from '../../src/mesh/costs/meter.js';
import { loadPriceBook } from '../../src/shared/config/prices.js';
import { createLogger } from '../../src/shared/logging.js';

export interface TestMeter {
  meter: CostMeter;
  db: Db;
  events: EventLog;
  /** Every line the meter logged, parsed. */
  logs: Record<string, unknown>[];
  close(): void;
}

export interface TestMeterOptions {
  /** Budgets and time zone; none and UTC by default. */
  config?: () => CostConfig;
  /** Where a config/prices.yaml of the project is looked for. */
  projectDir?: string;
  now?: () => number;
  /** An existing mesh.db path (to reopen after a "crash"); a fresh temp one otherwise. */
  dbPath?: string;
}

export function openTestMeter(options: TestMeterOptions = {}): TestMeter {
  const dir = mkdtempSync(join(tmpdir(), 'legion-costs-'));
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger(
    {},
    { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const db = openMeshDb(options.dbPath ?? join(dir, 'mesh.db'), [...eventsMigrations, ...costsMigrations]);
  const events = new EventLog(db, logger);
  const meter = openCostMeter({
    db,
    prices: loadPriceBook(options.projectDir ?? dir, logger),
    config: options.config ?? (() => ({ mesh: { timezone: 'UTC' }, agents: {} })),
    events,
    logger,
    ...(options.now ? { now: options.now } : {}),
  });
  return {
    meter,
    db,
    events,
    logs,
    close: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Books a finished call the way the LLM route does (reserve, then settle at the
 *  reported usage), to give a ledger earlier spending. */
export function bookCall(
  meter: LlmMetering,
  call: { agent: string; model: string; prompt_tokens: number; completion_tokens: number; trace?: string | null },
): void {
  const trace = call.trace ?? null;
  const reservation = meter.reserve({
    agent: call.agent,
    trace,
    request: { model: call.model, messages: [{ role: 'user', content: '.' }], max_tokens: 1 },
  });
  meter.settle(
    reservation,
    { status: 'ok', usage: { prompt_tokens: call.prompt_tokens, completion_tokens: call.completion_tokens } },
    1,
    trace,
  );
}
