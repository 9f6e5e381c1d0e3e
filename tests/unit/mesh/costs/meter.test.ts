// The cost meter over a real mesh.db: reservations against every applicable limit,
// settlement to the real cost (or to what a failed call may have been billed), calls
// without a reservation, embeddings, stale reservations after a crash, the report,
// and running totals that always equal the ledger.
import { afterEach, describe, expect, it } from 'vitest';
import { settlementTokens, type CostConfig, type CostReservation } from '../../../../src/mesh/costs/meter.js';
import { LegionError } from '../../../../src/shared/errors.js';
import { usdToNano } from '../../../../src/shared/money.js';
import type { Message } from '../../../../src/shared/wire/llm.js';
import { bookCall, openTestMeter, type TestMeter, type TestMeterOptions } from '../../../helpers/cost-meter.js';

const open: TestMeter[] = [];
afterEach(() => open.splice(0).forEach((m) => m.close()));

const NOON = Date.parse('2025-06-04T12:00:00Z');

function meter(options: TestMeterOptions = {}): TestMeter {
  const m = openTestMeter({ now: () => NOON, ...options });
  open.push(m);
  return m;
}

function budgets(
  config: Partial<{ fleet: CostConfig['mesh']['budget']; agents: CostConfig['agents']; timezone: string }>,
): () => CostConfig {
  return () => ({ mesh: { timezone: config.timezone ?? 'UTC', budget: config.fleet }, agents: config.agents ?? {} });
}

/** 396 characters: 99 + 4 prompt tokens estimated. */
const messages: Message[] = [{ role: 'user', content: 'q'.repeat(396) }];
// gpt-4o: $2.50 in, $10 out per million tokens.
const GPT4O_IN = 2500;
const GPT4O_OUT = 10_000;

function totalsRow(
  m: TestMeter,
  scope: string,
  period: string,
): { spent_nano: number; reserved_nano: number } | undefined {
  return m.db
    .prepare<[string, string], { spent_nano: number; reserved_nano: number }>(
      'SELECT spent_nano, reserved_nano FROM cost_totals WHERE scope = ? AND period = ?',
    )
    .get(scope, period);
}

function refusal(fn: () => unknown): LegionError {
  try {
    fn();
  } catch (err) {
    if (err instanceof LegionError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('reserve and settle', () => {
  it('holds the worst case in all four totals, then books the real cost in its place', () => {
    const m = meter();
    const reservation = m.meter.reserve({
      agent: 'researcher',
      trace: 't1',
      request: { model: 'openai/gpt-4o', messages, max_tokens: 100 },
    });
    const worst = 103 * GPT4O_IN + 100 * GPT4O_OUT;
    expect(reservation).toMatchObject({
      agent: 'researcher',
      provider: 'openai',
      model: 'gpt-4o',
      amountNano: worst,
      estimate: { prompt_tokens: 103, completion_tokens: 100 },
    });
    for (const [scope, period] of [
      ['agent:researcher', 'day:2025-06-04'],
      ['agent:researcher', 'month:2025-06'],
      ['fleet', 'day:2025-06-04'],
      ['fleet', 'month:2025-06'],
    ] as const) {
      expect(totalsRow(m, scope, period)).toEqual({ spent_nano: 0, reserved_nano: worst });
    }
    m.meter.settle(reservation, { status: 'ok', usage: { prompt_tokens: 99, completion_tokens: 40 } }, 12.4, 't1');
    const real = 99 * GPT4O_IN + 40 * GPT4O_OUT;
    expect(totalsRow(m, 'fleet', 'month:2025-06')).toEqual({ spent_nano: real, reserved_nano: 0 });
    expect(totalsRow(m, 'agent:researcher', 'day:2025-06-04')).toEqual({ spent_nano: real, reserved_nano: 0 });
    expect(
      m.db
        .prepare(
          'SELECT agent, kind, provider, model, prompt_tokens, completion_tokens, cost_nano, latency_ms, outcome, trace, at FROM cost_usage',
        )
        .all(),
    ).toEqual([
      {
        agent: 'researcher',
        kind: 'chat',
        provider: 'openai',
        model: 'gpt-4o',
        prompt_tokens: 99,
        completion_tokens: 40,
        cost_nano: real,
        latency_ms: 12,
        outcome: 'ok',
        trace: 't1',
        at: NOON,
      },
    ]);
    expect(m.db.prepare('SELECT COUNT(*) AS n FROM cost_reservations').get()).toEqual({ n: 0 });
  });

  it('books a reservation once: a second settlement changes nothing and is logged', () => {
    const m = meter();
    const reservation = m.meter.reserve({ agent: 'a', trace: null, request: { model: 'openai/gpt-4o', messages } });
    m.meter.settle(reservation, { status: 'ok', usage: { prompt_tokens: 10, completion_tokens: 10 } }, 1, null);
    m.meter.settle(reservation, { status: 'ok', usage: { prompt_tokens: 1000, completion_tokens: 1000 } }, 1, null);
    expect(totalsRow(m, 'fleet', 'day:2025-06-04')).toEqual({
      spent_nano: 10 * GPT4O_IN + 10 * GPT4O_OUT,
      reserved_nano: 0,
    });
    expect(m.logs.filter((l) => l.event === 'cost_settle_repeated')).toHaveLength(1);
  });

  it('keeps a call that ends after midnight in the day it was reserved in', () => {
    let now = Date.parse('2025-06-04T23:59:59Z');
    const m = meter({ now: () => now });
    const reservation = m.meter.reserve({
      agent: 'a',
      trace: null,
      request: { model: 'openai/gpt-4o', messages, max_tokens: 10 },
    });
    now = Date.parse('2025-06-05T00:00:05Z');
    m.meter.settle(reservation, { status: 'ok', usage: { prompt_tokens: 1, completion_tokens: 1 } }, 6000, null);
    expect(totalsRow(m, 'agent:a', 'day:2025-06-04')).toEqual({ spent_nano: GPT4O_IN + GPT4O_OUT, reserved_nano: 0 });
    expect(totalsRow(m, 'agent:a', 'day:2025-06-05')).toBeUndefined();
  });
});

describe('failed calls', () => {
  const reservation = { estimate: { prompt_tokens: 103, completion_tokens: 4096 } } satisfies Pick<
    CostReservation,
    'estimate'
  >;

  it('cost nothing when the provider refused or was never reached', () => {
    expect(settlementTokens(reservation, { status: 'failed', billed: false, streamedChars: 0 })).toEqual({
      prompt_tokens: 0,
      completion_tokens: 0,
    });
  });

  it('cost the prompt and the text streamed so far when the provider had taken the call', () => {
    expect(settlementTokens(reservation, { status: 'failed', billed: true, streamedChars: 41 })).toEqual({
      prompt_tokens: 103,
      completion_tokens: 11,
    });
    expect(settlementTokens(reservation, { status: 'ok', usage: { prompt_tokens: 7, completion_tokens: 8 } })).toEqual({
      prompt_tokens: 7,
      completion_tokens: 8,
    });
  });

  it('are booked with outcome failed and release their reservation', () => {
    const m = meter();
    const r = m.meter.reserve({ agent: 'a', trace: null, request: { model: 'openai/gpt-4o', messages } });
    m.meter.settle(r, { status: 'failed', billed: false, streamedChars: 0 }, 3, null);
    expect(totalsRow(m, 'fleet', 'day:2025-06-04')).toEqual({ spent_nano: 0, reserved_nano: 0 });
    expect(m.db.prepare('SELECT outcome, cost_nano FROM cost_usage').all()).toEqual([
      { outcome: 'failed', cost_nano: 0 },
    ]);
  });
});

describe('budgets', () => {
  it('refuses with 402 budget_exceeded before anything is held, and records the refusal', () => {
    // 498,000 prompt tokens of gpt-4o at $10 per million (a project override is not needed: 2.5 * 4 calls).
    const m = meter({ config: budgets({ agents: { researcher: { budget: { daily_usd: 5 } } } }) });
    bookCall(m.meter, { agent: 'researcher', model: 'openai/gpt-4o', prompt_tokens: 1_992_000, completion_tokens: 0 });
    const err = refusal(() =>
      m.meter.reserve({
        agent: 'researcher',
        trace: 'trace-9',
        request: { model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4000 },
      }),
    );
    expect(err).toMatchObject({ code: 'budget_exceeded', status: 402 });
    expect(err.message).toBe('budget exceeded for researcher: daily $5.00, spent $4.98, this call needs up to $0.04');
    expect(totalsRow(m, 'agent:researcher', 'day:2025-06-04')).toEqual({
      spent_nano: usdToNano(4.98),
      reserved_nano: 0,
    });
    expect(m.db.prepare('SELECT COUNT(*) AS n FROM cost_reservations').get()).toEqual({ n: 0 });
    expect(m.events.list({ agent: 'researcher' })).toContainEqual(
      expect.objectContaining({
        kind: 'budget_exceeded',
        subject: 'openai/gpt-4o',
        trace: 'trace-9',
        detail: expect.objectContaining({ scope: 'agent', window: 'daily' }),
      }),
    );
  });

  it('checks the agent monthly and the fleet limits, counting other agents for the fleet', () => {
    const config = budgets({
      fleet: { daily_usd: 1, monthly_usd: 100 },
      agents: { a: { budget: { monthly_usd: 0.5 } } },
    });
    const m = meter({ config });
    // The call's worst case: 103 * $2.50 + 100 * $10 per million = $0.0012575.
    const request = { model: 'openai/gpt-4o', messages, max_tokens: 100 };
    bookCall(m.meter, { agent: 'b', model: 'openai/gpt-4o', prompt_tokens: 399_600, completion_tokens: 0 });
    expect(refusal(() => m.meter.reserve({ agent: 'c', trace: null, request })).message).toBe(
      'fleet budget exceeded: daily $1.0000, spent $0.9990, this call needs up to $0.0013',
    );
    expect(refusal(() => m.meter.reserve({ agent: 'a', trace: null, request })).message).toMatch(
      /^fleet budget exceeded: daily /,
    );
    const other = meter({
      config: budgets({ fleet: { daily_usd: 1 }, agents: { a: { budget: { daily_usd: 1, monthly_usd: 0.002 } } } }),
    });
    expect(other.meter.reserve({ agent: 'a', trace: null, request }).amountNano).toBe(1_257_500);
    expect(refusal(() => other.meter.reserve({ agent: 'a', trace: null, request })).message).toBe(
      'budget exceeded for a: monthly $0.0020, spent $0.0000 + $0.0013 reserved by calls in flight, this call needs up to $0.0013',
    );
    expect(other.meter.reserve({ agent: 'b', trace: null, request }).amountNano).toBe(1_257_500);
  });

  it('uses the configured time zone for days', () => {
    // 23:30 UTC on June 4 is already June 5 in Berlin.
    const m = meter({ now: () => Date.parse('2025-06-04T23:30:00Z'), config: budgets({ timezone: 'Europe/Berlin' }) });
    const r = m.meter.reserve({ agent: 'a', trace: null, request: { model: 'openai/gpt-4o', messages } });
    m.meter.settle(r, { status: 'ok', usage: { prompt_tokens: 1, completion_tokens: 0 } }, 1, null);
    expect(totalsRow(m, 'agent:a', 'day:2025-06-05')?.spent_nano).toBe(GPT4O_IN);
  });
});

describe('reserveEmbedding', () => {
  // text-embedding-3-small: $0.02 per million input tokens, nothing for output.
  const EMBED_IN = 20;

  it('holds the input estimate at the embedding price and books the settled call as an embedding', () => {
    const m = meter();
    // 8 + 3 characters: 2 + 1 tokens at 4 characters a token, rounded up per text.
    const reservation = m.meter.reserveEmbedding({
      agent: 'a',
      trace: 't2',
      model: 'openai/text-embedding-3-small',
      input: ['12345678', 'abc'],
    });
    expect(reservation).toMatchObject({
      kind: 'embedding',
      provider: 'openai',
      model: 'text-embedding-3-small',
      estimate: { prompt_tokens: 3, completion_tokens: 0 },
      amountNano: 3 * EMBED_IN,
    });
    expect(totalsRow(m, 'agent:a', 'day:2025-06-04')).toEqual({ spent_nano: 0, reserved_nano: 3 * EMBED_IN });
    m.meter.settle(reservation, { status: 'ok', usage: { prompt_tokens: 5, completion_tokens: 0 } }, 12, 't2');
    expect(totalsRow(m, 'agent:a', 'day:2025-06-04')).toEqual({ spent_nano: 5 * EMBED_IN, reserved_nano: 0 });
    expect(m.db.prepare('SELECT kind, model, prompt_tokens, cost_nano, outcome, trace FROM cost_usage').all()).toEqual([
      {
        kind: 'embedding',
        model: 'text-embedding-3-small',
        prompt_tokens: 5,
        cost_nano: 5 * EMBED_IN,
        outcome: 'ok',
        trace: 't2',
      },
    ]);
  });

  it('is refused like a chat call when it does not fit a budget', () => {
    const m = meter({ config: budgets({ agents: { a: { budget: { daily_usd: 0 } } } }) });
    const err = refusal(() =>
      m.meter.reserveEmbedding({ agent: 'a', trace: null, model: 'openai/text-embedding-3-small', input: ['hello'] }),
    );
    expect(err).toMatchObject({ code: 'budget_exceeded', status: 402 });
    expect(err.message).toMatch(/^budget exceeded for a: daily \$0/);
    expect(m.db.prepare('SELECT COUNT(*) AS n FROM cost_reservations').get()).toEqual({ n: 0 });
  });
});

describe('stale reservations', () => {
  it('are released when the mesh starts again after a crash', () => {
    const first = meter();
    const path = first.db.name;
    first.meter.reserve({ agent: 'a', trace: null, request: { model: 'openai/gpt-4o', messages } });
    first.meter.reserve({ agent: 'b', trace: null, request: { model: 'openai/gpt-4o', messages } });
    expect(totalsRow(first, 'fleet', 'day:2025-06-04')?.reserved_nano).toBeGreaterThan(0);
    first.db.close();
    const second = meter({ dbPath: path });
    expect(totalsRow(second, 'fleet', 'day:2025-06-04')).toEqual({ spent_nano: 0, reserved_nano: 0 });
    expect(second.db.prepare('SELECT agent, outcome, cost_nano FROM cost_usage ORDER BY id').all()).toEqual([
      { agent: 'a', outcome: 'interrupted', cost_nano: 0 },
      { agent: 'b', outcome: 'interrupted', cost_nano: 0 },
    ]);
    expect(second.logs).toContainEqual(expect.objectContaining({ event: 'cost_reservations_released', count: 2 }));
  });
});

describe('running totals', () => {
  it('always equal the ledger plus the open reservations', () => {
    let now = Date.parse('2025-05-31T20:00:00Z');
    const m = meter({ now: () => now, config: budgets({ fleet: { daily_usd: 1000 } }) });
    const open: CostReservation[] = [];
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let i = 0; i < 400; i++) {
      now += Math.floor(random() * 120_000);
      const agent = ['a', 'b', 'c'][Math.floor(random() * 3)] ?? 'a';
      const roll = random();
      if (roll < 0.45)
        open.push(
          m.meter.reserve({
            agent,
            trace: null,
            request: { model: 'openai/gpt-4o-mini', messages, max_tokens: 1 + Math.floor(random() * 500) },
          }),
        );
      else if (roll < 0.9 && open.length > 0) {
        const r = open.splice(Math.floor(random() * open.length), 1)[0];
        if (r)
          m.meter.settle(
            r,
            random() < 0.8
              ? { status: 'ok', usage: { prompt_tokens: 50, completion_tokens: Math.floor(random() * 300) } }
              : { status: 'failed', billed: random() < 0.5, streamedChars: 80 },
            5,
            null,
          );
      } else {
        const embedding = m.meter.reserveEmbedding({
          agent,
          trace: null,
          model: 'openai/text-embedding-3-small',
          input: ['a text to embed'],
        });
        m.meter.settle(embedding, { status: 'ok', usage: { prompt_tokens: 1000, completion_tokens: 0 } }, 1, null);
      }
    }
    const totals = m.db
      .prepare<[], { scope: string; period: string; spent_nano: number; reserved_nano: number }>(
        'SELECT * FROM cost_totals',
      )
      .all();
    expect(totals.length).toBeGreaterThan(8);
    const ledger = m.db
      .prepare<[], { agent: string; at: number; cost_nano: number }>('SELECT agent, at, cost_nano FROM cost_usage')
      .all();
    const reservations = m.db
      .prepare<[], { agent: string; day: string; month: string; amount_nano: number }>(
        'SELECT * FROM cost_reservations',
      )
      .all();
    expect(reservations).toHaveLength(open.length);
    for (const row of totals) {
      const [kind, key] = row.period.split(':') as ['day' | 'month', string];
      const inScope = (agent: string) => row.scope === 'fleet' || row.scope === `agent:${agent}`;
      const inPeriod = (at: number) => new Date(at).toISOString().slice(0, kind === 'day' ? 10 : 7) === key;
      const spent = ledger.filter((u) => inScope(u.agent) && inPeriod(u.at)).reduce((sum, u) => sum + u.cost_nano, 0);
      const reserved = reservations
        .filter((r) => inScope(r.agent) && (kind === 'day' ? r.day : r.month) === key)
        .reduce((sum, r) => sum + r.amount_nano, 0);
      expect({
        scope: row.scope,
        period: row.period,
        spent_nano: row.spent_nano,
        reserved_nano: row.reserved_nano,
      }).toEqual({ scope: row.scope, period: row.period, spent_nano: spent, reserved_nano: reserved });
    }
  });
});

describe('report', () => {
  it('groups the period by agent and model, with totals and the budgets in force', () => {
    let now = Date.parse('2025-06-02T09:00:00Z');
    const m = meter({
      now: () => now,
      config: budgets({ fleet: { monthly_usd: 50 }, agents: { a: { budget: { daily_usd: 2 } }, b: {} } }),
    });
    const call = (agent: string, model: string, prompt: number, completion: number) => {
      const r = m.meter.reserve({ agent, trace: null, request: { model, messages, max_tokens: 10 } });
      m.meter.settle(r, { status: 'ok', usage: { prompt_tokens: prompt, completion_tokens: completion } }, 1, null);
    };
    call('a', 'openai/gpt-4o', 1000, 100);
    now = Date.parse('2025-06-04T09:00:00Z');
    call('a', 'openai/gpt-4o', 1000, 100);
    call('a', 'anthropic/claude-sonnet-4-5', 2000, 0);
    call('b', 'openai/gpt-4o', 10, 10);
    const failed = m.meter.reserve({ agent: 'b', trace: null, request: { model: 'openai/gpt-4o', messages } });
    m.meter.settle(failed, { status: 'failed', billed: false, streamedChars: 0 }, 1, null);

    const today = m.meter.report({ period: 'today' });
    expect(today).toMatchObject({
      period: 'today',
      timezone: 'UTC',
      agent: null,
      first_day: '2025-06-04',
      last_day: '2025-06-04',
      from: '2025-06-04T00:00:00.000Z',
      to: '2025-06-05T00:00:00.000Z',
    });
    expect(today.rows).toEqual([
      {
        agent: 'a',
        model: 'anthropic/claude-sonnet-4-5',
        calls: 1,
        failed: 0,
        prompt_tokens: 2000,
        completion_tokens: 0,
        cost_usd: 0.006,
      },
      {
        agent: 'a',
        model: 'openai/gpt-4o',
        calls: 1,
        failed: 0,
        prompt_tokens: 1000,
        completion_tokens: 100,
        cost_usd: 0.0035,
      },
      {
        agent: 'b',
        model: 'openai/gpt-4o',
        calls: 2,
        failed: 1,
        prompt_tokens: 10,
        completion_tokens: 10,
        cost_usd: 0.000125,
      },
    ]);
    expect(today.totals).toEqual({
      calls: 4,
      failed: 1,
      prompt_tokens: 3010,
      completion_tokens: 110,
      cost_usd: 0.009625,
    });
    expect(today.budgets).toEqual([
      {
        agent: 'a',
        window: 'daily',
        period: '2025-06-04',
        limit_usd: 2,
        spent_usd: 0.0095,
        reserved_usd: 0,
        remaining_usd: 1.9905,
      },
      {
        agent: null,
        window: 'monthly',
        period: '2025-06',
        limit_usd: 50,
        spent_usd: 0.013125,
        reserved_usd: 0,
        remaining_usd: 49.986875,
      },
    ]);
    const week = m.meter.report({ period: 'week', agent: 'a' });
    expect(week.rows.map((r) => [r.model, r.calls])).toEqual([
      ['anthropic/claude-sonnet-4-5', 1],
      ['openai/gpt-4o', 2],
    ]);
    expect(week.budgets.map((b) => b.agent)).toEqual(['a', null]);
    expect(m.meter.report({ period: 'today', agent: 'b' }).budgets.map((b) => b.agent)).toEqual([null]);
  });
});
