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

export type ChatEvent =
  | { type: 'token'; text: string }
  | { type: 'tool_call'; id: string; name: string; arguments: string }
  | { type: 'tool_result'; id: string; name: string; ok: boolean; output: string }
  | { type: 'done'; reply: string; tool_rounds: number }
  | { type: 'error'; error: { code: string; message: string } };

export interface HistoryTurn {
  id: string;
  origin: { kind: string; source: string | null };
  input: string | null;
  reply: string | null;
  state: 'queued' | 'running' | 'done' | 'failed' | 'interrupted';
  error: string | null;
  created_at: string;
}

export type StepStatus = 'pending' | 'queued' | 'running' | 'retrying' | 'done' | 'failed' | 'skipped' | 'cancelled';

export interface WorkflowSummary {
  name: string;
  description: string | null;
  trigger: string;
  steps: string[];
  file: string;
}

export interface StepView {
  id: string;
  status: StepStatus;
  agent: string | null;
  attempt: number;
  result: unknown;
  error: string | null;
  reason: string | null;
  started_at: string | null;
  finished_at: string | null;
}

export interface RunView {
  id: string;
  workflow: string;
  status: string;
  trigger: string;
  steps?: StepView[];
  error: string | null;
  created_at: string;
  finished_at: string | null;
}

export interface RunGraph {
  run_id: string;
  steps: { id: string; target: string; depends_on: string[]; condition: string | null }[];
}

export interface Transition {
  seq: number;
  step: string | null;
  status: string;
  attempt: number;
  detail: string | null;
  at: string;
}

export interface StepDetail {
  run_id: string;
  step: StepView;
  input: unknown;
  transitions: Transition[];
}

export interface BlackboardEntry {
  key: string;
  value: unknown;
  version: number;
  writer: string;
  updated_at: string;
  expires_at: string | null;
}

export interface BlackboardChange {
  seq: number;
  version: number;
  op: 'set' | 'delete' | 'expire';
  value: unknown;
  writer: string;
  at: string;
}

export interface CronJob {
  id: string;
  agent: string;
  schedule: string;
  message: string;
  tz: string;
  enabled: boolean;
  next_run: string | null;
  last_run: string | null;
  last_status: string | null;
  last_reason: string | null;
}

export interface HeartbeatStatus {
  settings: { agent: string; every: string | null; source: string; next_beat: string | null }[];
  beats: { id: string; agent: string; at: string; outcome: string; reason: string | null }[];
}

export interface Webhook {
  name: string;
  target: { kind: 'agent'; agent: string } | { kind: 'workflow'; workflow: string };
  url: string;
  has_secret: boolean;
  scheme: string;
  deliveries: number;
}

export interface WebhookDelivery {
  delivery_id: string;
  received_at: string;
  status: string;
  attempts: number;
  error: string | null;
}
