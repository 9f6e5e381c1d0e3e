// Budgets and settlement through the real POST /mesh/llm/chat: the real llm routes and
// proxy, a real cost meter over a SQLite file, a project loaded from files on disk and
// the fake provider behind the real openai SDK.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentTokens, requireAgentToken } from '../../../src/mesh/http/agent-auth.js';
import { installErrorHandler } from '../../../src/mesh/http/errors.js';
import { createLlmProxy } from '../../../src/mesh/llm/proxy.js';
import { resolveProviders } from '../../../src/shared/config/providers.js';
import { llmRoutes } from '../../../src/mesh/llm/routes.js';
import { agentModel, loadProject, type Project } from '../../../src/shared/config/project.js';
import { createLogger } from '../../../src/shared/logging.js';
import { readSse } from '../../../src/shared/sse.js';
import { LlmChatResponseSchema } from '../../../src/shared/wire/llm.js';
import { startFakeProvider, type FakeProvider, type FakeProviderOptions } from '../../fakes/fake-provider.js';
import { bookCall, openTestMeter, type TestMeter } from '../../helpers/cost-meter.js';

interface RouteHarness {
  app: FastifyInstance;
  url: string;
  fake: FakeProvider;
  costs: TestMeter;
  project: Project;
  token: (agent: string) => string;
  post: (agent: string, body: unknown) => Promise<Response>;
  close: () => Promise<void>;
}

const open: RouteHarness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

/** `gpt-test` at $10 input and $40 output per million tokens unless `prices` says otherwise. */
async function routeHarness(options: {
  mesh?: string;
  agents: string;
  prices?: string;
  fake?: FakeProviderOptions;
}): Promise<RouteHarness> {
  const fake = await startFakeProvider(options.fake);
  const dir = mkdtempSync(join(tmpdir(), 'legion-budget-'));
  mkdirSync(join(dir, 'config'));
  writeFileSync(
    join(dir, 'config', 'mesh.yaml'),
    `llm:\n  default_model: openai/gpt-test\n  providers:\n    openai: { base_url: "${fake.openaiBaseUrl}" }\n${options.mesh ?? ''}`,
  );
  writeFileSync(join(dir, 'config', 'agents.yaml'), options.agents);
  writeFileSync(
    join(dir, 'config', 'prices.yaml'),
    options.prices ?? 'models:\n  openai/gpt-test: { input_per_mtok: 10, output_per_mtok: 40 }\n',
  );
  writeFileSync(join(dir, '.env'), 'LEGION_CRED_OPENAI_API_KEY=sk-budget-test\n');
  const project = loadProject(dir, {});
  const costs = openTestMeter({ config: () => project, projectDir: dir });
  const proxy = createLlmProxy(resolveProviders(project), createLogger({}, { write: () => undefined }));
  const tokens = new AgentTokens();
  const minted = new Map<string, string>();
  const token = (agent: string) => minted.get(agent) ?? minted.set(agent, tokens.mint(agent)).get(agent) ?? '';
  const app = Fastify({ forceCloseConnections: true });
  installErrorHandler(app);
  await app.register(async (scope) => {
    requireAgentToken(scope, tokens);
    await scope.register(llmRoutes, {
      proxy,
      metering: costs.meter,
      defaultModelFor: (agent) => agentModel(project, agent),
      settingsFor: () => ({}),
    });
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const h: RouteHarness = {
    app,
    url,
    fake,
    costs,
    project,
    token,
    post: (agent, body) =>
      fetch(`${url}/mesh/llm/chat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token(agent)}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    close: async () => {
      await app.close();
      await fake.close();
      costs.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  open.push(h);
  return h;
}

interface Totals {
  spent_nano: number;
  reserved_nano: number;
}

function todayTotals(h: RouteHarness, scope: string): Totals {
  const day = `day:${new Date().toISOString().slice(0, 10)}`;
  return (
    h.costs.db
      .prepare<[string, string], Totals>(
        'SELECT spent_nano, reserved_nano FROM cost_totals WHERE scope = ? AND period = ?',
      )
      .get(scope, day) ?? {
      spent_nano: 0,
      reserved_nano: 0,
    }
  );
}

interface UsageRow {
  agent: string;
  provider: string;
  model: string;
  prompt_tokens: number;
  completion_tokens: number;
  cost_nano: number;
  outcome: string;
  trace: string | null;
}

function usageRows(h: RouteHarness): UsageRow[] {
  return h.costs.db
    .prepare<[], UsageRow>(
      'SELECT agent, provider, model, prompt_tokens, completion_tokens, cost_nano, outcome, trace FROM cost_usage ORDER BY id',
    )
    .all();
}

/** Books earlier spending of `agent` directly: `usd` of gpt-test input at $10 per million. */
function spend(h: RouteHarness, agent: string, usd: number): void {
  bookCall(h.costs.meter, {
    agent,
    model: 'openai/gpt-test',
    prompt_tokens: Math.round(usd * 100_000),
    completion_tokens: 0,
  });
}

const hi = { messages: [{ role: 'user', content: 'hi' }], max_tokens: 1000 };

describe('budget refusal', () => {
  it('answers 402 with the operator message before any provider call', async () => {
    const h = await routeHarness({ agents: 'agents:\n  researcher:\n    role: r\n    budget: { daily_usd: 5 }\n' });
    spend(h, 'researcher', 4.98);
    for (const stream of [false, true]) {
      const response = await h.post('researcher', { ...hi, stream });
      expect(response.status).toBe(402);
      expect(response.headers.get('content-type')).toMatch(/application\/json/);
      expect(await response.json()).toEqual({
        error: {
          code: 'budget_exceeded',
          message: 'budget exceeded for researcher: daily $5.00, spent $4.98, this call needs up to $0.04',
        },
      });
    }
    expect(h.fake.calls).toHaveLength(0);
    expect(todayTotals(h, 'agent:researcher')).toEqual({ spent_nano: 4_980_000_000, reserved_nano: 0 });
    // A smaller call still fits: 5 + 100 tokens is $0.00405.
    const small = await h.post('researcher', { ...hi, max_tokens: 100 });
    expect(small.status).toBe(200);
  });

  it('refuses on the fleet budget of mesh.yaml, counting every agent', async () => {
    const h = await routeHarness({
      mesh: 'budget: { daily_usd: 20 }\n',
      agents: 'agents:\n  a: { role: r }\n  b: { role: r }\n',
    });
    spend(h, 'a', 19.99);
    const response = await h.post('b', hi);
    expect(response.status).toBe(402);
    expect(await response.json()).toEqual({
      error: {
        code: 'budget_exceeded',
        message: 'fleet budget exceeded: daily $20.00, spent $19.99, this call needs up to $0.04',
      },
    });
    expect(h.fake.calls).toHaveLength(0);
  });
});

describe('settlement', () => {
  it('books a call at the usage the provider reported, streamed or not', async () => {
    const h = await routeHarness({ agents: 'agents:\n  a: { role: r, budget: { daily_usd: 1 } }\n' });
    h.fake.script({ text: 'x'.repeat(120) }, { text: 'y'.repeat(80) });
    const plain = await h.post('a', { messages: [{ role: 'user', content: 'z'.repeat(40) }] });
    const usage = LlmChatResponseSchema.parse(await plain.json()).usage;
    expect(usage).toEqual({ prompt_tokens: 10, completion_tokens: 30 });
    const streamed = await fetch(`${h.url}/mesh/llm/chat`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${h.token('a')}`,
        'content-type': 'application/json',
        'x-legion-trace': 'turn-7',
      },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'z'.repeat(40) }], stream: true }),
    });
    expect(streamed.status).toBe(200);
    for await (const event of readSse(streamed.body ?? new ReadableStream())) void event;
    const rows = usageRows(h);
    expect(rows).toEqual([
      {
        agent: 'a',
        provider: 'openai',
        model: 'gpt-test',
        prompt_tokens: 10,
        completion_tokens: 30,
        cost_nano: 10 * 10_000 + 30 * 40_000,
        outcome: 'ok',
        trace: null,
      },
      {
        agent: 'a',
        provider: 'openai',
        model: 'gpt-test',
        prompt_tokens: 10,
        completion_tokens: 20,
        cost_nano: 10 * 10_000 + 20 * 40_000,
        outcome: 'ok',
        trace: 'turn-7',
      },
    ]);
    expect(todayTotals(h, 'agent:a')).toEqual({
      spent_nano: rows.reduce((sum, r) => sum + r.cost_nano, 0),
      reserved_nano: 0,
    });
    expect(todayTotals(h, 'fleet')).toEqual(todayTotals(h, 'agent:a'));
  });

  it('books a call the provider refused at zero', async () => {
    const h = await routeHarness({ agents: 'agents:\n  a: { role: r }\n' });
    h.fake.script({ error: { status: 400, message: 'context too long' } });
    const response = await h.post('a', hi);
    expect(response.status).toBe(502);
    expect(usageRows(h)).toEqual([
      expect.objectContaining({ outcome: 'failed', prompt_tokens: 0, completion_tokens: 0, cost_nano: 0 }),
    ]);
    expect(todayTotals(h, 'agent:a')).toEqual({ spent_nano: 0, reserved_nano: 0 });
  });

  it('books a stream the client cut off at its prompt and the text it received', async () => {
    const h = await routeHarness({ agents: 'agents:\n  a: { role: r }\n', fake: { chunkDelayMs: 40 } });
    h.fake.script({ text: 'abc '.repeat(50) });
    const client = new AbortController();
    const response = await fetch(`${h.url}/mesh/llm/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.token('a')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...hi, stream: true }),
      signal: client.signal,
    });
    let received = 0;
    for await (const event of readSse(response.body ?? new ReadableStream())) {
      received += (event as { text: string }).text.length;
      if (received >= 12) break;
    }
    client.abort();
    const deadline = Date.now() + 5000;
    while (usageRows(h).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const [row] = usageRows(h);
    // Prompt estimate: ceil(2 / 4) + 4 tokens; the answer: what was streamed before the abort reached the mesh.
    expect(row).toMatchObject({ outcome: 'failed', prompt_tokens: 5 });
    expect(row?.completion_tokens).toBeGreaterThanOrEqual(3);
    expect(row?.completion_tokens).toBeLessThan(50);
    expect(todayTotals(h, 'agent:a')).toEqual({ spent_nano: row?.cost_nano, reserved_nano: 0 });
  });
});

describe('concurrency at the edge of a budget', () => {
  it('50 simultaneous calls never overspend by more than one reservation', async () => {
    // $1000 per million tokens both ways: a call reserves (99 + 4) + 100 tokens = $0.203
    // and costs 99 + 100 tokens = $0.199, so $1.00 left fits four at once.
    const h = await routeHarness({
      agents: 'agents:\n  tester:\n    role: r\n    budget: { daily_usd: 2 }\n',
      prices: 'models:\n  openai/gpt-test: { input_per_mtok: 1000, output_per_mtok: 1000 }\n',
      fake: { respond: () => ({ text: 'abcd '.repeat(80) }), chunkDelayMs: 2 },
    });
    bookCall(h.costs.meter, { agent: 'tester', model: 'openai/gpt-test', prompt_tokens: 1000, completion_tokens: 0 });
    const body = { messages: [{ role: 'user', content: 'q'.repeat(396) }], max_tokens: 100 };
    const responses = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const response = await h.post('tester', { ...body, stream: i % 2 === 0 });
        return { status: response.status, text: await response.text() };
      }),
    );
    const ok = responses.filter((r) => r.status === 200);
    const refused = responses.filter((r) => r.status === 402);
    expect(ok.length + refused.length).toBe(50);
    expect(ok.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(JSON.parse(r.text)).toEqual({
        error: {
          code: 'budget_exceeded',
          message: expect.stringMatching(
            /^budget exceeded for tester: daily \$2\.00, spent \$\d+\.\d\d( \+ \$\d+\.\d\d reserved by calls in flight)?, this call needs up to \$0\.20$/,
          ),
        },
      });
    }
    const limit = 2_000_000_000;
    const reservation = 203_000_000;
    const totals = todayTotals(h, 'agent:tester');
    expect(totals.reserved_nano).toBe(0);
    expect(totals.spent_nano).toBeLessThanOrEqual(limit + reservation);
    expect(totals.spent_nano).toBe(1_000_000_000 + ok.length * 199_000_000);
    expect(h.fake.calls).toHaveLength(ok.length);
  });
});
