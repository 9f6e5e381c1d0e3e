// The /ui API behind the chat, workflows, blackboard and triggers pages, against a real
// mesh (agents as local processes, the fake provider pausing between stream frames):
// every new call needs the session, every state-changing one the page's own Origin
// (and a refused write stores nothing); a chat turn is relayed as it streams, not once
// it is over; a blackboard write is compare-and-set and a stale one is a 409 that
// leaves the stored value alone; a bad run payload is a 400 naming the field; a run's
// graph and a step's detail, and a webhook's recent deliveries, are readable; calls
// outside the allowlist (deleting a key, removing a job or a hook) are not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';
import { legion } from '../helpers/project.js';
import { loginLink, rawRequest, sessionFrom } from '../helpers/dashboard.js';
import { finalRun, workflowResponder } from '../helpers/workflows.js';
import { eventually } from '../helpers/triggers.js';
import { RunGraphSchema, RunViewSchema, StepDetailSchema } from '../../src/shared/wire/workflow.js';
import { BlackboardEntrySchema } from '../../src/shared/wire/blackboard.js';
import { WebhookDeliverySchema } from '../../src/shared/wire/webhooks.js';
import { z } from 'zod';

const AGENTS = 'agents:\n  scout:\n    role: looks around\n';
const PAIR = `name: pair
steps:
  - id: ask
    agent: scout
    task_type: 'answer {"n": 3}'
  - id: big
    agent: scout
    task_type: answer big
    depends_on: [ask]
    condition: "steps.ask.result.n > 10"
`;

describe('dashboard pages API', () => {
  let h: Harness;
  let port: number;
  let origin: string;
  let cookie: string;

  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    rawRequest(port, method, path, { cookie, origin, ...headers }, body);
  const json = <T>(schema: z.ZodType<T>, text: string): T => schema.parse(JSON.parse(text));

  beforeAll(async () => {
    h = await startHarness({
      agentsYaml: AGENTS,
      workflows: { 'pair.yaml': PAIR },
      fake: { respond: workflowResponder, chunkDelayMs: 30 },
    });
    port = Number(new URL(h.mesh.adminUrl).port);
    origin = `http://127.0.0.1:${port}`;
    const printed = await legion(['dashboard'], h.project.dir, { CI: '1', DISPLAY: '', WAYLAND_DISPLAY: '' });
    const link = loginLink(printed.stdout);
    cookie = sessionFrom(await rawRequest(port, 'GET', `${link.pathname}${link.search}`));
  }, 60_000);
  afterAll(async () => h?.close());

  it('answers 401 without a session and 403 to a write without the page Origin, storing nothing', async () => {
    for (const path of [
      '/ui/api/agents/scout/history',
      '/ui/api/workflows',
      '/ui/api/workflow-runs',
      '/ui/api/blackboard',
      '/ui/api/cron/jobs',
      '/ui/api/heartbeat',
      '/ui/api/webhooks',
    ]) {
      const answer = await rawRequest(port, 'GET', path);
      expect(answer.status, path).toBe(401);
    }
    const writes: [string, string, unknown][] = [
      ['PUT', '/ui/api/blackboard/entries/guarded', { value: 1 }],
      ['POST', '/ui/api/agents/scout/chat', { message: 'hello' }],
      ['POST', '/ui/api/workflows/pair/runs', {}],
    ];
    for (const [method, path, body] of writes) {
      expect((await rawRequest(port, method, path, { origin }, body)).status, path).toBe(401);
      const noOrigin = await rawRequest(port, method, path, { cookie }, body);
      expect(noOrigin.status, path).toBe(403);
      expect(JSON.parse(noOrigin.body)).toMatchObject({ error: { code: 'origin_required' } });
      const foreign = await rawRequest(port, method, path, { cookie, origin: 'http://evil.example' }, body);
      expect(foreign.status, path).toBe(403);
    }
    expect((await call('GET', '/ui/api/blackboard/entries/guarded')).status).toBe(404);
    expect((await call('GET', '/ui/api/workflow-runs')).body).toBe('{"runs":[]}');
    expect(h.fake.calls).toHaveLength(0);
  });

  it('relays a chat turn as it streams, tool call included', async () => {
    const chunks: string[] = [];
    const answer = await rawRequest(
      port,
      'POST',
      '/ui/api/agents/scout/chat',
      { cookie, origin },
      { message: 'call list_files {"path": "."}' },
      (chunk) => chunks.push(chunk),
    );
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toContain('text/event-stream');
    expect(answer.headers['content-security-policy']).toContain("default-src 'none'");
    const events = answer.body
      .split('\n\n')
      .filter((frame) => frame.startsWith('data: '))
      .map((frame) => JSON.parse(frame.slice(6)) as { type: string; name?: string });
    expect(events.map((e) => e.type)).toContain('tool_call');
    expect(events.find((e) => e.type === 'tool_call')?.name).toBe('list_files');
    expect(events.filter((e) => e.type === 'token').length).toBeGreaterThan(1);
    expect(events.at(-1)?.type).toBe('done');
    // Tokens reached the browser's side in more pieces than one: relayed, not buffered to the end.
    const before = chunks.findIndex((chunk) => chunk.includes('"type":"done"'));
    expect(chunks.slice(0, before).filter((chunk) => chunk.includes('"type":"token"')).length).toBeGreaterThan(1);

    const history = await call('GET', '/ui/api/agents/scout/history?limit=1');
    expect(JSON.parse(history.body)).toMatchObject({
      turns: [{ input: 'call list_files {"path": "."}', state: 'done' }],
    });
    const unknown = await call('POST', '/ui/api/agents/nobody/chat', { message: 'hi' });
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toMatchObject({ error: { message: expect.stringContaining('nobody') } });
  });

  it('writes the blackboard with compare-and-set; a stale write is a 409 that changes nothing', async () => {
    const first = await call('PUT', '/ui/api/blackboard/entries/plans/today', {
      value: { step: 1 },
      expected_version: 0,
    });
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body)).toMatchObject({ version: 1, writer: 'operator' });
    const stale = await call('PUT', '/ui/api/blackboard/entries/plans/today', {
      value: { step: 9 },
      expected_version: 0,
    });
    expect(stale.status).toBe(409);
    expect(JSON.parse(stale.body)).toMatchObject({ error: { code: 'version_conflict', current_version: 1 } });
    const stored = json(BlackboardEntrySchema, (await call('GET', '/ui/api/blackboard/entries/plans/today')).body);
    expect(stored).toMatchObject({ value: { step: 1 }, version: 1 });
    const history = JSON.parse((await call('GET', '/ui/api/blackboard/history/plans/today')).body) as {
      history: unknown[];
    };
    expect(history.history).toHaveLength(1);
    const listed = JSON.parse((await call('GET', '/ui/api/blackboard?prefix=plans/')).body) as {
      entries: { key: string }[];
    };
    expect(listed.entries.map((e) => e.key)).toEqual(['plans/today']);
    expect((await call('DELETE', '/ui/api/blackboard/entries/plans/today')).status).toBe(404);
    expect((await call('GET', '/ui/api/blackboard/entries/plans/today')).status).toBe(200);
  });

  it('starts a run, names a bad payload, and reads its graph and a step in full', async () => {
    const bad = await call('POST', '/ui/api/workflows/pair/runs', { payload: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('payload');
    const started = await call('POST', '/ui/api/workflows/pair/runs', { input: { topic: 'maps' } });
    expect(started.status).toBe(202);
    const run = json(RunViewSchema, started.body);
    await finalRun(h.client, run.id);

    const graph = json(RunGraphSchema, (await call('GET', `/ui/api/workflow-runs/${run.id}/graph`)).body);
    expect(graph.steps).toEqual([
      { id: 'ask', target: 'scout', depends_on: [], condition: null },
      { id: 'big', target: 'scout', depends_on: ['ask'], condition: 'steps.ask.result.n > 10' },
    ]);
    const ask = json(StepDetailSchema, (await call('GET', `/ui/api/workflow-runs/${run.id}/steps/ask`)).body);
    expect(ask.input).toEqual({ topic: 'maps' });
    expect(ask.step).toMatchObject({ status: 'done', attempt: 1, result: { n: 3 } });
    expect(ask.transitions.map((t) => t.status)).toEqual(['queued', 'running', 'done']);
    const big = json(StepDetailSchema, (await call('GET', `/ui/api/workflow-runs/${run.id}/steps/big`)).body);
    expect(big.step).toMatchObject({ status: 'skipped', reason: 'condition false: steps.ask.result.n > 10' });
    expect(big.input).toBeNull();
    expect((await call('GET', `/ui/api/workflow-runs/${run.id}/steps/nope`)).status).toBe(404);
    expect((await call('POST', `/ui/api/workflow-runs/${run.id}/cancel`)).status).toBe(404);
  });

  it("lists cron jobs and a webhook's recent deliveries with their outcomes; removing them is not reachable", async () => {
    expect((await legion(['cron', 'add', 'scout', 'every 2h', 'look around'], h.project.dir)).code).toBe(0);
    const jobs = JSON.parse((await call('GET', '/ui/api/cron/jobs')).body) as {
      jobs: { id: string; next_run: string }[];
    };
    expect(jobs.jobs).toHaveLength(1);
    expect(jobs.jobs[0]?.next_run).toBeTruthy();
    expect((await call('DELETE', `/ui/api/cron/jobs/${jobs.jobs[0]?.id}`)).status).toBe(404);

    expect((await legion(['webhook', 'add', 'inbox', '--agent', 'scout'], h.project.dir)).code).toBe(0);
    const sent = await legion(['webhook', 'test', 'inbox'], h.project.dir);
    const id = /delivery (\S+)/.exec(sent.stdout)?.[1];
    const deliveries = await eventually(async () => {
      const answer = await call('GET', '/ui/api/webhooks/inbox/deliveries?limit=5');
      const list = z.object({ deliveries: z.array(WebhookDeliverySchema) }).parse(JSON.parse(answer.body));
      return list.deliveries[0]?.status === 'done' ? list.deliveries : null;
    }, 'the delivery to be done');
    expect(deliveries.map((d) => d.delivery_id)).toEqual([id]);
    expect((await call('GET', '/ui/api/webhooks/nope/deliveries')).status).toBe(404);
    expect((await call('GET', '/ui/api/webhooks/inbox/deliveries?limit=0')).status).toBe(400);
    expect((await call('DELETE', '/ui/api/webhooks/inbox')).status).toBe(404);
  });
});
