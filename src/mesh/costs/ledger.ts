// The cost ledger in mesh.db: one usage row per LLM call, the reservations of calls in
// flight, and running totals per (scope, period). Invariants:
// - every change to the totals happens in the same IMMEDIATE transaction as the row
//   that causes it (reservation inserted or deleted, usage row inserted), so the totals
//   always equal the ledger and the open reservations, also across processes;
// - a budget check reads only the totals (four primary-key lookups), never sums the
//   ledger, so its cost does not grow with the ledger;
// - a reservation is settled or released at most once; its amounts stay in the
//   periods it was reserved in, even when the call ends after midnight;
// - amounts are integer nano-dollars (src/shared/money.ts).
import type Database from 'better-sqlite3';
import type { Db, Migration } from '../db.js';
import type { Budget } from '../../shared/config/schema.js';
import { usdToNano } from '../../shared/money.js';
import { decideReservation, type BudgetDecision, type BudgetLimitState } from './budget.js';
import type { PeriodKeys } from './periods.js';
import { budgetOwner } from '../../shared/subagents.js';

export const costsMigrations: Migration[] = [
  {
    domain: 'costs',
    version: 1,
    // `at` is epoch milliseconds of the call's start: reports select ranges of it by index.
    sql: `CREATE TABLE cost_usage (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      at INTEGER NOT NULL,
      agent TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('chat', 'embedding')),
      provider TEXT NOT NULL,
      model TEXT NOT NULL,
      prompt_tokens INTEGER NOT NULL,
      completion_tokens INTEGER NOT NULL,
      cost_nano INTEGER NOT NULL,
      latency_ms INTEGER NOT NULL,
      outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'failed', 'interrupted')),
      trace TEXT
    );
    CREATE INDEX cost_usage_at ON cost_usage (at);
    CREATE INDEX cost_usage_agent_at ON cost_usage (agent, at);
    CREATE TABLE cost_reservations (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      at INTEGER NOT NULL,
      agent TEXT NOT NULL,
      provider TEXT NOT NULL,
      model TEXT NOT NULL,
      amount_nano INTEGER NOT NULL,
      day TEXT NOT NULL,
      month TEXT NOT NULL
    );
    CREATE TABLE cost_totals (
      scope TEXT NOT NULL,
      period TEXT NOT NULL,
      spent_nano INTEGER NOT NULL,
      reserved_nano INTEGER NOT NULL,
      PRIMARY KEY (scope, period)
    ) WITHOUT ROWID;`,
  },
  {
    domain: 'costs',
    version: 2,
    // Per-call rows past retention, added up per local day (day_start: epoch ms of the
    // day's local midnight in the time zone in force when they were rolled up).
    sql: `CREATE TABLE cost_daily (
      day TEXT NOT NULL,
      day_start INTEGER NOT NULL,
      agent TEXT NOT NULL,
      provider TEXT NOT NULL,
      model TEXT NOT NULL,
      calls INTEGER NOT NULL,
      failed INTEGER NOT NULL,
      prompt_tokens INTEGER NOT NULL,
      completion_tokens INTEGER NOT NULL,
      cost_nano INTEGER NOT NULL,
      PRIMARY KEY (day_start, agent, provider, model)
    ) WITHOUT ROWID;`,
  },
  {
    domain: 'costs',
    version: 3,
    // Web searches are booked too (kind 'search'); SQLite cannot widen a CHECK in place.
    sql: `CREATE TABLE cost_usage_v2 (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      at INTEGER NOT NULL,
      agent TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('chat', 'embedding', 'search')),
      provider TEXT NOT NULL,
      model TEXT NOT NULL,
      prompt_tokens INTEGER NOT NULL,
      completion_tokens INTEGER NOT NULL,
      cost_nano INTEGER NOT NULL,
      latency_ms INTEGER NOT NULL,
      outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'failed', 'interrupted')),
      trace TEXT
    );
    INSERT INTO cost_usage_v2 SELECT * FROM cost_usage;
    DROP TABLE cost_usage;
    ALTER TABLE cost_usage_v2 RENAME TO cost_usage;
    CREATE INDEX cost_usage_at ON cost_usage (at);
    CREATE INDEX cost_usage_agent_at ON cost_usage (agent, at);`,
  },
];

export type UsageKind = 'chat' | 'embedding' | 'search';
export type UsageOutcome = 'ok' | 'failed' | 'interrupted';

export interface UsageEntry {
  at: number;
  agent: string;
  kind: UsageKind;
  provider: string;
  model: string;
  prompt_tokens: number;
  completion_tokens: number;
  costNano: number;
  latency_ms: number;
  outcome: UsageOutcome;
  trace: string | null;
}

export interface ReserveInput {
  at: number;
  agent: string;
  provider: string;
  model: string;
  amountNano: number;
  keys: PeriodKeys;
  /** The limits in force, in USD; absent ones are not checked. */
  agentBudget: Budget | undefined;
  fleetBudget: Budget | undefined;
}

export type ReserveResult =
  | { ok: true; id: number }
  | { ok: false; refusal: Extract<BudgetDecision, { action: 'refuse' }> };

export interface Totals {
  spentNano: number;
  reservedNano: number;
}

export interface UsageGroup {
  agent: string;
  provider: string;
  model: string;
  calls: number;
  failed: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_nano: number;
}

export const FLEET_SCOPE = 'fleet';

export function agentScope(agent: string): string {
  return `agent:${agent}`;
}

export function dayPeriod(day: string): string {
  return `day:${day}`;
}

export function monthPeriod(month: string): string {
  return `month:${month}`;
}

/** The four totals one call of `agent` counts towards: a sub-agent's count towards its
 *  parent's (budgetOwner), derived from the id alone, so a reservation left by a crash
 *  is released from the same totals it was held in. */
function totalsKeys(agent: string, day: string, month: string): [scope: string, period: string][] {
  const scope = agentScope(budgetOwner(agent));
  return [
    [scope, dayPeriod(day)],
    [scope, monthPeriod(month)],
    [FLEET_SCOPE, dayPeriod(day)],
    [FLEET_SCOPE, monthPeriod(month)],
  ];
}

interface ReservationRow {
  id: number;
  at: number;
  agent: string;
  provider: string;
  model: string;
  amount_nano: number;
  day: string;
  month: string;
}

function prepareStatements(db: Db) {
  return {
    readTotals: db.prepare<[string, string], { spent_nano: number; reserved_nano: number }>(
      'SELECT spent_nano, reserved_nano FROM cost_totals WHERE scope = ? AND period = ?',
    ),
    addToTotals: db.prepare<[string, string, number, number]>(
      `INSERT INTO cost_totals (scope, period, spent_nano, reserved_nano) VALUES (?, ?, ?, ?)
       ON CONFLICT (scope, period) DO UPDATE SET spent_nano = spent_nano + excluded.spent_nano, reserved_nano = reserved_nano + excluded.reserved_nano`,
    ),
    insertReservation: db.prepare<[number, string, string, string, number, string, string]>(
      'INSERT INTO cost_reservations (at, agent, provider, model, amount_nano, day, month) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    getReservation: db.prepare<[number], ReservationRow>('SELECT * FROM cost_reservations WHERE id = ?'),
    openReservations: db.prepare<[], ReservationRow>('SELECT * FROM cost_reservations ORDER BY id'),
    deleteReservation: db.prepare<[number]>('DELETE FROM cost_reservations WHERE id = ?'),
    insertUsage: db.prepare<
      [number, string, string, string, string, number, number, number, number, string, string | null]
    >(
      `INSERT INTO cost_usage (at, agent, kind, provider, model, prompt_tokens, completion_tokens, cost_nano, latency_ms, outcome, trace)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
  };
}

type Tx<F extends (...args: never[]) => unknown> = Database.Transaction<F>;

export class CostLedger {
  private readonly db: Db;
  private readonly sql: ReturnType<typeof prepareStatements>;
  private readonly reserveTx: Tx<(input: ReserveInput) => ReserveResult>;
  private readonly settleTx: Tx<(id: number, entry: UsageEntry) => boolean>;
  private readonly recordTx: Tx<(entry: UsageEntry, keys: PeriodKeys) => void>;
  private readonly releaseTx: Tx<() => number>;

  constructor(db: Db) {
    this.db = db;
    this.sql = prepareStatements(db);
    const { sql } = this;
    this.reserveTx = db.transaction((input: ReserveInput): ReserveResult => {
      const decision = decideReservation(this.limitStates(input), input.amountNano);
      if (decision.action === 'refuse') return { ok: false, refusal: decision };
      for (const [scope, period] of totalsKeys(input.agent, input.keys.day, input.keys.month)) {
        sql.addToTotals.run(scope, period, 0, input.amountNano);
      }
      const inserted = sql.insertReservation.run(
        input.at,
        input.agent,
        input.provider,
        input.model,
        input.amountNano,
        input.keys.day,
        input.keys.month,
      );
      return { ok: true, id: Number(inserted.lastInsertRowid) };
    });
    this.settleTx = db.transaction((id: number, entry: UsageEntry): boolean => {
      const reservation = sql.getReservation.get(id);
      if (!reservation) return false;
      sql.deleteReservation.run(id);
      for (const [scope, period] of totalsKeys(reservation.agent, reservation.day, reservation.month)) {
        sql.addToTotals.run(scope, period, entry.costNano, -reservation.amount_nano);
      }
      this.writeUsage(entry);
      return true;
    });
    this.recordTx = db.transaction((entry: UsageEntry, keys: PeriodKeys): void => {
      for (const [scope, period] of totalsKeys(entry.agent, keys.day, keys.month))
        sql.addToTotals.run(scope, period, entry.costNano, 0);
      this.writeUsage(entry);
    });
    this.releaseTx = db.transaction((): number => {
      const rows = sql.openReservations.all();
      for (const row of rows) {
        this.settleTx(row.id, {
          at: row.at,
          agent: row.agent,
          kind: 'chat',
          provider: row.provider,
          model: row.model,
          prompt_tokens: 0,
          completion_tokens: 0,
          costNano: 0,
          latency_ms: 0,
          outcome: 'interrupted',
          trace: null,
        });
      }
      return rows.length;
    });
  }

  private writeUsage(entry: UsageEntry): void {
    this.sql.insertUsage.run(
      entry.at,
      entry.agent,
      entry.kind,
      entry.provider,
      entry.model,
      entry.prompt_tokens,
      entry.completion_tokens,
      entry.costNano,
      entry.latency_ms,
      entry.outcome,
      entry.trace,
    );
  }

  totals(scope: string, period: string): Totals {
    const row = this.sql.readTotals.get(scope, period);
    return { spentNano: row?.spent_nano ?? 0, reservedNano: row?.reserved_nano ?? 0 };
  }

  /** The configured limits of one call, in decision order, with their current totals. */
  private limitStates(input: ReserveInput): BudgetLimitState[] {
    const states: BudgetLimitState[] = [];
    const add = (agent: string | null, budget: Budget | undefined) => {
      const scope = agent === null ? FLEET_SCOPE : agentScope(agent);
      if (budget?.daily_usd !== undefined) {
        const totals = this.totals(scope, dayPeriod(input.keys.day));
        states.push({ agent, window: 'daily', limitNano: usdToNano(budget.daily_usd), ...totals });
      }
      if (budget?.monthly_usd !== undefined) {
        const totals = this.totals(scope, monthPeriod(input.keys.month));
        states.push({ agent, window: 'monthly', limitNano: usdToNano(budget.monthly_usd), ...totals });
      }
    };
    add(budgetOwner(input.agent), input.agentBudget);
    add(null, input.fleetBudget);
    return states;
  }

  /** Checks every limit and holds `amountNano` against all four totals, in one transaction. */
  reserve(input: ReserveInput): ReserveResult {
    return this.reserveTx.immediate(input);
  }

  /** Releases reservation `id` and books `entry` in the reservation's periods. False when
   *  the reservation was already settled or released (nothing is booked then). */
  settle(id: number, entry: UsageEntry): boolean {
    return this.settleTx.immediate(id, entry);
  }

  /** Books a call that held no reservation (embeddings) in the periods of `keys`. */
  record(entry: UsageEntry, keys: PeriodKeys): void {
    this.recordTx.immediate(entry, keys);
  }

  /** Releases every open reservation as an interrupted call with no cost: run at mesh
   *  start, when no call can be in flight, so any reservation left is from a crash. */
  releaseStale(): number {
    return this.releaseTx.immediate();
  }

  /** Calls of `agent` booked under `trace` since `fromMs` (the agent-and-time index narrows the scan). */
  usageOfTrace(agent: string, trace: string, fromMs: number): { calls: number; cost_nano: number } {
    const row = this.db
      .prepare<[string, number, string], { calls: number; cost_nano: number | null }>(
        'SELECT COUNT(*) AS calls, SUM(cost_nano) AS cost_nano FROM cost_usage WHERE agent = ? AND at >= ? AND trace = ?',
      )
      .get(agent, fromMs, trace);
    return { calls: row?.calls ?? 0, cost_nano: row?.cost_nano ?? 0 };
  }

  /** Usage in [fromMs, toMs) grouped by agent and model, optionally of one agent: the
   *  per-call rows plus the daily totals of rows rolled up (a range of whole local days
   *  holds each rolled-up day entirely or not at all, so the sum stays exact). */
  usageByModel(fromMs: number, toMs: number, agent: string | null): UsageGroup[] {
    // An agent's usage includes its sub-agents' (`<agent>_<hex>`, shared/subagents.ts).
    const byAgent = agent === null ? '' : "AND (agent = ? OR agent LIKE ? ESCAPE '\\')";
    const sql = `SELECT agent, provider, model, SUM(calls) AS calls, SUM(failed) AS failed, SUM(prompt_tokens) AS prompt_tokens,
        SUM(completion_tokens) AS completion_tokens, SUM(cost_nano) AS cost_nano FROM (
      SELECT agent, provider, model, 1 AS calls, outcome != 'ok' AS failed, prompt_tokens, completion_tokens, cost_nano
        FROM cost_usage WHERE at >= ? AND at < ? ${byAgent}
      UNION ALL
      SELECT agent, provider, model, calls, failed, prompt_tokens, completion_tokens, cost_nano
        FROM cost_daily WHERE day_start >= ? AND day_start < ? ${byAgent}
    ) GROUP BY agent, provider, model ORDER BY agent, provider, model`;
    return agent === null
      ? this.db.prepare<[number, number, number, number], UsageGroup>(sql).all(fromMs, toMs, fromMs, toMs)
      : this.db
          .prepare<[number, number, string, string, number, number, string, string], UsageGroup>(sql)
          .all(fromMs, toMs, agent, subAgentsLike(agent), fromMs, toMs, agent, subAgentsLike(agent));
  }
}

/** LIKE pattern of an agent's sub-agent ids (`_` escaped: it is a LIKE wildcard). */
function subAgentsLike(agent: string): string {
  return `${agent}\\_%`;
}
