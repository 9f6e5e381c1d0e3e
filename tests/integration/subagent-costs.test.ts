// A sub-agent's LLM spend over a real ledger: booked under its own id, counted in its
// parent's budget (a call that would take the parent over its limit is refused, naming
// the parent), and reported right under the parent, with `parent`, also when the report
// is filtered to the parent.
import { afterEach, describe, expect, it } from 'vitest';
import { bookCall, openTestMeter, type TestMeter } from '../helpers/cost-meter.js';

const MODEL = 'openai/gpt-4o-mini';

describe('sub-agent spend', () => {
  let meter: TestMeter | undefined;
  afterEach(() => meter?.close());

  it('counts against the parent budget and shows under the parent', () => {
    meter = openTestMeter({
      config: () => ({ mesh: { timezone: 'UTC' }, agents: { lead: { budget: { daily_usd: 1 } }, other: {} } }),
    });
    bookCall(meter.meter, { agent: 'lead', model: MODEL, prompt_tokens: 1000, completion_tokens: 100 });
    bookCall(meter.meter, { agent: 'lead_0a1b2c3d', model: MODEL, prompt_tokens: 2000, completion_tokens: 200 });
    bookCall(meter.meter, { agent: 'lead-writer', model: MODEL, prompt_tokens: 10, completion_tokens: 1 });

    const all = meter.meter.report({ period: 'today' });
    expect(all.rows.map((row) => [row.agent, row.parent])).toEqual([
      ['lead', undefined],
      ['lead_0a1b2c3d', 'lead'],
      ['lead-writer', undefined],
    ]);
    const lead = meter.meter.report({ agent: 'lead', period: 'today' });
    expect(lead.rows.map((row) => row.agent)).toEqual(['lead', 'lead_0a1b2c3d']);
    const spent = lead.rows.reduce((sum, row) => sum + row.cost_usd, 0);
    const budget = lead.budgets.find((b) => b.agent === 'lead' && b.window === 'daily');
    expect(budget?.spent_usd).toBeCloseTo(spent, 12);
    // No budget scope of its own: the sub-agent id is not an agent with limits.
    expect(lead.budgets.some((b) => b.agent === 'lead_0a1b2c3d')).toBe(false);
  });

  it("refuses a sub-agent's call that the parent's budget cannot hold, naming the parent", () => {
    meter = openTestMeter({
      config: () => ({ mesh: { timezone: 'UTC' }, agents: { lead: { budget: { daily_usd: 0 } } } }),
    });
    expect(() =>
      bookCall(meter!.meter, { agent: 'lead_0a1b2c3d', model: MODEL, prompt_tokens: 10, completion_tokens: 10 }),
    ).toThrow(/^budget exceeded for lead: daily \$0/);
  });
});
