// The JSON the dashboard reads, as the mesh sends it. The mesh validates these shapes
// (src/shared/wire/admin.ts, costs.ts, events.ts, dashboard.ts); the page only reads
// the fields below, so it carries these few types instead of zod.

export type Health = 'starting' | 'healthy' | 'unhealthy' | 'stopped' | 'failed';

export interface AgentStatus {
  name: string;
  role: string;
  model: string;
  health: Health;
  container: { id: string; name: string; state: string; runtime: string; sandboxed: boolean } | null;
  busy: boolean;
  lane: { queued: number; inflight: number; cap: number; running: { kind: string; id: string; since: string } | null };
  restarts: number;
  last_error: string | null;
}

export interface CostRow {
  agent: string;
  model: string;
  calls: number;
  failed: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
}

export interface BudgetStatus {
  agent: string | null;
  window: 'daily' | 'monthly';
  period: string;
  limit_usd: number;
  spent_usd: number;
  reserved_usd: number;
  remaining_usd: number;
}

export interface CostReport {
  period: string;
  timezone: string;
  first_day: string;
  last_day: string;
  rows: CostRow[];
  totals: Omit<CostRow, 'agent' | 'model'>;
  budgets: BudgetStatus[];
}

export interface FleetSnapshot {
  agents: AgentStatus[];
  costs: CostReport;
}

export interface EventEntry {
  id: number;
  at: string;
  agent: string | null;
  kind: string;
  subject: string;
  detail: unknown;
  trace: string | null;
}

export type LiveMessage = { type: 'fleet'; fleet: FleetSnapshot } | { type: 'events'; events: EventEntry[] };

export interface CostMonth {
  month: string;
  timezone: string;
  days: string[];
  agents: { agent: string; daily_usd: number[] }[];
  rows: CostRow[];
  totals: Omit<CostRow, 'agent' | 'model'>;
  budgets: BudgetStatus[];
}
