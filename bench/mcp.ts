// MCP tool call overhead: a call of an MCP tool as the agent makes it (runToolCall on the
// agent's live tool list, McpToolset) minus the same call made directly with the MCP
// SDK's Client, as median and p99 of SAMPLES calls each. stdio: the agent's own
// connection to a stdio server against a second direct client of another copy of the
// same server. remote: the agent's MeshClient over a socket to the agent API (agent
// token, allowed_mcp_tools check, the mesh's registry, $CRED header, egress-checked
// fetch) to a streamable HTTP server, against a direct client of that server; and the
// mesh's registry called in-process, to tell the agent API hop from the rest. Samples
// of the two paths alternate, so drift on the machine hits both alike.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import Fastify from 'fastify';
import { McpToolset } from '../src/agent/mcp/toolset.js';
import { MeshClient } from '../src/agent/mesh-client.js';
import { runToolCall, type Tool, type ToolContext } from '../src/agent/tools/registry.js';
import { CredentialStore } from '../src/mesh/credentials/store.js';
import { openMeshDb } from '../src/mesh/db.js';
import { systemResolver } from '../src/mesh/egress/destination.js';
import { EventLog, eventsMigrations } from '../src/mesh/events/log.js';
import { AgentTokens, requireAgentToken } from '../src/mesh/http/agent-auth.js';
import { installErrorHandler } from '../src/mesh/http/errors.js';
import { McpRegistry } from '../src/mesh/mcp/registry.js';
import { mcpAgentRoutes } from '../src/mesh/mcp/routes.js';
import { PermissionMatrix } from '../src/mesh/permissions/matrix.js';
import { systemHostAddresses } from '../src/shared/config/permissions/addresses.js';
import { AgentsFileSchema } from '../src/shared/config/schema.js';
import { createLogger } from '../src/shared/logging.js';
import { startRemoteMcpServer, stdioServerSource } from '../tests/fakes/mcp-remote-server.js';
import { REPO_ROOT } from '../tests/helpers/project.js';
import { median, percentile, type BenchRow } from './table.js';

const SAMPLES = 200;
const WARMUP = 50;
const SECRET = 'mcp-bench-secret-value-0123456789';
const SDK_CJS = join(REPO_ROOT, 'node_modules', '@modelcontextprotocol', 'sdk', 'dist', 'cjs');

async function waitForTools(tools: Tool[], names: string[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!names.every((name) => tools.some((tool) => tool.name === name))) {
    if (Date.now() > deadline) throw new Error(`the MCP tools ${names.join(', ')} did not appear`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const begin = performance.now();
  await run();
  return performance.now() - begin;
}

async function overhead(
  viaLegion: () => Promise<unknown>,
  direct: () => Promise<unknown>,
): Promise<{ legionMs: number[]; directMs: number[] }> {
  for (let i = 0; i < WARMUP; i++) {
    await viaLegion();
    await direct();
  }
  const legionMs: number[] = [];
  const directMs: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    legionMs.push(await timed(viaLegion));
    directMs.push(await timed(direct));
  }
  return { legionMs, directMs };
}

function rows(label: string, { legionMs, directMs }: { legionMs: number[]; directMs: number[] }): BenchRow[] {
  const medianOverhead = median(legionMs) - median(directMs);
  const p99Overhead = percentile(legionMs, 99) - percentile(directMs, 99);
  const detail = `(legion ${median(legionMs).toFixed(2)} / direct SDK ${median(directMs).toFixed(2)} ms median)`;
  return [
    [`MCP tool call overhead, ${label}, median ${detail}`, `${medianOverhead.toFixed(2)} ms`, 'reported', true],
    [
      `MCP tool call overhead, ${label}, p99 (legion ${percentile(legionMs, 99).toFixed(2)} / direct ${percentile(directMs, 99).toFixed(2)} ms)`,
      `${p99Overhead.toFixed(2)} ms`,
      'reported',
      true,
    ],
  ];
}

export async function mcpBench(): Promise<BenchRow[]> {
  const remote = await startRemoteMcpServer(`Bearer ${SECRET}`);
  const dir = mkdtempSync(join(tmpdir(), 'legion-bench-mcp-'));
  mkdirSync(join(dir, 'config'));
  mkdirSync(join(dir, 'workspace'));
  writeFileSync(
    join(dir, 'config', 'permissions.yaml'),
    `default:\n  allowed_credentials: [mcp_token]\n  allowed_domains: ["127.0.0.1:${remote.port}"]\n  allowed_mcp_tools: ["local__*", "remote__*"]\n`,
  );
  const stdioServer = { command: process.execPath, args: ['-e', stdioServerSource()], env: { MCP_SDK_CJS: SDK_CJS } };
  const agents = AgentsFileSchema.parse({
    agents: {
      bench: {
        role: 'bench',
        mcp_servers: [
          { name: 'local', ...stdioServer },
          { name: 'remote', url: remote.url, headers: { Authorization: 'Bearer $CRED{mcp_token}' } },
        ],
      },
    },
  }).agents;
  const env = { LEGION_CRED_MCP_TOKEN: SECRET };
  const logger = createLogger({}, { write: () => undefined });
  const db = openMeshDb(join(dir, 'mesh.db'), eventsMigrations);
  const events = new EventLog(db, logger);
  const permissions = new PermissionMatrix({ projectDir: dir, events, logger });
  permissions.load();
  const registry = new McpRegistry({
    agents: () => agents,
    permissions,
    events,
    // One env object, as the mesh's project holds: the scrubber is compiled once per object.
    credentials: new CredentialStore(() => env),
    destinations: { resolve: systemResolver, hostAddresses: systemHostAddresses, modelEndpoints: async () => [] },
    logger,
  });
  const tokens = new AgentTokens();
  const token = tokens.mint('bench');
  const app = Fastify({ forceCloseConnections: true });
  installErrorHandler(app);
  await app.register(async (scope) => {
    requireAgentToken(scope, tokens);
    await scope.register(mcpAgentRoutes, { registry });
  });
  const meshUrl = await app.listen({ host: '127.0.0.1', port: 0 });

  const tools: Tool[] = [];
  const toolset = new McpToolset({
    mesh: new MeshClient({ meshUrl, token }),
    workspaceDir: join(dir, 'workspace'),
    version: 'bench',
    logger,
    tools,
  });
  toolset.start();
  const directStdio = new Client({ name: 'bench-direct', version: '1' });
  await directStdio.connect(new StdioClientTransport({ ...stdioServer, cwd: dir }));
  const directRemote = new Client({ name: 'bench-direct', version: '1' });
  await directRemote.connect(
    new StreamableHTTPClientTransport(new URL(remote.url), {
      requestInit: { headers: { Authorization: `Bearer ${SECRET}` } },
    }),
  );
  try {
    await waitForTools(tools, ['local__add', 'remote__echo']);
    const ctx: ToolContext = {
      dataDir: dir,
      workspaceDir: join(dir, 'workspace'),
      signal: new AbortController().signal,
      trace: null,
    };
    const call = (name: string, args: unknown) => async () => {
      const result = await runToolCall(tools, { id: 'c', name, arguments: JSON.stringify(args) }, ctx);
      if (!result.ok) throw new Error(`${name} failed: ${result.output}`);
    };
    return [
      ...rows(
        'stdio',
        await overhead(call('local__add', { a: 1, b: 2 }), () =>
          directStdio.callTool({ name: 'add', arguments: { a: 1, b: 2 } }),
        ),
      ),
      ...rows(
        'remote, mesh registry only (no agent API hop)',
        await overhead(
          () => registry.call('bench', 'remote__echo', { text: 'hi' }, null),
          () => directRemote.callTool({ name: 'echo', arguments: { text: 'hi' } }),
        ),
      ),
      ...rows(
        'remote through the mesh',
        await overhead(call('remote__echo', { text: 'hi' }), () =>
          directRemote.callTool({ name: 'echo', arguments: { text: 'hi' } }),
        ),
      ),
    ];
  } finally {
    await Promise.all([toolset.close(), directStdio.close(), directRemote.close(), registry.close()]);
    await app.close();
    await remote.close();
    permissions.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
