// Two projects on one machine never share agent data, with real Docker: each has an
// agent named assistant, both run at once, and each mounts its own volume
// (legion-<project id>-assistant, labelled with its project): a file one writes is not
// in the other, and each agent.db holds only its own chats. The legacy
// legion_data_assistant volume (global-setup.ts) is left alone and named once at start
// and by doctor, with the command that copies it; adopt-volume copies without deleting;
// agent remove keeps the data unless --purge.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { freePort, legion, makeProject, type TestProject } from '../helpers/project.js';
import { docker, dockerAvailable, execIn } from '../helpers/docker.js';
import { projectId } from '../../src/shared/state.js';
import { tearDownFleet } from '../helpers/fleet.js';

const available = await dockerAvailable();
const ADOPT = 'legion agent adopt-volume assistant legion_data_assistant';

describe.skipIf(!available)('two projects with an agent of the same name (real Docker)', () => {
  let fake: FakeProvider;
  const projects: TestProject[] = [];
  const container = (p: TestProject) => `legion-${projectId(p.dir)}-assistant`;
  const volume = (p: TestProject) => `legion-${projectId(p.dir)}-assistant`;

  beforeAll(async () => {
    fake = await startFakeProvider();
    for (let i = 0; i < 2; i++)
      projects.push(makeProject({ port: await freePort(), openaiBaseUrl: fake.openaiBaseUrl }));
    const started = await Promise.all(projects.map((p) => legion(['start', '-d'], p.dir)));
    for (const s of started) {
      expect(s.code, s.stderr).toBe(0);
      // The suite's guarded legion_data_assistant is not this project's: said once, not used.
      expect(s.stdout.split(ADOPT).length - 1).toBe(1);
    }
  });

  afterAll(async () => {
    for (const p of projects) await tearDownFleet(p);
    await fake?.close();
    for (const p of projects) p.cleanup();
  });

  it('mounts a volume of its own project in each, and keeps files and agent.db apart', async () => {
    const [a, b] = projects as [TestProject, TestProject];
    for (const p of [a, b]) {
      const info = await docker.getContainer(container(p)).inspect();
      expect(info.Mounts).toEqual([expect.objectContaining({ Type: 'volume', Name: volume(p), Destination: '/data' })]);
      expect((await docker.getVolume(volume(p)).inspect()).Labels).toMatchObject({
        'legion.project': projectId(p.dir),
        'legion.agent': 'assistant',
      });
    }
    const wrote = await legion(
      ['chat', 'assistant', '-m', `call exec ${JSON.stringify({ command: 'echo from-a > only-a.txt && ls' })}`],
      a.dir,
    );
    expect(wrote.code, wrote.stderr).toBe(0);
    expect(wrote.stdout).toContain('only-a.txt');
    const seen = await legion(
      ['chat', 'assistant', '-m', `call exec ${JSON.stringify({ command: 'ls; cat only-a.txt' })}`],
      b.dir,
    );
    expect(seen.code, seen.stderr).toBe(0);
    expect(seen.stdout).toContain('No such file');
    expect(seen.stdout).not.toContain('from-a');

    const marks = ['marker-of-a-7f3k', 'marker-of-b-9q2z'];
    for (const [i, p] of [a, b].entries())
      expect((await legion(['chat', 'assistant', '-m', marks[i] ?? ''], p.dir)).code).toBe(0);
    const grep = async (p: TestProject, text: string) =>
      (await execIn(container(p), ['sh', '-c', `cat /data/agent.db* | grep -c ${text} || true`])).output.trim();
    expect(await grep(a, marks[0] ?? '')).not.toBe('0');
    expect(await grep(a, marks[1] ?? '')).toBe('0');
    expect(await grep(b, marks[1] ?? '')).not.toBe('0');
    expect(await grep(b, marks[0] ?? '')).toBe('0');
  });

  it('doctor names the legacy volume and the command; adopt-volume copies without deleting; remove keeps data unless --purge', async () => {
    const [a, b] = projects as [TestProject, TestProject];
    const doctor = await legion(['doctor'], b.dir);
    expect(doctor.stdout).toContain(ADOPT);

    const image = (await docker.getContainer(container(a)).inspect()).Image;
    for (const p of [a, b]) expect((await legion(['stop'], p.dir)).code).toBe(0);
    const adopted = await legion(['agent', 'adopt-volume', 'assistant', volume(a)], b.dir);
    expect(adopted.code, adopted.stderr).toBe(0);
    expect(adopted.stdout).toContain(`copied ${volume(a)} into ${volume(b)}`);
    const look = async (source: string) => {
      const c = await docker.createContainer({
        Image: image,
        Cmd: ['sh', '-c', 'ls -A /v /v/workspace /v/.before-adopt-* 2>/dev/null; true'],
        HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'volume', Source: source, Target: '/v', ReadOnly: true }] },
      });
      await c.start();
      await c.wait();
      const out = (await c.logs({ stdout: true, stderr: true })).toString('utf8');
      await c.remove({ force: true });
      return out;
    };
    const bNow = await look(volume(b));
    expect(bNow).toContain('only-a.txt');
    expect(bNow).toMatch(/\.before-adopt-/);
    expect(await look(volume(a))).toContain('only-a.txt');

    const kept = await legion(['agent', 'remove', 'assistant', '--yes'], b.dir);
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stdout).toContain(`its data is kept in volume ${volume(b)}`);
    expect((await docker.getVolume(volume(b)).inspect()).Name).toBe(volume(b));
    const purged = await legion(['agent', 'remove', 'assistant', '--yes', '--purge'], a.dir);
    expect(purged.code, purged.stderr).toBe(0);
    expect(purged.stdout).toContain(`deleted its data (volume ${volume(a)})`);
    await expect(docker.getVolume(volume(a)).inspect()).rejects.toThrow();
  });
});
