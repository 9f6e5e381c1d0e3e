// GET /api/costs: LLM spending by agent and model over a calendar period, with the
// budgets in force (legion costs, REPL /costs). Amounts are USD; periods are local to
// the mesh's time zone (mesh.yaml `timezone`, UTC by default).
import { z } from 'zod';
import { AgentNameSchema } from '../names.js';

export const CostPeriodSchema = z.enum(['today', 'week', 'month']);
export type CostPeriod = z.infer<typeof CostPeriodSchema>;

export const CostQuerySchema = z.strictObject({
  agent: AgentNameSchema.optional(),
  period: CostPeriodSchema.default('today'),
});
export type CostQuery = z.input<typeof CostQuerySchema>;

const CountsSchema = z.object({
  calls: z.number().int().nonnegative(),
  /** Calls that ended in an error (charged only what the provider may have billed). */
  failed: z.number().int().nonnegative(),
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
  cost_usd: z.number().nonnegative(),
});

export const CostRowSchema = CountsSchema.extend({
  agent: z.string(),
  /** Set on a sub-agent's rows: the agent that spawned it, whose budget it spends. */
  parent: z.string().optional(),
  /** `provider/model`. */
  model: z.string(),
});
export type CostRow = z.infer<typeof CostRowSchema>;

export const BudgetStatusSchema = z.object({
  /** null: the fleet-wide budget of mesh.yaml. */
  agent: z.string().nullable(),
  window: z.enum(['daily', 'monthly']),
  /** The current day (`YYYY-MM-DD`) or month (`YYYY-MM`). */
  period: z.string(),
  limit_usd: z.number().nonnegative(),
  spent_usd: z.number().nonnegative(),
  /** Held by calls in flight until they settle. */
  reserved_usd: z.number().nonnegative(),
  remaining_usd: z.number().nonnegative(),
});
export type BudgetStatus = z.infer<typeof BudgetStatusSchema>;

export const CostReportSchema = z.object({
  period: CostPeriodSchema,
  timezone: z.string(),
  /** ISO instants: the period is [from, to). */
  from: z.string(),
  to: z.string(),
  /** The local days the period covers, `YYYY-MM-DD`. */
  first_day: z.string(),
  last_day: z.string(),
  agent: z.string().nullable(),
  rows: z.array(CostRowSchema),
  totals: CountsSchema,
  budgets: z.array(BudgetStatusSchema),
});
export type CostReport = z.infer<typeof CostReportSchema>;

/** GET /api/costs/daily?month=YYYY-MM (the dashboard's costs page); the current month by default. */
export const CostMonthQuerySchema = z.strictObject({
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'expected a month as YYYY-MM, for example 2026-03')
    .optional(),
});

export const CostMonthSchema = z.object({
  month: z.string(),
  timezone: z.string(),
  /** The month's local days, `YYYY-MM-DD`, in order. */
  days: z.array(z.string()),
  /** Each agent with spending that month or in the config: its USD per day, in the order of `days`. */
  agents: z.array(z.object({ agent: z.string(), daily_usd: z.array(z.number().nonnegative()) })),
  /** The month by agent and model, as `legion costs --period month` adds it up. */
  rows: z.array(CostRowSchema),
  totals: CountsSchema,
  /** The budgets in force now (today's and this month's figures). */
  budgets: z.array(BudgetStatusSchema),
});
export type CostMonth = z.infer<typeof CostMonthSchema>;
