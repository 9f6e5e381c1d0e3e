// The only door, with real Docker: from inside an agent container, a direct TCP
// connection to a host port other than the mesh's fails (the LEGION-HOST firewall
// chain, installed because CI runs as root), while through the egress proxy an allowed
// test server on the host answers and a refused one gets 403 with the reason. Commands
// of the exec tool carry the proxy variables; each decision is an event; `legion stop`
// removes this mesh's firewall rule. Without root the mesh must say plainly that host
// ports are reachable, and that is what is checked instead.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { CLI, freePort, legion, makeProject, type TestProject } from '../helpers/project.js';
import { docker, dockerAvailable, projectContainers, removeVolume, execIn } from '../helpers/docker.js';
import { projectId } from '../../src/shared/state.js';
import { MeshClient } from '../../src/cli/mesh-client.js';
import { EventListSchema, type EventEntry } from '../../src/shared/wire/events.js';
import { missingFirewallRights } from '../../src/mesh/runtime/firewall.js';
import { tearDownFleet } from '../helpers/fleet.js';
import { hostServer, PROBE } from '../helpers/egress-probe.js';

const available = await dockerAvailable();
const canFirewall = missingFirewallRights() === null;
if (available && !canFirewall) {
  process.stderr.write('\n*** legion e2e egress: NOT ROOT (no CAP_NET_ADMIN); checking the host-isolation warning instead of the firewall ***\n\n');
}

const AGENT = 'prober';

function iptablesChain(): string {
  try {
    return execFileSync('iptables', ['-w', '5', '-S', 'LEGION-HOST'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

describe.skipIf(!available)('egress and host isolation with real Docker', () => {
  let fake: FakeProvider;
  let project: TestProject;
  let container: string;
  let gateway: string;
  let meshPort: number;
  let egressPort: number;
  let allowed: Awaited<ReturnType<typeof hostServer>>;
  let refused: Awaited<ReturnType<typeof hostServer>>;
  let startOutput: string;

  const probe = async (...args: string[]): Promise<string> => (await execIn(container, ['node', '-e', PROBE, ...args])).output.trim();
  const events = async (): Promise<EventEntry[]> => (await MeshClient.connect(project.dir).requestJson('GET', '/api/events?limit=1000', EventListSchema)).events;

  beforeAll(async () => {
    await removeVolume(`legion_data_${AGENT}`);
    fake = await startFakeProvider();
    allowed = await hostServer('hello from the allowed host server');
    refused = await hostServer('the refused host server must never answer');
    meshPort = await freePort();
    egressPort = await freePort();
    project = makeProject({
      port: meshPort,
      openaiBaseUrl: fake.openaiBaseUrl,
      meshYaml: `mesh: { host: 127.0.0.1, port: ${meshPort}, egress_port: ${egressPort} }\nllm:\n  default_model: openai/gpt-4o-mini\n  providers:\n    openai: {}\n`,
      agentsYaml: `agents:\n  ${AGENT}:\n    role: network prober\n    resources: { memory_limit: 512m, cpu_limit: 0.5 }\n`,
    });
    const permissionsPath = join(project.dir, 'config', 'permissions.yaml');
    writeFileSync(permissionsPath, `agents:\n  ${AGENT}:\n    allowed_apis: [llm]\n`);
    const started = await legion(['start', '-d'], project.dir);
    startOutput = started.stdout;
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    expect(started.stdout).toMatch(new RegExp(`agent ${AGENT} healthy`));
    container = `legion-${projectId(project.dir)}-${AGENT}`;
    const status = await MeshClient.connect(project.dir).status();
    gateway = new URL(status.mesh.agent_api_url).hostname;
    // The gateway is known only once the mesh made the network; the matrix reloads the edit live.
    writeFileSync(permissionsPath, `agents:\n  ${AGENT}:\n    allowed_apis: [llm]\n    allowed_domains: ["${gateway}"]\n`);
    const deadline = Date.now() + 10_000;
    while (!(await events()).some((e) => e.kind === 'permissions_reloaded' && JSON.stringify(e.detail).includes('permissions.yaml'))) {
      if (Date.now() > deadline) throw new Error('the permission matrix did not reload the edited config/permissions.yaml');
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  afterAll(async () => {
    await tearDownFleet(project, [AGENT]);
    await fake?.close();
    allowed?.server.close();
    refused?.server.close();
    project?.cleanup();
  });

  it('starts the container with proxy variables pointing at the egress proxy', async () => {
    const info = await docker.getContainer(container).inspect();
    const env = Object.fromEntries(info.Config.Env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) {
      const url = new URL(env[name] ?? '');
      expect(`${url.hostname}:${url.port}`, name).toBe(`${gateway}:${egressPort}`);
      expect(url.username, name).toBe(AGENT);
    }
    expect(env.NO_PROXY?.split(',')).toContain(gateway);
    expect(env.no_proxy).toBe(env.NO_PROXY);
  });

  it('still reaches the mesh agent API directly', async () => {
    expect(await probe('mesh')).toMatch(/^mesh: 401 /);
    expect(await probe('tcp', gateway, String(egressPort))).toBe('tcp: connected');
  });

  it.skipIf(!canFirewall)('fails a direct TCP connection to any other host port', async () => {
    // The server does listen on every address: from the host itself it answers.
    const fromHost = await fetch(`http://${gateway}:${allowed.port}/from-host`);
    expect(await fromHost.text()).toContain('hello from the allowed host server');
    expect(await probe('tcp', gateway, String(allowed.port))).toBe('tcp: ECONNREFUSED');
    // Containers route through the gateway, so the host's other addresses must be closed too.
    const other = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal && a.address !== gateway)?.address;
    if (other) expect(await probe('tcp', other, String(allowed.port)), other).toBe('tcp: ECONNREFUSED');
    expect(allowed.hits).toEqual(['/from-host']);
  });

  it.skipIf(!canFirewall)('installs its rule in the LEGION-HOST chain and says so', async () => {
    const chain = iptablesChain();
    expect(chain).toContain(`-A LEGION-HOST -d ${gateway}/32 -p tcp -m multiport --dports ${meshPort},${egressPort} -m comment --comment legion -j ACCEPT`);
    expect(chain).toMatch(/-A LEGION-HOST -m comment --comment legion -j REJECT --reject-with icmp-port-unreachable\n$/);
    expect(startOutput).toContain(`host isolation: agents reach only ports ${meshPort}, ${egressPort} on this host`);
    const status = await legion(['status'], project.dir);
    expect(status.stdout).toContain(`egress proxy: http://${gateway}:${egressPort}`);
    expect(status.stdout).toContain('host isolation: agents reach only ports');
  });

  it('lets an allowed host server answer through the proxy, by plain HTTP and by CONNECT', async () => {
    expect(await probe('get', `http://${gateway}:${allowed.port}/plain`)).toBe('get: 200 hello from the allowed host server /plain');
    expect(await probe('connect', `${gateway}:${allowed.port}`, '/tunnel')).toBe('connect: 200 hello from the allowed host server /tunnel');
  });

  it('refuses an unlisted destination with 403 and the reason', async () => {
    const answer = await probe('get', `http://127.0.0.1:${refused.port}/secret`);
    expect(answer).toMatch(/^get: 403 egress_refused: prober may not connect to 127\.0\.0\.1: allowed_domains is \["[\d.]+"\]; 127\.0\.0\.1 is a private, loopback or link-local address, reachable only when listed in allowed_domains$/);
    expect(await probe('connect', `127.0.0.1:${refused.port}`, '/secret')).toBe('connect: 403');
    expect(refused.hits).toEqual([]);
  });

  it('gives commands of the exec tool the proxy, and they get through it', async () => {
    await execIn(container, ['node', '-e', "require('fs').writeFileSync('/data/workspace/probe.js', process.argv[1])", PROBE]);
    const command = `node -e "$(cat /data/workspace/probe.js)" get http://${gateway}:${allowed.port}/from-exec; echo token=\${LEGION_AGENT_TOKEN:-absent}`;
    const result = await legion(['chat', AGENT, '-m', `call exec ${JSON.stringify({ command })}`], project.dir);
    expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
    expect(result.stdout).toContain('get: 200 hello from the allowed host server /from-exec');
    expect(result.stdout).toContain('token=absent');
  });

  it('records each allowed and refused connection as an event', async () => {
    const egress = (await events()).filter((e) => e.kind.startsWith('egress_'));
    expect(egress).toContainEqual(expect.objectContaining({ agent: AGENT, kind: 'egress_allowed', subject: `${gateway}:${allowed.port}`, detail: { method: 'GET' } }));
    expect(egress).toContainEqual(expect.objectContaining({ agent: AGENT, kind: 'egress_allowed', subject: `${gateway}:${allowed.port}`, detail: { method: 'CONNECT' } }));
    expect(egress).toContainEqual(
      expect.objectContaining({ agent: AGENT, kind: 'egress_refused', subject: `127.0.0.1:${refused.port}`, detail: { method: 'GET', reason: expect.stringMatching(/loopback/) } }),
    );
  });

  it('removes its firewall rule at legion stop', async () => {
    const stop = await legion(['stop'], project.dir);
    expect(stop.code).toBe(0);
    expect(await projectContainers(projectId(project.dir))).toEqual([]);
    if (canFirewall) expect(iptablesChain()).not.toContain(`--dports ${meshPort},${egressPort}`);
  });
});

// Without the rights to install the rule, the mesh must say so plainly. As root (CI),
// the mesh is started with CAP_NET_ADMIN removed from its bounding set, so this runs
// everywhere rather than only on machines without root.
describe.skipIf(!available)('egress without the rights to firewall the host', () => {
  const agent = 'prober-plain';
  let fake: FakeProvider;
  let project: TestProject;

  beforeAll(async () => {
    await removeVolume(`legion_data_${agent}`);
    fake = await startFakeProvider();
    const meshPort = await freePort();
    project = makeProject({
      port: meshPort,
      openaiBaseUrl: fake.openaiBaseUrl,
      meshYaml: `mesh: { host: 127.0.0.1, port: ${meshPort}, egress_port: ${await freePort()} }\nllm:\n  default_model: openai/gpt-4o-mini\n`,
      agentsYaml: `agents:\n  ${agent}:\n    role: plain prober\n`,
    });
  });

  afterAll(async () => {
    await tearDownFleet(project, [agent]);
    await fake?.close();
    project?.cleanup();
  });

  it('says plainly at start and in status that host ports are reachable', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.LEGION_CRED_OPENAI_API_KEY;
    const command = canFirewall ? ['setpriv', '--bounding-set', '-net_admin', '--', process.execPath, CLI, 'start', '-d'] : [process.execPath, CLI, 'start', '-d'];
    const startOutput = execFileSync(command[0]!, command.slice(1), { cwd: project.dir, env, encoding: 'utf8', timeout: 280_000 });
    expect(startOutput).toMatch(/warning: legion runs without root or CAP_NET_ADMIN, so agents can reach every port of this host/);
    const status = await legion(['status'], project.dir);
    expect(status.stdout).toMatch(/warning: legion runs without root or CAP_NET_ADMIN/);
    expect(status.stdout).toContain('iptables -I INPUT 1 -i br-');
  });
});
