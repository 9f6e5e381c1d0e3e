// The only door, with real Docker: from inside an agent container, a direct TCP
// connection to a host port other than the mesh's fails (the LEGION-HOST firewall
// chain, installed because CI runs as root), while through the egress proxy (which runs
// in the mesh, on the host, and so makes the host-side connection itself) the one host
// port the allowlist names as 127.0.0.1:<port> answers, and nothing else of the host
// does, even with can_use_internet: not another port, not the admin API, not the fake
// LLM's port (allowlisted too), not the same server at the gateway or at the host's
// own non-loopback address; each refusal is a 403 naming its rule. Commands of the exec
// tool carry the proxy variables; each decision is an event; `legion stop` removes this
// mesh's firewall rule. Without root the mesh must say plainly that host ports are
// reachable, and that is what is checked instead.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { CLI, freePort, legion, makeProject, type TestProject } from '../helpers/project.js';
import { docker, dockerAvailable, projectContainers, execIn } from '../helpers/docker.js';
import { projectId } from '../../src/shared/state.js';
import { MeshClient } from '../../src/cli/mesh-client.js';
import { EventListSchema, type EventEntry } from '../../src/shared/wire/events.js';
import { missingFirewallRights } from '../../src/mesh/runtime/firewall.js';
import { tearDownFleet } from '../helpers/fleet.js';
import { hostServer, PROBE } from '../helpers/egress-probe.js';

const available = await dockerAvailable();
const canFirewall = missingFirewallRights() === null;
if (available && !canFirewall) {
  process.stderr.write(
    '\n*** legion e2e egress: NOT ROOT (no CAP_NET_ADMIN); checking the host-isolation warning instead of the firewall ***\n\n',
  );
}

const AGENT = 'prober';

function iptablesChain(): string {
  try {
    return execFileSync('iptables', ['-w', '5', '-S', 'LEGION-HOST'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
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

  const probe = async (...args: string[]): Promise<string> =>
    (await execIn(container, ['node', '-e', PROBE, ...args])).output.trim();
  const events = async (): Promise<EventEntry[]> =>
    (await MeshClient.connect(project.dir).requestJson('GET', '/api/events?limit=1000', EventListSchema)).events;

  beforeAll(async () => {
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
    // The fake LLM's port is allowlisted exactly too: the model-endpoint rule must win over the entry.
    const fakePort = new URL(fake.openaiBaseUrl).port;
    writeFileSync(
      join(project.dir, 'config', 'permissions.yaml'),
      `agents:\n  ${AGENT}:\n    allowed_apis: [llm]\n    can_use_internet: true\n    allowed_domains: ["127.0.0.1:${allowed.port}", "127.0.0.1:${fakePort}"]\n`,
    );
    const started = await legion(['start', '-d'], project.dir);
    startOutput = started.stdout;
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    expect(started.stdout).toMatch(new RegExp(`agent ${AGENT} healthy`));
    container = `legion-${projectId(project.dir)}-${AGENT}`;
    const status = await MeshClient.connect(project.dir).status();
    gateway = new URL(status.mesh.agent_api_url).hostname;
  });

  afterAll(async () => {
    await tearDownFleet(project);
    await fake?.close();
    allowed?.server.close();
    refused?.server.close();
    project?.cleanup();
  });

  it('starts the container with proxy variables pointing at the egress proxy', async () => {
    const info = await docker.getContainer(container).inspect();
    const env = Object.fromEntries(
      info.Config.Env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
    );
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
    expect(chain).toContain(
      `-A LEGION-HOST -d ${gateway}/32 -p tcp -m multiport --dports ${meshPort},${egressPort} -m comment --comment legion -j ACCEPT`,
    );
    expect(chain).toMatch(
      /-A LEGION-HOST -m comment --comment legion -j REJECT --reject-with icmp-port-unreachable\n$/,
    );
    expect(startOutput).toContain(`host isolation: agents reach only ports ${meshPort}, ${egressPort} on this host`);
    const status = await legion(['status'], project.dir);
    expect(status.stdout).toContain(`egress proxy: http://${gateway}:${egressPort}`);
    expect(status.stdout).toContain('host isolation: agents reach only ports');
  });

  it('lets the allowlisted host port answer through the proxy, by plain HTTP and by CONNECT', async () => {
    expect(await probe('get', `http://127.0.0.1:${allowed.port}/plain`)).toBe(
      'get: 200 hello from the allowed host server /plain',
    );
    expect(await probe('connect', `127.0.0.1:${allowed.port}`, '/tunnel')).toBe(
      'connect: 200 hello from the allowed host server /tunnel',
    );
  });

  it('refuses every other port of the host with 403 and the rule, whatever can_use_internet says', async () => {
    const hostRule = (host: string, port: number) =>
      `get: 403 egress_refused: ${AGENT} may not connect to ${host}:${port}: ${host} is an address of this machine, reachable only through an allowed_domains entry naming exactly "${host}:${port}", whatever can_use_internet says [rule: host_address]`;
    expect(await probe('get', `http://127.0.0.1:${refused.port}/secret`)).toBe(hostRule('127.0.0.1', refused.port));
    expect(await probe('connect', `127.0.0.1:${refused.port}`, '/secret')).toBe('connect: 403');
    // The admin API, which listens on the host's loopback.
    expect(await probe('get', `http://127.0.0.1:${meshPort}/api/status`)).toBe(hostRule('127.0.0.1', meshPort));
    // The allowed server itself, at the host's other addresses: only the exact host:port listed opens.
    expect(await probe('get', `http://${gateway}:${allowed.port}/gateway`)).toBe(hostRule(gateway, allowed.port));
    // The host's own address on its network (eth0's), not a docker bridge's.
    const eth0 = Object.entries(networkInterfaces())
      .filter(([name]) => !/^(docker|br-|veth)/.test(name))
      .flatMap(([, list]) => list ?? [])
      .find((a) => a.family === 'IPv4' && !a.internal)?.address;
    if (eth0) {
      expect((await fetch(`http://${eth0}:${allowed.port}/from-host`)).status).toBe(200);
      expect(await probe('get', `http://${eth0}:${allowed.port}/eth0`), eth0).toBe(hostRule(eth0, allowed.port));
    }
    expect(refused.hits).toEqual([]);
    expect(allowed.hits.filter((hit) => hit !== '/from-host')).toEqual(['/plain', '/tunnel']);
  });

  it("refuses the fake LLM's port although it is allowlisted: models only through the metered route", async () => {
    const calls = fake.calls.length;
    const port = Number(new URL(fake.openaiBaseUrl).port);
    expect(await probe('get', `http://127.0.0.1:${port}/v1/models`)).toBe(
      `get: 403 egress_refused: ${AGENT} may not connect to 127.0.0.1:${port}: it is the endpoint of LLM provider openai (${fake.openaiBaseUrl}), which agents reach only through the mesh's metered LLM route, whatever allowed_domains and can_use_internet say [rule: model_endpoint]`,
    );
    expect(await probe('connect', `127.0.0.1:${port}`, '/v1/models')).toBe('connect: 403');
    expect(fake.calls.length).toBe(calls);
  });

  it('gives commands of the exec tool the proxy, and they get through it', async () => {
    await execIn(container, [
      'node',
      '-e',
      "require('fs').writeFileSync('/data/workspace/probe.js', process.argv[1])",
      PROBE,
    ]);
    const command = `node -e "$(cat /data/workspace/probe.js)" get http://127.0.0.1:${allowed.port}/from-exec; echo token=\${LEGION_AGENT_TOKEN:-absent}`;
    const result = await legion(['chat', AGENT, '-m', `call exec ${JSON.stringify({ command })}`], project.dir);
    expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
    expect(result.stdout).toContain('get: 200 hello from the allowed host server /from-exec');
    expect(result.stdout).toContain('token=absent');
  });

  it('records each allowed and refused connection as an event', async () => {
    const egress = (await events()).filter((e) => e.kind.startsWith('egress_'));
    expect(egress).toContainEqual(
      expect.objectContaining({
        agent: AGENT,
        kind: 'egress_allowed',
        subject: `127.0.0.1:${allowed.port}`,
        detail: { method: 'GET' },
      }),
    );
    expect(egress).toContainEqual(
      expect.objectContaining({
        agent: AGENT,
        kind: 'egress_allowed',
        subject: `127.0.0.1:${allowed.port}`,
        detail: { method: 'CONNECT' },
      }),
    );
    expect(egress).toContainEqual(
      expect.objectContaining({
        agent: AGENT,
        kind: 'egress_refused',
        subject: `127.0.0.1:${refused.port}`,
        detail: { method: 'GET', rule: 'host_address', reason: expect.stringMatching(/an address of this machine/) },
      }),
    );
    expect(egress).toContainEqual(
      expect.objectContaining({
        agent: AGENT,
        kind: 'egress_refused',
        subject: `127.0.0.1:${new URL(fake.openaiBaseUrl).port}`,
        detail: expect.objectContaining({ rule: 'model_endpoint' }),
      }),
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
    await tearDownFleet(project);
    await fake?.close();
    project?.cleanup();
  });

  it('says plainly at start and in status that host ports are reachable', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.LEGION_CRED_OPENAI_API_KEY;
    const command = canFirewall
      ? ['setpriv', '--bounding-set', '-net_admin', '--', process.execPath, CLI, 'start', '-d']
      : [process.execPath, CLI, 'start', '-d'];
    const startOutput = execFileSync(command[0]!, command.slice(1), {
      cwd: project.dir,
      env,
      encoding: 'utf8',
      timeout: 280_000,
    });
    expect(startOutput).toMatch(
      /warning: legion runs without root or CAP_NET_ADMIN, so agents can reach every port of this host/,
    );
    const status = await legion(['status'], project.dir);
    expect(status.stdout).toMatch(/warning: legion runs without root or CAP_NET_ADMIN/);
    expect(status.stdout).toContain('iptables -I INPUT 1 -i br-');
  });
});
