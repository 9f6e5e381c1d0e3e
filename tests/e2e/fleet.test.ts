// The walking skeleton end to end with real Docker: `legion start -d` in a temp
// project, chat through the mesh into a hardened container whose tools run for real,
// status, secrets kept out of the container, and `legion stop` leaving nothing behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { freePort, legion, makeProject, type TestProject } from '../helpers/project.js';
import { docker, dockerAvailable, projectContainers, execIn } from '../helpers/docker.js';
import { projectId } from '../../src/shared/state.js';
import { tearDownFleet } from '../helpers/fleet.js';

const available = await dockerAvailable();

describe.skipIf(!available)('fleet with real Docker', () => {
  let fake: FakeProvider;
  let project: TestProject;
  let container: string;
  let startOutput: string;

  beforeAll(async () => {
    fake = await startFakeProvider();
    project = makeProject({ port: await freePort(), openaiBaseUrl: fake.openaiBaseUrl });
    const started = await legion(['start', '-d'], project.dir);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    expect(started.stdout).toMatch(/agent assistant healthy/);
    startOutput = started.stdout;
    container = `legion-${projectId(project.dir)}-assistant`;
  });

  afterAll(async () => {
    await tearDownFleet(project);
    await fake?.close();
    project?.cleanup();
  });

  it('runs the exec tool inside the container as uid 1000', async () => {
    const result = await legion(['chat', 'assistant', '-m', 'call exec {"command":"id -u"}'], project.dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/tool exec returned:[\s\S]*\b1000\b/);
    expect(result.stderr).toContain('[tool] exec');
  });

  it('round-trips write_file and read_file in /data', async () => {
    const write = await legion(
      ['chat', 'assistant', '-m', 'call write_file {"path":"notes/hello.txt","content":"hello from the e2e test"}'],
      project.dir,
    );
    expect(write.code).toBe(0);
    const read = await legion(['chat', 'assistant', '-m', 'call read_file {"path":"notes/hello.txt"}'], project.dir);
    expect(read.code).toBe(0);
    expect(read.stdout).toContain('hello from the e2e test');
    const onDisk = await execIn(container, ['cat', '/data/workspace/notes/hello.txt']);
    expect(onDisk.output).toContain('hello from the e2e test');
  });

  it('refuses a path outside /data', async () => {
    const result = await legion(['chat', 'assistant', '-m', 'call read_file {"path":"../../etc/passwd"}'], project.dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/outside \/data/);
    expect(result.stdout).not.toContain('root:x:0:0');
  });

  it('shows the agent healthy in legion status', async () => {
    const text = await legion(['status'], project.dir);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/assistant\s+healthy\s+running\s+0 queued/);
    const json = JSON.parse((await legion(['status', '--json'], project.dir)).stdout) as {
      ready: boolean;
      agents: { name: string; health: string; model: string }[];
    };
    expect(json.ready).toBe(true);
    expect(json.agents).toEqual([
      expect.objectContaining({ name: 'assistant', health: 'healthy', model: 'openai/gpt-4o-mini' }),
    ]);
  });

  it('says once, at start and in status, that the agent runs under runc without a sandbox', async () => {
    const warning = 'warning: agent assistant (runc) run without a sandboxing runtime';
    expect(startOutput.split(warning)).toHaveLength(2);
    const text = (await legion(['status'], project.dir)).stdout;
    expect(text).toMatch(/assistant\s+healthy\s.*\srunc \(no sandbox\)\s+openai\/gpt-4o-mini/);
    expect(text.split(warning)).toHaveLength(2);
    expect((await docker.getContainer(container).inspect()).HostConfig.Runtime).toBe('runc');
  });

  it('keeps the provider key in the mesh: it reaches the provider, never the container', async () => {
    expect(fake.calls.length).toBeGreaterThan(0);
    expect(fake.calls.every((call) => call.headers.authorization === `Bearer ${project.secret}`)).toBe(true);
    const info = await docker.getContainer(container).inspect();
    expect(info.Config.Env.join('\n')).not.toContain(project.secret);
    expect(info.Config.Env.some((e) => e.startsWith('LEGION_CRED_'))).toBe(false);
    const grep = await execIn(container, ['grep', '-r', '-l', project.secret, '/data', '/tmp']);
    expect(grep.code).toBe(1);
    const envInside = await execIn(container, ['sh', '-c', 'cat /proc/1/environ /proc/self/environ | tr "\\0" "\\n"']);
    expect(envInside.output).not.toContain(project.secret);
  });

  it('runs the container hardened, on the internal network', async () => {
    const info = await docker.getContainer(container).inspect();
    expect(info.Config.User).toBe('1000:1000');
    expect(info.HostConfig.CapDrop).toEqual(['ALL']);
    expect(info.HostConfig.SecurityOpt).toContain('no-new-privileges:true');
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    expect(Object.keys(info.HostConfig.Tmpfs ?? {})).toContain('/tmp');
    expect(info.HostConfig.Memory).toBe(512 * 1024 * 1024);
    expect(info.HostConfig.NanoCpus).toBe(0.5e9);
    expect(info.HostConfig.PidsLimit).toBeGreaterThan(0);
    expect(info.HostConfig.Init).toBe(true);
    const volume = `legion-${projectId(project.dir)}-assistant`;
    expect(info.Mounts).toEqual([expect.objectContaining({ Type: 'volume', Name: volume, Destination: '/data' })]);
    expect((await docker.getVolume(volume).inspect()).Labels).toMatchObject({
      'legion.project': projectId(project.dir),
      'legion.agent': 'assistant',
    });
    expect(info.Config.Env.filter((e) => /^LEGION_AGENT(_SERVER)?_TOKEN=/.test(e))).toEqual([]);
    expect(info.Config.Labels).toMatchObject({ 'legion.project': projectId(project.dir), 'legion.agent': 'assistant' });
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual(['legion_internal']);
    const network = await docker.getNetwork('legion_internal').inspect();
    expect(network.Internal).toBe(true);
    expect(network.Options?.['com.docker.network.bridge.enable_icc']).toBe('false');
    const writeRoot = await execIn(container, ['sh', '-c', 'touch /app/x']);
    expect(writeRoot.code).not.toBe(0);
  });

  it('stops every container and the mesh with legion stop', async () => {
    const stop = await legion(['stop'], project.dir);
    expect(stop.code).toBe(0);
    expect(stop.stdout).toContain('fleet stopped');
    expect(await projectContainers(projectId(project.dir))).toEqual([]);
    expect(existsSync(join(project.dir, '.legion', 'mesh.json'))).toBe(false);
    const status = await legion(['status'], project.dir);
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(/not running/);
  });
});
