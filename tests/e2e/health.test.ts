// The health monitor and adoption with real containers: a container killed with
// `docker kill` is back and healthy within 10 s with its /data intact, and a mesh
// SIGKILLed with events queued on a lane adopts the containers that still run (same
// container ids, no duplicates) and delivers each queued event exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { freePort, legion, makeProject, type TestProject } from '../helpers/project.js';
import { docker, dockerAvailable, projectContainers } from '../helpers/docker.js';
import { projectId } from '../../src/shared/state.js';
import type { AgentStatusEntry } from '../../src/shared/wire/admin.js';
import { MeshClient } from '../../src/cli/mesh-client.js';
import { waitFor } from '../helpers/wait.js';
import { tearDownFleet, killMesh } from '../helpers/fleet.js';

const available = await dockerAvailable();

describe.skipIf(!available)('health monitor and adoption with real Docker', () => {
  let fake: FakeProvider;
  let project: TestProject;
  let id: string;

  /** Straight from the admin API (a CLI process per poll would blur the 10 s measured below). */
  const agent = async (name: string): Promise<AgentStatusEntry | null> => {
    const status = await MeshClient.find(project.dir)
      ?.status()
      .catch(() => null);
    return status?.agents.find((a) => a.name === name) ?? null;
  };
  const containerId = async (name: string) => (await docker.getContainer(`legion-${id}-${name}`).inspect()).Id;
  /** Turns the fake saw from survivor that began with a user message matching `pattern`. */
  const turnsOfSurvivor = (pattern: RegExp) =>
    fake.calls.filter(
      (c) =>
        c.messages.some((m) => m.role === 'system' && m.content.startsWith('You are survivor,')) &&
        c.messages.at(-1)?.role === 'user' &&
        pattern.test(c.messages.at(-1)?.content ?? ''),
    );

  beforeAll(async () => {
    fake = await startFakeProvider();
    project = makeProject({
      port: await freePort(),
      openaiBaseUrl: fake.openaiBaseUrl,
      agentsYaml:
        'agents:\n  survivor:\n    role: keeps going\n    subscriptions: [signals]\n  herald:\n    role: announces\n',
    });
    writeFileSync(
      join(project.dir, 'config', 'permissions.yaml'),
      'agents:\n  herald:\n    can_publish: [signals]\n    allowed_apis: [llm]\n  survivor:\n    can_subscribe: [signals]\n    allowed_apis: [llm]\n',
    );
    id = projectId(project.dir);
    const started = await legion(['start', '-d'], project.dir);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
  });

  afterAll(async () => {
    await tearDownFleet(project);
    await fake?.close();
    project?.cleanup();
  });

  it('brings a container killed with docker kill back within 10 s, with /data intact', async () => {
    const wrote = await legion(
      ['chat', 'survivor', '-m', 'call write_file {"path":"keep/proof.txt","content":"survives docker kill"}'],
      project.dir,
    );
    expect(wrote.stdout).toMatch(/wrote 20 bytes/);
    const before = await containerId('survivor');

    await docker.getContainer(before).kill();
    const killedAt = Date.now();
    const back = await waitFor(
      async () => {
        const now = await agent('survivor');
        return now?.health === 'healthy' && now.restarts === 1 ? now : null;
      },
      'survivor to be restarted and healthy',
      10_000,
    );
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    expect(back.last_error).toBe('restarted: its container is exited');
    expect(await containerId('survivor')).not.toBe(before);

    const read = await legion(['chat', 'survivor', '-m', 'call read_file {"path":"keep/proof.txt"}'], project.dir);
    expect(read.stdout).toContain('survives docker kill');
    const status = await legion(['status'], project.dir);
    expect(status.stdout).toMatch(/survivor\s+healthy\s+running\s+0 queued \(cap 100\)\s+1\s/);
  });

  it('adopts the running containers after a SIGKILL of the mesh and delivers each queued event exactly once', async () => {
    // A long chat turn holds survivor's lane, so the events below stay queued behind it.
    const holding = legion(['chat', 'survivor', '-m', 'call exec {"command":"sleep 25","timeout_s":60}'], project.dir);
    await waitFor(
      async () => ((await agent('survivor'))?.lane.running?.kind === 'chat' ? true : null),
      'the chat turn to hold the lane',
    );
    const markers = ['queued-alpha', 'queued-beta', 'queued-gamma'];
    for (const marker of markers) {
      const published = await legion(
        ['chat', 'herald', '-m', `call publish_event {"topic":"signals","payload":{"marker":"${marker}"}}`],
        project.dir,
      );
      expect(published.stdout).toMatch(/to 1 subscriber/);
    }
    expect((await agent('survivor'))?.lane).toMatchObject({ queued: 3, inflight: 1 });
    for (const marker of markers) expect(turnsOfSurvivor(new RegExp(marker))).toHaveLength(0);
    const before = { survivor: await containerId('survivor'), herald: await containerId('herald') };

    await killMesh(project);
    await holding;

    const restarted = await legion(['start', '-d'], project.dir);
    expect(restarted.code).toBe(0);
    expect(restarted.stdout).toMatch(/agent survivor adopted \(still running/);
    expect(restarted.stdout).toMatch(/agent herald adopted \(still running/);
    expect(await containerId('survivor')).toBe(before.survivor);
    expect(await containerId('herald')).toBe(before.herald);
    expect(await projectContainers(id)).toHaveLength(2);

    await waitFor(async () => {
      const lane = (await agent('survivor'))?.lane;
      return lane && lane.queued === 0 && lane.inflight === 0 ? true : null;
    }, 'survivor to work off its lane');
    for (const marker of markers)
      expect(
        turnsOfSurvivor(new RegExp(`\\[event signals · id evt_\\S+ · published by herald\\][\\s\\S]*${marker}`)),
      ).toHaveLength(1);
    const survivor = await agent('survivor');
    expect(survivor).toMatchObject({ health: 'healthy', restarts: 0 });
    // The adopted container still speaks to the mesh with its restored tokens.
    const chat = await legion(['chat', 'survivor', '-m', 'still with us?'], project.dir);
    expect(chat.stdout).toContain('echo: still with us?');
  });
});
