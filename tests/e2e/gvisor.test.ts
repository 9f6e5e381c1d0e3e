// The core of the e2e suite again, with agents under gVisor (`runtime: runsc`): the
// container runs under runsc and says so in status, the kernel inside is gVisor's, and
// chat, exec as uid 1000, files, memory (SQLite in WAL mode on the volume), egress
// (blocked and allowed), crash and restart, and adoption after a SIGKILL of the mesh
// all work as under runc. Then the choice itself against the real engine: an unknown
// runtime is refused at start with the known ones, and `auto` takes runsc. The gVisor
// tests skip loudly without runsc registered, unless LEGION_REQUIRE_RUNSC=1 (CI).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { freePort, legion, makeProject, type TestProject } from '../helpers/project.js';
import { docker, dockerAvailable, execIn, gvisorAvailable, projectContainers } from '../helpers/docker.js';
import { hostServer, PROBE } from '../helpers/egress-probe.js';
import { killMesh, tearDownFleet } from '../helpers/fleet.js';
import { waitFor } from '../helpers/wait.js';
import { projectId } from '../../src/shared/state.js';
import { MeshClient } from '../../src/cli/mesh-client.js';
import { EventListSchema } from '../../src/shared/wire/events.js';
import { missingFirewallRights } from '../../src/mesh/runtime/firewall.js';
import type { AgentStatusEntry } from '../../src/shared/wire/admin.js';

const available = await dockerAvailable();
const gvisor = available && (await gvisorAvailable());
const canFirewall = missingFirewallRights() === null;
const AGENT = 'walled';

describe.skipIf(!gvisor)('agents under gVisor (runtime: runsc)', () => {
  let fake: FakeProvider;
  let project: TestProject;
  let container: string;
  let gateway: string;
  let startOutput: string;
  let allowed: Awaited<ReturnType<typeof hostServer>>;
  let refused: Awaited<ReturnType<typeof hostServer>>;

  const chat = (message: string, ...flags: string[]) => legion(['chat', AGENT, ...flags, '-m', message], project.dir);
  const probe = async (...args: string[]): Promise<string> =>
    (await execIn(container, ['node', '-e', PROBE, ...args])).output.trim();
  const agent = async (): Promise<AgentStatusEntry | null> =>
    (
      await MeshClient.find(project.dir)
        ?.status()
        .catch(() => null)
    )?.agents.find((a) => a.name === AGENT) ?? null;
  const containerInfo = () => docker.getContainer(container).inspect();

  beforeAll(async () => {
    fake = await startFakeProvider();
    allowed = await hostServer('hello from the allowed host server');
    refused = await hostServer('the refused host server must never answer');
    const port = await freePort();
    project = makeProject({
      port,
      runtime: 'runsc',
      openaiBaseUrl: fake.openaiBaseUrl,
      meshYaml: `mesh: { host: 127.0.0.1, port: ${port}, egress_port: ${await freePort()} }\nllm:\n  default_model: openai/gpt-4o-mini\n  providers:\n    openai: {}\n`,
      agentsYaml: `agents:\n  ${AGENT}:\n    role: works behind a stronger wall\n    resources: { memory_limit: 512m, cpu_limit: 0.5 }\n`,
    });
    const permissions = join(project.dir, 'config', 'permissions.yaml');
    writeFileSync(permissions, `agents:\n  ${AGENT}:\n    allowed_apis: [llm]\n`);
    const started = await legion(['start', '-d'], project.dir);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    startOutput = started.stdout;
    container = `legion-${projectId(project.dir)}-${AGENT}`;
    gateway = new URL((await MeshClient.connect(project.dir).status()).mesh.agent_api_url).hostname;
    // The gateway is known once the mesh made the network; the matrix reloads the edit live.
    writeFileSync(
      permissions,
      `agents:\n  ${AGENT}:\n    allowed_apis: [llm]\n    allowed_domains: ["${gateway}:${allowed.port}"]\n`,
    );
    await waitFor(async () => {
      const { events } = await MeshClient.connect(project.dir).requestJson(
        'GET',
        '/api/events?limit=1000',
        EventListSchema,
      );
      return events.some(
        (e) => e.kind === 'permissions_reloaded' && JSON.stringify(e.detail).includes('permissions.yaml'),
      )
        ? true
        : null;
    }, 'the permission matrix to reload config/permissions.yaml');
  });

  afterAll(async () => {
    await tearDownFleet(project);
    await fake?.close();
    allowed?.server.close();
    refused?.server.close();
    project?.cleanup();
  });

  it('runs the container under runsc, says so in status, and warns about nothing', async () => {
    expect(startOutput).toMatch(new RegExp(`agent ${AGENT} healthy`));
    expect(startOutput).not.toContain('without a sandboxing runtime');
    expect((await containerInfo()).HostConfig.Runtime).toBe('runsc');
    expect((await agent())?.container).toMatchObject({ runtime: 'runsc', sandboxed: true });
    const status = await legion(['status'], project.dir);
    expect(status.stdout).toMatch(
      new RegExp(`${AGENT}\\s+healthy\\s+running\\s.*\\s${container}\\s+runsc\\s+openai/gpt-4o-mini`),
    );
    expect(status.stdout).not.toContain('warning');
    const doctor = await legion(['doctor'], project.dir);
    expect(doctor.stdout).toMatch(
      new RegExp(`^ok +agent sandbox +agents run with a kernel of their own: ${AGENT} under runsc$`, 'm'),
    );
  });

  it("shows gVisor's kernel inside the agent, not the host's", async () => {
    const result = await chat('call exec {"command":"cat /proc/version; dmesg | head -n 3"}');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Starting gVisor');
    const hostKernel = readFileSync('/proc/version', 'utf8').trim();
    expect(result.stdout).not.toContain(hostKernel);
  });

  it('chats and runs the exec tool as uid 1000', async () => {
    const hello = await chat('hello from under gVisor');
    expect(hello.stdout).toContain('echo: hello from under gVisor');
    const id = await chat('call exec {"command":"id -u"}');
    expect(id.stdout).toMatch(/tool exec returned:[\s\S]*\b1000\b/);
  });

  it('round-trips write_file and read_file on the /data volume', async () => {
    await chat('call write_file {"path":"notes/walled.txt","content":"written under gVisor"}');
    expect((await chat('call read_file {"path":"notes/walled.txt"}')).stdout).toContain('written under gVisor');
    expect((await execIn(container, ['cat', '/data/workspace/notes/walled.txt'])).output).toBe('written under gVisor');
  });

  it('saves to memory and recalls it in a new session, with agent.db in WAL mode', async () => {
    const saved = await chat(`call memory_save {"text":"The vault code word is periwinkle"}`);
    expect(saved.stdout).toMatch(/saved to memory\/\d{4}-\d{2}-\d{2}\.md/);
    const question = 'What is the vault code word?';
    expect((await chat(question, '--reset')).code).toBe(0);
    const system = fake.calls
      .filter((c) => c.messages.some((m) => m.role === 'user' && m.content === question))
      .at(-1)
      ?.messages.find((m) => m.role === 'system')?.content;
    expect(system).toContain('The vault code word is periwinkle');
    // node rather than ls: Debian 12's runsc (20221219) answers coreutils' statx with EINVAL (docs/security.md).
    const listing = await execIn(container, [
      'node',
      '-e',
      "console.log(require('fs').readdirSync('/data').join('\\n'))",
    ]);
    expect(listing.output.split('\n')).toContain('agent.db-wal');
  });

  it.skipIf(!canFirewall)('fails a direct TCP connection to a host port other than the mesh', async () => {
    expect(await probe('tcp', gateway, String(allowed.port))).toBe('tcp: ECONNREFUSED');
    expect(allowed.hits).toEqual([]);
  });

  it('lets an allowed host server answer through the egress proxy and refuses the rest with 403', async () => {
    expect(await probe('get', `http://${gateway}:${allowed.port}/walled`)).toBe(
      'get: 200 hello from the allowed host server /walled',
    );
    expect(await probe('connect', `${gateway}:${allowed.port}`, '/tunnel')).toBe(
      'connect: 200 hello from the allowed host server /tunnel',
    );
    expect(await probe('get', `http://127.0.0.1:${refused.port}/secret`)).toMatch(
      /^get: 403 egress_refused: walled may not connect to 127\.0\.0\.1/,
    );
    expect(refused.hits).toEqual([]);
  });

  it('brings a killed container back under runsc with /data intact', async () => {
    const before = (await containerInfo()).Id;
    await docker.getContainer(before).kill();
    await waitFor(
      async () => {
        const now = await agent();
        return now?.health === 'healthy' && now.restarts === 1 ? true : null;
      },
      `${AGENT} to be restarted and healthy`,
      30_000,
    );
    const after = await containerInfo();
    expect(after.Id).not.toBe(before);
    expect(after.HostConfig.Runtime).toBe('runsc');
    expect((await chat('call read_file {"path":"notes/walled.txt"}')).stdout).toContain('written under gVisor');
  });

  it('adopts the running gVisor container after a SIGKILL of the mesh', async () => {
    const before = (await containerInfo()).Id;
    await killMesh(project);
    const restarted = await legion(['start', '-d'], project.dir);
    expect(restarted.code).toBe(0);
    expect(restarted.stdout).toMatch(new RegExp(`agent ${AGENT} adopted \\(still running`));
    expect((await containerInfo()).Id).toBe(before);
    expect(await projectContainers(projectId(project.dir))).toHaveLength(1);
    expect((await agent())?.container).toMatchObject({ runtime: 'runsc', sandboxed: true });
    expect((await chat('still walled in?')).stdout).toContain('echo: still walled in?');
  });
});

describe.skipIf(!available)('choosing the runtime with real Docker', () => {
  const name = 'chooser';
  let fake: FakeProvider;
  let project: TestProject;

  beforeAll(async () => {
    fake = await startFakeProvider();
    project = makeProject({
      port: await freePort(),
      openaiBaseUrl: fake.openaiBaseUrl,
      runtime: 'no-such-runtime',
      agentsYaml: `agents:\n  ${name}:\n    role: picks\n`,
    });
  });

  afterAll(async () => {
    await tearDownFleet(project);
    await fake?.close();
    project?.cleanup();
  });

  it('refuses a runtime Docker does not know at start, listing the ones it knows', async () => {
    const started = await legion(['start', '-d'], project.dir);
    expect(started.code).toBe(1);
    const known = Object.keys(((await docker.info()) as { Runtimes: Record<string, unknown> }).Runtimes).sort();
    expect(started.stderr + started.stdout).toContain(
      `the OCI runtime "no-such-runtime" (runtime: in config/mesh.yaml or config/agents.yaml) is not registered with Docker; it knows: ${known.join(', ')}`,
    );
    expect(await projectContainers(projectId(project.dir))).toEqual([]);
  });

  it.skipIf(!gvisor)('takes runsc for auto when Docker has it registered', async () => {
    const meshYaml = join(project.dir, 'config', 'mesh.yaml');
    writeFileSync(meshYaml, readFileSync(meshYaml, 'utf8').replace('runtime: no-such-runtime', 'runtime: auto'));
    const started = await legion(['start', '-d'], project.dir);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).not.toContain('without a sandboxing runtime');
    const info = await docker.getContainer(`legion-${projectId(project.dir)}-${name}`).inspect();
    expect(info.HostConfig.Runtime).toBe('runsc');
  });
});
