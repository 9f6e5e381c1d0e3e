// MCP servers as tools, end to end with real Docker and the official MCP SDK on both
// sides: a stdio server (tests/fakes/mcp-stdio-server.cjs, the SDK from the image) runs
// inside the agent's container and its tools are called by the agent; a remote server on
// the host (streamable HTTP, allowlisted) is called through the mesh with a $CRED header
// whose real value reaches the server while the container never holds it;
// allowed_mcp_tools hides a tool; a server that cannot start and one that dies show in
// `legion status` and are retried, while the agent keeps answering.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { startRemoteMcpServer, stdioServerSource, type RemoteMcpServer } from '../fakes/mcp-remote-server.js';
import { freePort, legion, makeProject, type TestProject } from '../helpers/project.js';
import { dockerAvailable, execIn } from '../helpers/docker.js';
import { waitFor } from '../helpers/wait.js';
import { tearDownFleet } from '../helpers/fleet.js';
import { projectId } from '../../src/shared/state.js';
import { MeshStatusSchema, type MeshStatus } from '../../src/shared/wire/admin.js';

const available = await dockerAvailable();
const MCP_SECRET = `mcp-e2e-${Math.random().toString(36).slice(2)}-Kp4`;
const SDK_IN_IMAGE = '/app/node_modules/@modelcontextprotocol/sdk/dist/cjs';

function agentsYaml(remoteUrl: string): string {
  const servers = [
    { name: 'local', command: 'node', args: ['-e', stdioServerSource()], env: { MCP_SDK_CJS: SDK_IN_IMAGE } },
    { name: 'remote', url: remoteUrl, headers: { Authorization: 'Bearer $CRED{mcp_token}' } },
    {
      name: 'broken',
      command: 'node',
      args: ['-e', 'console.error("broken server: missing settings"); process.exit(3)'],
    },
  ];
  // JSON is YAML: the stdio server's source goes in as one escaped string.
  return `agents:\n  toolsmith:\n    role: uses MCP tools\n    mcp_servers: ${JSON.stringify(servers)}\n`;
}

describe.skipIf(!available)('MCP servers as tools with real Docker', () => {
  let fake: FakeProvider;
  let project: TestProject;
  let remote: RemoteMcpServer;
  let container: string;

  const status = async (): Promise<MeshStatus> => {
    const result = await legion(['status', '--json'], project.dir);
    expect(result.code, result.stderr).toBe(0);
    return MeshStatusSchema.parse(JSON.parse(result.stdout));
  };
  const server = async (name: string) => (await status()).mcp.find((entry) => entry.server === name);
  const chat = async (message: string) => {
    const result = await legion(['chat', 'toolsmith', '-m', message], project.dir);
    expect(result.code, result.stderr).toBe(0);
    return result.stdout;
  };

  beforeAll(async () => {
    remote = await startRemoteMcpServer(`Bearer ${MCP_SECRET}`);
    fake = await startFakeProvider();
    project = makeProject({
      port: await freePort(),
      openaiBaseUrl: fake.openaiBaseUrl,
      agentsYaml: agentsYaml(remote.url),
    });
    appendFileSync(join(project.dir, '.env'), `LEGION_CRED_MCP_TOKEN=${MCP_SECRET}\n`);
    writeFileSync(
      join(project.dir, 'config', 'permissions.yaml'),
      [
        'agents:',
        '  toolsmith:',
        '    allowed_apis: [llm]',
        '    allowed_credentials: [mcp_token]',
        `    allowed_domains: ["127.0.0.1:${remote.port}"]`,
        '    allowed_mcp_tools: ["local__*", "remote__whoami", "remote__shout", "broken__*"]',
        '',
      ].join('\n'),
    );
    const started = await legion(['start', '-d'], project.dir);
    expect(started.code, started.stderr).toBe(0);
    container = `legion-${projectId(project.dir)}-toolsmith`;
    await waitFor(
      async () =>
        (await server('local'))?.state === 'ready' && (await server('remote'))?.state === 'ready' ? true : null,
      'the stdio and remote MCP servers to be ready',
      120_000,
    );
  });

  afterAll(async () => {
    await tearDownFleet(project);
    await fake?.close();
    await remote?.close();
    project?.cleanup();
  });

  it('offers the allowed tools as <server>__<tool> with the servers schemas, and runs the stdio server in the container', async () => {
    const reply = await chat('call local__add {"a":2,"b":3}');
    expect(reply).toContain('tool local__add returned: sum=5');
    const offered = fake.calls.at(-1)?.tools ?? [];
    expect(offered).toEqual(
      expect.arrayContaining(['local__echo', 'local__add', 'local__crash', 'remote__whoami', 'remote__shout']),
    );
    expect(offered).not.toContain('remote__secret_tool');
    const body = JSON.stringify(fake.calls.at(-1)?.body);
    expect(body).toContain('"local__add"');
    expect(body).toContain('"required":["a","b"]');

    // The server process lives in the agent's container.
    const echo = await chat('call local__echo {"text":"hello"}');
    const pid = /stdio echo: hello \(pid (\d+)\)/.exec(echo)?.[1];
    expect(pid, echo).toBeDefined();
    const cmdline = await execIn(container, ['sh', '-c', `tr "\\0" " " < /proc/${pid}/cmdline`]);
    expect(cmdline.code).toBe(0);
    expect(cmdline.output).toContain('node -e');
  });

  it('calls the remote server through the mesh with the real $CRED secret, which the container never holds', async () => {
    const reply = await chat('call remote__whoami {}');
    expect(reply).toContain('tool remote__whoami returned: authorized');
    expect(remote.authorizations).toContain(`Bearer ${MCP_SECRET}`);
    expect(await chat('call remote__shout {"text":"quiet"}')).toContain('tool remote__shout returned: QUIET');

    const environ = await execIn(container, ['sh', '-c', 'cat /proc/[0-9]*/environ 2>/dev/null | tr "\\0" "\\n"']);
    expect(environ.output).toContain('LEGION_AGENT=toolsmith');
    expect(environ.output).not.toContain(MCP_SECRET);
    const grep = await execIn(container, ['grep', '-r', '-l', '-F', MCP_SECRET, '/data']);
    expect(grep.code, grep.output).toBe(1);
    for (const call of fake.calls) expect(JSON.stringify(call.body)).not.toContain(MCP_SECRET);
  });

  it('keeps a tool allowed_mcp_tools does not grant away from the model', async () => {
    const reply = await chat('call remote__secret_tool {}');
    expect(reply).toContain('tool remote__secret_tool returned: unknown tool "remote__secret_tool"');
    expect(remote.authorizations.length).toBeGreaterThan(0);
  });

  it('reports a server that cannot start in legion status, retries it, and the agent keeps working', async () => {
    const broken = await waitFor(async () => {
      const entry = await server('broken');
      return entry && entry.state === 'failed' && entry.restarts >= 1 ? entry : null;
    }, 'the broken server to have failed and been retried');
    expect(broken.error).toContain('broken server: missing settings');
    const text = await legion(['status'], project.dir);
    expect(text.stdout).toMatch(/toolsmith\/broken \(stdio\): (failed|starting)/);
    expect(text.stdout).toContain('broken server: missing settings');
    expect(await chat('call local__add {"a":1,"b":1}')).toContain('sum=2');
  });

  it('restarts a stdio server that dies, and a dead remote server is a clear tool error', async () => {
    const before = (await server('local'))?.restarts ?? 0;
    expect(await chat('call local__crash {}')).toContain('tool local__crash returned: exiting');
    await waitFor(async () => {
      const entry = await server('local');
      return entry && entry.restarts > before && entry.state === 'ready' ? entry : null;
    }, 'the stdio server to be restarted');
    expect(await chat('call local__echo {"text":"back"}')).toContain('stdio echo: back');

    await remote.close();
    const reply = await chat('call remote__shout {"text":"anyone"}');
    expect(reply).toContain('tool remote__shout returned: remote__shout failed: MCP server "remote" is not available');
    const entry = await waitFor(
      async () => ((await server('remote'))?.state === 'failed' ? server('remote') : null),
      'the remote server to show as failed',
    );
    expect(entry?.next_retry_at).not.toBeNull();
    expect(await chat('call local__add {"a":4,"b":5}')).toContain('sum=9');
    for (const text of [reply, JSON.stringify(await status())]) expect(text).not.toContain(MCP_SECRET);
  });
});
