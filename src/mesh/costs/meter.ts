// The costs domain as the LLM routes use it: reserve a call's worst case (chat or
// embeddings) against every budget that applies, settle it to the real cost, and report
// spending. Invariants:
// - reserve() either holds the whole worst case in the ledger or throws a 402
//   budget_exceeded LegionError, before anything reaches a provider;
// - settle() never throws (a failure to book is logged), and books each reservation
//   once: a successful call at its real usage; a failed call at zero when the provider
//   refused or was never reached, else (cancelled, or broken mid-answer) at the prompt
//   estimate plus the text streamed so far, since the provider bills what it generated;
// - budgets and the time zone are read from the config at every call, so a reloaded
//   config applies to the next call.
import type { AgentEntry, MeshFile } from '../../shared/config/schema.js';
import { LegionError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logging.js';
import { nanoToUsd, usdToNano } from '../../shared/money.js';
import type { LlmChatRequestParsed, Usage } from '../../shared/wire/llm.js';
import type { BudgetStatus, CostMonth, CostPeriod, CostReport, CostRow } from '../../shared/wire/costs.js';
import type { Db } from '../db.js';
import type { EventLog } from '../events/log.js';
import { splitModel } from '../llm/proxy.js';
import { embeddingWorstCase, estimateTokens, worstCase, type CallEstimate } from './estimate.js';
import {
  agentScope,
  CostLedger,
  dayPeriod,
  FLEET_SCOPE,
  monthPeriod,
  type ReserveResult,
  type UsageGroup,
  type UsageKind,
} from './ledger.js';
import { monthDays, periodKeys, reportRange, type PeriodKeys } from './periods.js';
import { costNano, type Price, type PriceBook } from '../../shared/config/prices.js';
import { budgetOwner, parentOfSubAgent } from '../../shared/subagents.js';

/** What the reservation is computed from: the normalized request, model resolved. */
export type MeteredRequest = Pick<LlmChatRequestParsed, 'messages' | 'tools' | 'max_tokens'> & { model: string };

export interface CostReservation {
  readonly id: number;
  /** What the call is booked as when it settles. */
  readonly kind: UsageKind;
  readonly agent: string;
  readonly provider: string;
  readonly model: string;
  readonly price: Price;
  readonly estimate: CallEstimate;
  readonly amountNano: number;
  /** Epoch ms the call started. */
  readonly at: number;
}

/** A web search held against the budgets until it settles. */
export interface SearchReservation {
  readonly id: number;
  readonly agent: string;
  readonly amountNano: number;
  readonly at: number;
}

/** The model column of search rows: `legion costs` shows them as <backend>/web_search. */
export const SEARCH_MODEL = 'web_search';

export type CallOutcome =
  | { status: 'ok'; usage: Usage }
  | {
      status: 'failed';
      /** The provider had taken the call (it was cancelled or broke mid-answer), so it bills for it. */
      billed: boolean;
      /** Characters of answer text already streamed to the caller. */
      streamedChars: number;
    };

/** How the LLM route meters each call. */
export interface LlmMetering {
  reserve(call: { agent: string; trace: string | null; request: MeteredRequest }): CostReservation;
  settle(reservation: CostReservation, outcome: CallOutcome, latencyMs: number, trace: string | null): void;
}

/** How the embeddings route meters each call: like chat, reserved then settled. */
export interface EmbeddingMetering {
  reserveEmbedding(call: {
    agent: string;
    trace: string | null;
    model: string;
    input: readonly string[];
  }): CostReservation;
  settle(reservation: CostReservation, outcome: CallOutcome, latencyMs: number, trace: string | null): void;
}

export interface CostConfig {
  mesh: Pick<MeshFile, 'budget' | 'timezone'>;
  agents: Record<string, Pick<AgentEntry, 'budget'>>;
}

export interface CostMeterOptions {
  ledger: CostLedger;
  prices: PriceBook;
  config: () => CostConfig;
  events: EventLog;
  logger: Logger;
  now?: () => number;
}

/** The tokens a call is charged for (see the file comment). */
export function settlementTokens(reservation: Pick<CostReservation, 'estimate'>, outcome: CallOutcome): Usage {
  if (outcome.status === 'ok') return outcome.usage;
  if (!outcome.billed) return { prompt_tokens: 0, completion_tokens: 0 };
  return {
    prompt_tokens: reservation.estimate.prompt_tokens,
    completion_tokens: estimateTokens(outcome.streamedChars),
  };
}

export class CostMeter implements LlmMetering, EmbeddingMetering {
  private readonly options: CostMeterOptions;
  private readonly now: () => number;

  constructor(options: CostMeterOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  reserve(call: { agent: string; trace: string | null; request: MeteredRequest }): CostReservation {
    return this.hold({
      kind: 'chat',
      agent: call.agent,
      trace: call.trace,
      model: call.request.model,
      estimate: worstCase(call.request),
    });
  }

  reserveEmbedding(call: {
    agent: string;
    trace: string | null;
    model: string;
    input: readonly string[];
  }): CostReservation {
    return this.hold({
      kind: 'embedding',
      agent: call.agent,
      trace: call.trace,
      model: call.model,
      estimate: embeddingWorstCase(call.input),
    });
  }

  /** Holds `estimate` at the model's price against every budget of the agent, or throws the 402. */
  private hold(call: {
    kind: UsageKind;
    agent: string;
    trace: string | null;
    model: string;
    estimate: CallEstimate;
  }): CostReservation {
    const { kind, agent, estimate } = call;
    const { ledger, prices } = this.options;
    const at = this.now();
    const ref = splitModel(call.model) ?? { provider: '', model: call.model };
    const { price } = prices.lookup(call.model);
    const amountNano = costNano(price, estimate.prompt_tokens, estimate.completion_tokens);
    const config = this.options.config();
    const result = ledger.reserve({
      at,
      agent,
      provider: ref.provider,
      model: ref.model,
      amountNano,
      keys: periodKeys(at, config.mesh.timezone),
      agentBudget: config.agents[budgetOwner(agent)]?.budget,
      fleetBudget: config.mesh.budget,
    });
    if (!result.ok) this.refuse(agent, call.trace, call.model, amountNano, result.refusal);
    return { id: result.id, kind, agent, provider: ref.provider, model: ref.model, price, estimate, amountNano, at };
  }

  private refuse(
    agent: string,
    trace: string | null,
    subject: string,
    amountNano: number,
    refusal: Extract<ReserveResult, { ok: false }>['refusal'],
  ): never {
    const { limit, message } = refusal;
    const detail = {
      scope: limit.agent === null ? 'fleet' : 'agent',
      window: limit.window,
      model: subject,
      needs_usd: nanoToUsd(amountNano),
    };
    this.options.events.record({ agent, kind: 'budget_exceeded', subject, detail, trace });
    this.options.logger.warn({ agent, trace, event: 'budget_exceeded', ...detail }, message);
    throw new LegionError('budget_exceeded', message);
  }

  /** Holds one web search at its per-call price against the agent's budgets, or throws the 402. */
  reserveSearch(call: { agent: string; trace: string | null; priceUsd: number }): SearchReservation {
    const at = this.now();
    const amountNano = usdToNano(call.priceUsd);
    const config = this.options.config();
    const result = this.options.ledger.reserve({
      at,
      agent: call.agent,
      provider: 'search',
      model: SEARCH_MODEL,
      amountNano,
      keys: periodKeys(at, config.mesh.timezone),
      agentBudget: config.agents[budgetOwner(call.agent)]?.budget,
      fleetBudget: config.mesh.budget,
    });
    if (!result.ok) this.refuse(call.agent, call.trace, SEARCH_MODEL, amountNano, result.refusal);
    return { id: result.id, agent: call.agent, amountNano, at };
  }

  /** Books a search under the backend that answered (a failed search costs nothing). Never throws. */
  settleSearch(
    reservation: SearchReservation,
    outcome: { backend: string | null; ok: boolean; latencyMs: number },
    trace: string | null,
  ): void {
    try {
      this.options.ledger.settle(reservation.id, {
        at: reservation.at,
        agent: reservation.agent,
        kind: 'search',
        provider: outcome.backend ?? 'search',
        model: SEARCH_MODEL,
        prompt_tokens: 0,
        completion_tokens: 0,
        costNano: outcome.ok ? reservation.amountNano : 0,
        latency_ms: Math.round(outcome.latencyMs),
        outcome: outcome.ok ? 'ok' : 'failed',
        trace,
      });
    } catch (err) {
      this.options.logger.error(
        { err, agent: reservation.agent, trace, event: 'cost_settle_failed' },
        'could not book the cost of a web search',
      );
    }
  }

  settle(reservation: CostReservation, outcome: CallOutcome, latencyMs: number, trace: string | null): void {
    try {
      const usage = settlementTokens(reservation, outcome);
      const settled = this.options.ledger.settle(reservation.id, {
        at: reservation.at,
        agent: reservation.agent,
        kind: reservation.kind,
        provider: reservation.provider,
        model: reservation.model,
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
        costNano: costNano(reservation.price, usage.prompt_tokens, usage.completion_tokens),
        latency_ms: Math.round(latencyMs),
        outcome: outcome.status,
        trace,
      });
      if (!settled) {
        this.options.logger.error(
          { agent: reservation.agent, trace, event: 'cost_settle_repeated', reservation: reservation.id },
          'a cost reservation was settled twice; the second settlement was ignored',
        );
      }
    } catch (err) {
      this.options.logger.error(
        { err, agent: reservation.agent, trace, event: 'cost_settle_failed' },
        'could not book the cost of an LLM call',
      );
    }
  }

  report(query: { agent?: string | undefined; period: CostPeriod }): CostReport {
    const config = this.options.config();
    const timeZone = config.mesh.timezone;
    const now = this.now();
    const range = reportRange(query.period, now, timeZone);
    const agent = query.agent ?? null;
    const groups = this.options.ledger.usageByModel(range.fromMs, range.toMs, agent);
    return {
      period: query.period,
      timezone: timeZone,
      from: new Date(range.fromMs).toISOString(),
      to: new Date(range.toMs).toISOString(),
      first_day: range.firstDay,
      last_day: range.lastDay,
      agent,
      ...rowsAndTotals(groups),
      budgets: this.budgetStatuses(config, agent, periodKeys(now, timeZone)),
    };
  }

  /** Spend per agent per local day of `month` (the current one by default), the month by
   *  agent and model, and the budgets in force: the dashboard's costs page. Each day is
   *  added up by the same query as `report`, so the figures match `legion costs`. */
  monthReport(month: string | undefined): CostMonth {
    const config = this.options.config();
    const timeZone = config.mesh.timezone;
    const now = this.now();
    const key = month ?? periodKeys(now, timeZone).month;
    const days = monthDays(key, timeZone);
    const perDay = days.map((day) => this.options.ledger.usageByModel(day.fromMs, day.toMs, null));
    const names = [...new Set([...Object.keys(config.agents), ...perDay.flat().map((group) => group.agent)])].sort();
    const agents = names.map((agent) => ({
      agent,
      daily_usd: perDay.map((groups) =>
        nanoToUsd(groups.filter((group) => group.agent === agent).reduce((total, group) => total + group.cost_nano, 0)),
      ),
    }));
    const first = days[0];
    const last = days.at(-1);
    const groups = first && last ? this.options.ledger.usageByModel(first.fromMs, last.toMs, null) : [];
    return {
      month: key,
      timezone: timeZone,
      days: days.map((day) => day.day),
      agents,
      ...rowsAndTotals(groups),
      budgets: this.budgetStatuses(config, null, periodKeys(now, timeZone)),
    };
  }

  /** What the calls of one trace (a heartbeat's wake-up, say) cost since `sinceMs`. */
  traceCost(agent: string, trace: string, sinceMs: number): { calls: number; cost_usd: number } {
    const usage = this.options.ledger.usageOfTrace(agent, trace, sinceMs);
    return { calls: usage.calls, cost_usd: nanoToUsd(usage.cost_nano) };
  }

  /** Each configured limit (of `agent` only, when given, plus the fleet's) with today's
   *  or this month's totals. */
  private budgetStatuses(config: CostConfig, agent: string | null, keys: PeriodKeys): BudgetStatus[] {
    const { ledger } = this.options;
    const statuses: BudgetStatus[] = [];
    const add = (owner: string | null, scope: string, budget: CostConfig['mesh']['budget']) => {
      const windows = [
        { window: 'daily' as const, limit: budget?.daily_usd, period: keys.day, key: dayPeriod(keys.day) },
        { window: 'monthly' as const, limit: budget?.monthly_usd, period: keys.month, key: monthPeriod(keys.month) },
      ];
      for (const { window, limit, period, key } of windows) {
        if (limit === undefined) continue;
        const { spentNano, reservedNano } = ledger.totals(scope, key);
        statuses.push({
          agent: owner,
          window,
          period,
          limit_usd: limit,
          spent_usd: nanoToUsd(spentNano),
          reserved_usd: nanoToUsd(reservedNano),
          remaining_usd: nanoToUsd(Math.max(0, usdToNano(limit) - spentNano - reservedNano)),
        });
      }
    };
    const names = agent === null ? Object.keys(config.agents).sort() : [agent];
    for (const name of names) add(name, agentScope(name), config.agents[name]?.budget);
    add(null, FLEET_SCOPE, config.mesh.budget);
    return statuses;
  }
}

function withParent(agent: string): { parent?: string } {
  const parent = parentOfSubAgent(agent);
  return parent === null ? {} : { parent };
}

/** A sub-agent's rows right after its parent's (ids sort after other names otherwise). */
function sortUnderParents(groups: UsageGroup[]): UsageGroup[] {
  const key = (agent: string) => `${budgetOwner(agent)}\u0000${agent === budgetOwner(agent) ? '' : agent}`;
  return [...groups].sort((a, b) => (key(a.agent) < key(b.agent) ? -1 : key(a.agent) > key(b.agent) ? 1 : 0));
}

/** Ledger groups as report rows, with their totals (the cost summed in nano-dollars, exactly). */
function rowsAndTotals(groups: UsageGroup[]): { rows: CostRow[]; totals: CostReport['totals'] } {
  const rows: CostRow[] = sortUnderParents(groups).map((group) => ({
    agent: group.agent,
    ...withParent(group.agent),
    model: group.provider ? `${group.provider}/${group.model}` : group.model,
    calls: group.calls,
    failed: group.failed,
    prompt_tokens: group.prompt_tokens,
    completion_tokens: group.completion_tokens,
    cost_usd: nanoToUsd(group.cost_nano),
  }));
  const sum = (pick: (row: CostRow) => number) => rows.reduce((total, row) => total + pick(row), 0);
  return {
    rows,
    totals: {
      calls: sum((r) => r.calls),
      failed: sum((r) => r.failed),
      prompt_tokens: sum((r) => r.prompt_tokens),
      completion_tokens: sum((r) => r.completion_tokens),
      cost_usd: nanoToUsd(groups.reduce((total, group) => total + group.cost_nano, 0)),
    },
  };
}

/** The costs domain over mesh.db: releases reservations a crashed mesh left open (no
 *  call can be in flight while the mesh starts), then meters from the config. */
export function openCostMeter(options: Omit<CostMeterOptions, 'ledger'> & { db: Db }): CostMeter {
  const { db, ...rest } = options;
  const ledger = new CostLedger(db);
  const released = ledger.releaseStale();
  if (released > 0) {
    rest.logger.warn(
      { event: 'cost_reservations_released', count: released },
      `released ${released} budget reservation(s) of calls cut off when the mesh last stopped`,
    );
  }
  return new CostMeter({ ...rest, ledger });
}
