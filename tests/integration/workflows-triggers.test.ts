// What starts workflow runs, and what a mesh restart does to them, in the in-process
// mesh over real agent processes and the fake provider: a publish on a trigger topic
// (the operator's or an agent's, with no subscriber), a webhook bound to a workflow
// (by target, and by a workflow's trigger naming the hook), `legion webhook add
// --workflow`; an invalid file stops a mesh from starting, and an invalid edit of a
// running mesh's config/workflows is refused while the previous definitions keep
// working; a run stopped mid-step resumes after a restart with no step done twice.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeshClient } from '../../src/cli/mesh-client.js';
import { Mesh } from '../../src/mesh/server.js';
import { loadProject } from '../../src/shared/config/project.js';
import { createLogger } from '../../src/shared/logging.js';
import { PublishResponseSchema } from '../../src/shared/wire/fleet.js';
import { WebhookDeliverySchema, WebhookSchema } from '../../src/shared/wire/webhooks.js';
import { freePort, legion, makeProject } from '../helpers/project.js';
import { ProcessRuntime } from '../helpers/process-runtime.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';
import { eventually, postHook, restartMesh } from '../helpers/triggers.js';
import { finalRun, stepCalls, stepOf, workflowResponder } from '../helpers/workflows.js';

const AGENTS = `agents:
  alpha:
    role: worker
  beta:
    role: worker
`;

const PERMISSIONS = `default:
  allowed_apis: [llm]
agents:
  alpha:
    allowed_apis: [llm]
    can_publish: [new_lead]
`;

const LEADS = `name: leads
trigger: { topic: new_lead }
steps:
  - id: greet
    agent: beta
    task_type: echo
    input: 'hello \${trigger.payload.name} (\${trigger.source})'
`;

const HOOKED = `name: hooked
steps:
  - id: take
    agent: alpha
    task_type: echo
    input: '\${trigger.payload}'
`;

const INBOUND = `name: inbound
trigger: { webhook: inbox }
steps:
  - id: file
    agent: beta
    task_type: echo
    input: 'filed \${trigger.payload.ticket}'
`;

const DURABLE = `name: durable
steps:
  - id: first
    agent: alpha
    task_type: answer first-done
  - id: second
    agent: alpha
    depends_on: [first]
    task_type: sleep 2 second-done
  - id: third
    agent: beta
    depends_on: [second]
    task_type: echo
    input: '\${steps.first.result} then \${steps.second.result}'
`;

describe('workflow triggers and restarts', () => {
  let h: Harness;
  let mesh: Mesh;
  let client: MeshClient;

  beforeAll(async () => {
    h = await startHarness({
      agentsYaml: AGENTS,
      permissionsYaml: PERMISSIONS,
      workflows: { 'leads.yaml': LEADS, 'hooked.yaml': HOOKED, 'inbound.yaml': INBOUND, 'durable.yaml': DURABLE },
    });
    h.fake.respondWith(workflowResponder);
    mesh = h.mesh;
    client = h.client;
  });
  afterAll(async () => {
    if (mesh !== h?.mesh) await mesh?.stop();
    await h?.close();
  });

  const runsOf = async (workflow: string) =>
    (await client.listWorkflowRuns(200)).runs.filter((r) => r.workflow === workflow);

  it("starts a run on a publish to the workflow's trigger topic, by the operator or an agent, with no subscriber", async () => {
    const published = await client.requestJson('POST', '/api/pubsub/publish', PublishResponseSchema, {
      topic: 'new_lead',
      payload: { name: 'Acme' },
    });
    expect(published.deliveries).toBe(0);
    const [byOperator] = await runsOf('leads');
    expect(byOperator).toMatchObject({ trigger: 'topic:new_lead' });
    const done = await finalRun(client, byOperator?.id ?? '');
    expect(done).toMatchObject({ status: 'done', input: { name: 'Acme' } });
    expect(stepOf(done, 'greet').result).toBe('hello Acme (topic:new_lead)');

    await h.say('alpha', 'call publish_event {"topic":"new_lead","payload":{"name":"Globex"}}');
    const byAgent = await eventually(
      async () => (await runsOf('leads')).find((r) => r.id !== byOperator?.id) ?? null,
      'the run started by the agent',
    );
    expect(stepOf(await finalRun(client, byAgent.id), 'greet').result).toBe('hello Globex (topic:new_lead)');
  });

  it('starts a run from a webhook bound to the workflow, and from a hook a workflow names as its trigger', async () => {
    const hook = await client.requestJson('POST', '/api/webhooks', WebhookSchema, {
      name: 'to-hooked',
      target: { kind: 'workflow', workflow: 'hooked' },
    });
    expect(hook.target).toEqual({ kind: 'workflow', workflow: 'hooked' });
    const call = await postHook({ url: hook.url, body: JSON.stringify({ order: 42 }) });
    expect(call.status).toBe(202);
    const runId = String(call.json.delivery_id);
    const run = await finalRun(client, runId);
    expect(run).toMatchObject({
      workflow: 'hooked',
      trigger: 'webhook:to-hooked',
      status: 'done',
      input: { order: 42 },
    });
    expect(stepOf(run, 'take').result).toEqual({ order: 42 });
    const delivery = await client.requestJson('GET', `/api/webhooks/deliveries/${runId}`, WebhookDeliverySchema);
    expect(delivery).toMatchObject({
      webhook: 'to-hooked',
      target: { kind: 'workflow', workflow: 'hooked' },
      status: 'done',
      error: null,
    });

    // A hook that wakes an agent also starts the workflows whose trigger names it.
    const inbox = await client.requestJson('POST', '/api/webhooks', WebhookSchema, {
      name: 'inbox',
      target: { kind: 'agent', agent: 'alpha' },
    });
    expect((await postHook({ url: inbox.url, body: JSON.stringify({ ticket: 'T-7' }) })).status).toBe(202);
    const [inbound] = await runsOf('inbound');
    expect(inbound).toMatchObject({ trigger: 'webhook:inbox' });
    expect(stepOf(await finalRun(client, inbound?.id ?? ''), 'file').result).toBe('filed T-7');

    await expect(
      client.requestJson('POST', '/api/webhooks', WebhookSchema, {
        name: 'nowhere',
        target: { kind: 'workflow', workflow: 'nope' },
      }),
    ).rejects.toMatchObject({
      status: 404,
      message: 'no workflow named "nope" (workflows: durable, hooked, inbound, leads)',
    });
  });

  it('adds a webhook for a workflow from the CLI: exactly one of --agent and --workflow', async () => {
    const added = await legion(['webhook', 'add', 'cli-flow', '--workflow', 'hooked'], h.project.dir);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/^webhook cli-flow starts a run of workflow hooked; unsigned/);
    const list = await legion(['webhook', 'list'], h.project.dir);
    expect(list.stdout).toMatch(/cli-flow\s+workflow:hooked\s+no\s+0\s/);
    const both = await legion(
      ['webhook', 'add', 'cli-both', '--workflow', 'hooked', '--agent', 'alpha'],
      h.project.dir,
    );
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('give exactly one of --agent <agent>');
    const neither = await legion(['webhook', 'add', 'cli-none'], h.project.dir);
    expect(neither.code).toBe(1);
    expect(neither.stderr).toContain('give exactly one of --agent <agent>');
  });

  it('refuses an invalid edit of config/workflows with its problems and keeps the previous definitions', async () => {
    const file = join(h.project.dir, 'config', 'workflows', 'leads.yaml');
    writeFileSync(file, LEADS.replace('agent: beta', 'agent: nobody'));
    await expect(client.listWorkflows()).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('config/workflows/leads.yaml: steps.greet.agent: unknown agent "nobody"'),
    });
    await expect(client.startWorkflowRun('hooked', null)).rejects.toMatchObject({ status: 400 });
    // A trigger has nobody to answer: it runs the definitions in force.
    const before = (await runsOf('leads')).length;
    await client.requestJson('POST', '/api/pubsub/publish', PublishResponseSchema, {
      topic: 'new_lead',
      payload: { name: 'Initech' },
    });
    const [latest] = await runsOf('leads');
    expect((await runsOf('leads')).length).toBe(before + 1);
    expect(stepOf(await finalRun(client, latest?.id ?? ''), 'greet')).toMatchObject({
      agent: 'beta',
      result: 'hello Initech (topic:new_lead)',
    });

    writeFileSync(file, LEADS);
    expect((await client.listWorkflows()).workflows.map((w) => w.name)).toEqual([
      'durable',
      'hooked',
      'inbound',
      'leads',
    ]);
  });

  it('refuses to start a mesh whose workflow file is invalid, naming the file and the step', async () => {
    const project = makeProject({ port: await freePort(), agentsYaml: AGENTS });
    try {
      mkdirSync(join(project.dir, 'config', 'workflows'));
      writeFileSync(
        join(project.dir, 'config', 'workflows', 'broken.yaml'),
        'name: broken\nsteps:\n  - { id: a, agent: alpha, task_type: t, depends_on: [ghost] }\n',
      );
      const broken = new Mesh({
        project: loadProject(project.dir),
        runtime: new ProcessRuntime(join(project.dir, 'agents-data')),
        logger: createLogger({}, { write: () => undefined }),
        progress: () => undefined,
        onShutdownRequested: () => undefined,
      });
      await expect(broken.start()).rejects.toThrow(
        'config/workflows/broken.yaml: steps.a.depends_on: unknown step "ghost" (steps: a)',
      );
    } finally {
      project.cleanup();
    }
  });

  it('resumes a run stopped mid-step after a restart: finished steps are not run again, the step in flight keeps its task id', async () => {
    const started = await client.startWorkflowRun('durable', undefined);
    // The second step is in its exec tool call when the mesh (and its agents) stop.
    await eventually(
      () => (stepCalls(h.fake.calls, started.id, 'second').length === 1 ? true : null),
      'the second step to start its command',
    );
    ({ mesh, client } = await restartMesh(h, mesh));
    const run = await finalRun(client, started.id, 30_000);
    expect(run.status).toBe('done');
    expect(stepOf(run, 'second')).toMatchObject({
      status: 'done',
      attempt: 1,
      task_id: `${run.id}.second.1`,
      result: 'second-done',
    });
    expect(stepOf(run, 'third').result).toBe('first-done then second-done');

    expect(stepCalls(h.fake.calls, run.id, 'first')).toHaveLength(1);
    expect(stepCalls(h.fake.calls, run.id, 'third')).toHaveLength(1);
    // The interrupted task ran again under its own id (the agent stopped mid-command),
    // and gave its final answer once.
    const second = stepCalls(h.fake.calls, run.id, 'second');
    expect(second.every((c) => c.id === `${run.id}.second.1`)).toBe(true);
    const answers = h.fake.calls.filter(
      (c) =>
        c.messages.at(-1)?.role === 'tool' &&
        c.messages.some((m) => m.role === 'system' && m.content.includes(`Task id: ${run.id}.second.1`)),
    );
    expect(answers).toHaveLength(1);

    const lines = (await client.workflowTransitions(run.id, 0)).transitions.map(
      (t) => `${t.step ?? 'run'} ${t.status} ${t.attempt}`,
    );
    for (const step of ['first', 'second', 'third'])
      expect(lines.filter((l) => l.startsWith(`${step} queued`))).toEqual([`${step} queued 1`]);
    expect(lines.filter((l) => l.startsWith('second '))).toEqual([
      'second queued 1',
      'second running 1',
      'second done 1',
    ]);
  });
});
