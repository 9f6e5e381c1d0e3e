// Costs through the whole mesh: agents as local processes call the LLM through the
// mesh, the costs domain books each call in .legion/mesh.db, and the admin API,
// `legion costs` and the REPL's /costs read it back; an agent over its budget gets the
// refusal as its chat error, and no provider call is made.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRepl } from '../../../src/cli/repl.js';
import { CostReportSchema } from '../../../src/shared/wire/costs.js';
import { EventListSchema } from '../../../src/shared/wire/events.js';
import { startHarness, type Harness } from '../../helpers/mesh-harness.js';
import { legion } from '../../helpers/project.js';

// gpt-4o-mini in the shipped table: $0.15 input and $0.60 output per million tokens.
const costOf = (prompt: number, completion: number) => (prompt * 150 + completion * 600) / 1e9;

describe('costs and budgets in a running mesh', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      agentsYaml:
        'agents:\n  researcher:\n    role: research\n    budget: { daily_usd: 5, monthly_usd: 50 }\n  broke:\n    role: no money left\n    budget: { daily_usd: 0 }\n',
    });
  });
  afterAll(async () => h?.close());

  it('books every call and reports it by agent and model through the admin API', async () => {
    expect(await h.say('researcher', 'hello there')).toBe('echo: hello there');
    expect(await h.say('researcher', 'and again')).toBe('echo: and again');
    const report = await h.client.requestJson('GET', '/api/costs?agent=researcher&period=today', CostReportSchema);
    expect(report).toMatchObject({ period: 'today', timezone: 'UTC', agent: 'researcher' });
    expect(report.rows).toHaveLength(1);
    const [row] = report.rows;
    expect(row).toMatchObject({ agent: 'researcher', model: 'openai/gpt-4o-mini', calls: 2, failed: 0 });
    expect(row?.prompt_tokens).toBeGreaterThan(10);
    expect(row?.completion_tokens).toBeGreaterThan(4);
    expect(row?.cost_usd).toBeCloseTo(costOf(row?.prompt_tokens ?? 0, row?.completion_tokens ?? 0), 12);
    expect(report.totals).toMatchObject({ calls: 2, cost_usd: row?.cost_usd });
    expect(report.budgets).toEqual([
      expect.objectContaining({
        agent: 'researcher',
        window: 'daily',
        limit_usd: 5,
        spent_usd: row?.cost_usd,
        reserved_usd: 0,
      }),
      expect.objectContaining({
        agent: 'researcher',
        window: 'monthly',
        limit_usd: 50,
        spent_usd: row?.cost_usd,
        reserved_usd: 0,
      }),
    ]);
    const bad = await fetch(`${h.client.baseUrl}/api/costs?period=year`, {
      headers: { authorization: `Bearer ${adminToken(h)}` },
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: {
        code: 'invalid_request',
        message: expect.stringContaining('query: period: expected one of "today", "week", "month"'),
      },
    });
  });

  it('refuses an agent over its budget: the chat shows the reason, the provider sees nothing', async () => {
    const before = h.fake.calls.length;
    const last = await h.client.chat('broke', 'spend something', () => undefined);
    expect(last.type).toBe('error');
    if (last.type !== 'error') return;
    expect(last.error.message).toMatch(
      /budget exceeded for broke: daily \$0\.0+, spent \$0\.0+, this call needs up to \$0\.00\d+/,
    );
    expect(h.fake.calls.length).toBe(before);
    const events = await h.client.requestJson('GET', '/api/events?agent=broke&limit=50', EventListSchema);
    expect(events.events).toContainEqual(
      expect.objectContaining({ kind: 'budget_exceeded', subject: 'openai/gpt-4o-mini' }),
    );
  });

  it('prints the table and the budgets with legion costs', async () => {
    const table = await legion(['costs', '--agent', 'researcher'], h.project.dir);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^LLM costs today \(\d{4}-\d\d-\d\d, UTC\) for researcher$/m);
    expect(table.stdout).toMatch(/^AGENT\s+MODEL\s+CALLS\s+FAILED\s+PROMPT TOKENS\s+COMPLETION TOKENS\s+USD$/m);
    expect(table.stdout).toMatch(/^researcher\s+openai\/gpt-4o-mini\s+2\s+0\s+\d+\s+\d+\s+\$0\.0\d+$/m);
    expect(table.stdout).toMatch(/^total\s+2\s+0\s+\d+\s+\d+\s+\$0\.0\d+$/m);
    expect(table.stdout).toMatch(/^researcher daily\s+\d{4}-\d\d-\d\d\s+\$5\.00\s+\$0\.0\d+\s+\$0\.00\s+\$5\.00$/m);
    expect(table.stdout).toMatch(/^researcher monthly\s+\d{4}-\d\d\s+\$50\.00\s+/m);

    const everyone = await legion(['costs', '--period', 'month'], h.project.dir);
    expect(everyone.stdout).toMatch(/^LLM costs this month \(\d{4}-\d\d-01 to \d{4}-\d\d-\d\d, UTC\)$/m);
    expect(everyone.stdout).toMatch(/^broke daily\s+\d{4}-\d\d-\d\d\s+\$0\.00\s+\$0\.00\s+\$0\.00\s+\$0\.00$/m);

    const json = await legion(['costs', '--json', '--period', 'week'], h.project.dir);
    expect(json.code).toBe(0);
    const report = CostReportSchema.parse(JSON.parse(json.stdout));
    expect(report.period).toBe('week');
    expect(report.rows.map((r) => [r.agent, r.model, r.calls])).toEqual([['researcher', 'openai/gpt-4o-mini', 2]]);

    const wrong = await legion(['costs', '--period', 'year'], h.project.dir);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/Allowed choices are today, week, month/);
  });

  it('shows the same in the REPL with /costs', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let screen = '';
    output.on('data', (d: Buffer) => (screen += d.toString()));
    const repl = runRepl({ client: h.client, mode: 'attach', agent: 'researcher', input, output });
    input.write('/costs week researcher\n');
    input.write('/costs week month\n');
    input.write('/quit\n');
    await repl;
    expect(screen).toMatch(/LLM costs this week \(\d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d, UTC\) for researcher/);
    expect(screen).toMatch(/researcher\s+openai\/gpt-4o-mini\s+2\s+0/);
    expect(screen).toContain('usage: /costs [today|week|month] [agent]');
  });
});

function adminToken(harness: Harness): string {
  return readFileSync(join(harness.project.dir, '.legion', 'admin.token'), 'utf8').trim();
}
