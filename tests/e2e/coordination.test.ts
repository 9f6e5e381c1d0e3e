// Two agents in real containers coordinating through the mesh: a blackboard
// hand-over, a denial the model reads, and a pub/sub event that survives the mesh
// being SIGKILLed between publish and delivery.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { freePort, legion, makeProject, type TestProject } from '../helpers/project.js';
import { docker, dockerAvailable, projectContainers } from '../helpers/docker.js';
import { projectId } from '../../src/shared/state.js';
import { MeshStatusSchema } from '../../src/shared/wire/admin.js';
import { waitFor } from '../helpers/wait.js';
import { tearDownFleet, killMesh } from '../helpers/fleet.js';

const available = await dockerAvailable();
const AGENTS = ['researcher', 'qualifier'];

describe.skipIf(!available)('coordination between containers', () => {
  let fake: FakeProvider;
  let project: TestProject;

  const fromAgent = (agent: string, pattern: RegExp) =>
    fake.calls.find(
      (c) =>
        c.messages.some((m) => m.role === 'system' && m.content.startsWith(`You are ${agent},`)) &&
        c.messages.some((m) => m.role === 'user' && pattern.test(m.content)),
    ) ?? null;

  beforeAll(async () => {
    fake = await startFakeProvider();
    project = makeProject({
      port: await freePort(),
      openaiBaseUrl: fake.openaiBaseUrl,
      agentsYaml:
        'agents:\n  researcher:\n    role: research prospects\n  qualifier:\n    role: qualify leads\n    subscriptions: [research_complete]\n',
    });
    writeFileSync(
      join(project.dir, 'config', 'permissions.yaml'),
      `agents:
  researcher:
    can_publish: [research_complete]
    blackboard_read: ["context/*"]
    blackboard_write: ["context/prospect_*"]
    allowed_apis: [llm]
  qualifier:
    can_subscribe: [research_complete]
    blackboard_read: ["context/*"]
    blackboard_write: ["agents/qualifier/*"]
    allowed_apis: [llm]
`,
    );
    const started = await legion(['start', '-d'], project.dir);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
  });

  afterAll(async () => {
    await tearDownFleet(project);
    await fake?.close();
    project?.cleanup();
  });

  it('hands a value from one container to another over the blackboard', async () => {
    const wrote = await legion(
      [
        'chat',
        'researcher',
        '-m',
        'call write_shared_state {"key":"context/prospect_acme","value":{"company":"Acme","fit":"strong"}}',
      ],
      project.dir,
    );
    expect(wrote.code).toBe(0);
    expect(wrote.stdout).toContain('wrote context/prospect_acme at version 1');
    const read = await legion(
      ['chat', 'qualifier', '-m', 'call read_shared_state {"key":"context/prospect_acme"}'],
      project.dir,
    );
    expect(read.code).toBe(0);
    expect(read.stdout).toMatch(/"company": "Acme"/);
    expect(read.stdout).toMatch(/"version": 1/);
    expect(read.stdout).toMatch(/"writer": "researcher"/);
  });

  it('shows the 403 reason when an agent writes outside its globs', async () => {
    const denied = await legion(
      ['chat', 'qualifier', '-m', 'call write_shared_state {"key":"context/prospect_acme","value":"mine now"}'],
      project.dir,
    );
    expect(denied.code).toBe(0);
    expect(denied.stdout).toContain(
      'qualifier may not write context/prospect_acme: blackboard_write is ["agents/qualifier/*"]',
    );
    const logs = await legion(['logs', '--agent', 'qualifier'], project.dir);
    expect(logs.stdout).toMatch(/qualifier\s+denied\s+context\/prospect_acme/);
  });

  it('delivers an event published before a SIGKILL of the mesh after the restart', async () => {
    const id = projectId(project.dir);
    const qualifier = docker.getContainer(`legion-${id}-qualifier`);
    // A frozen subscriber cannot take the delivery: it stays in flight.
    await qualifier.pause();
    const published = await legion(
      [
        'chat',
        'researcher',
        '-m',
        'call publish_event {"topic":"research_complete","payload":{"lead":"durable-acme"}}',
      ],
      project.dir,
    );
    expect(published.stdout).toMatch(/to 1 subscriber/);
    await waitFor(async () => {
      const status = MeshStatusSchema.parse(JSON.parse((await legion(['status', '--json'], project.dir)).stdout));
      return status.agents.find((a) => a.name === 'qualifier')?.lane.inflight === 1 ? true : null;
    }, 'the delivery to be in flight');
    expect(fromAgent('qualifier', /durable-acme/)).toBeNull();

    await killMesh(project);

    const restarted = await legion(['start', '-d'], project.dir);
    expect(restarted.code).toBe(0);
    const call = await waitFor(
      () =>
        fromAgent('qualifier', /\[event research_complete · id evt_\S+ · published by researcher\][\s\S]*durable-acme/),
      'the event to reach the new qualifier',
    );
    expect(call).toBeDefined();
    expect((await projectContainers(id)).map((c) => c.Labels['legion.agent']).sort()).toEqual(AGENTS.slice().sort());
  });
});
