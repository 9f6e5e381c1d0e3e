// The mesh's MCP registry against a real remote MCP server (the official SDK, streamable
// HTTP on 127.0.0.1), with the real permission matrix, event log and credential store:
// allowed_mcp_tools narrows what an agent is offered and is checked on every call; the
// $CRED header's secret reaches the server and nothing the agent gets back holds it; a
// destination or credential the agent may not use means the server is never contacted;
// a stdio server whose env holds a secret is not sent to the container.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { openMeshDb, type Db } from '../../src/mesh/db.js';
import { EventLog, eventsMigrations } from '../../src/mesh/events/log.js';
import { PermissionMatrix } from '../../src/mesh/permissions/matrix.js';
import { CredentialStore } from '../../src/mesh/credentials/store.js';
import { systemResolver } from '../../src/mesh/egress/destination.js';
import { McpRegistry } from '../../src/mesh/mcp/registry.js';
import { AgentsFileSchema, type AgentEntry } from '../../src/shared/config/schema.js';
import { systemHostAddresses } from '../../src/shared/config/permissions/addresses.js';
import { LegionError } from '../../src/shared/errors.js';
import { createLogger } from '../../src/shared/logging.js';
import { startRemoteMcpServer, type RemoteMcpServer } from '../fakes/mcp-remote-server.js';

const SECRET = `mcp-int-${Math.random().toString(36).slice(2)}-Qa8`;
let dir: string;
let db: Db;
let events: EventLog;
let registry: McpRegistry;
let remote: RemoteMcpServer;

function agents(url: string): Record<string, AgentEntry> {
  const server = { name: 'remote', url, headers: { Authorization: 'Bearer $CRED{mcp_token}' } };
  return AgentsFileSchema.parse({
    agents: {
      scout: { role: 'r', mcp_servers: [server, { name: 'leaky', command: 'x', env: { TOKEN: SECRET } }] },
      stranger: { role: 'r', mcp_servers: [server] },
      greedy: { role: 'r', mcp_servers: [server] },
    },
  }).agents;
}

beforeAll(async () => {
  remote = await startRemoteMcpServer(`Bearer ${SECRET}`);
  dir = mkdtempSync(join(tmpdir(), 'legion-mcp-'));
  mkdirSync(join(dir, 'config'));
  writeFileSync(
    join(dir, 'config', 'permissions.yaml'),
    [
      'agents:',
      '  scout:',
      '    allowed_credentials: [mcp_token]',
      `    allowed_domains: ["127.0.0.1:${remote.port}"]`,
      '    allowed_mcp_tools: ["remote__whoami", "remote__shout", "remote__echo", "leaky__*"]',
      '  stranger:',
      '    allowed_credentials: [mcp_token]',
      '    allowed_mcp_tools: ["remote__*"]',
      '  greedy:',
      `    allowed_domains: ["127.0.0.1:${remote.port}"]`,
      '    allowed_mcp_tools: ["remote__*"]',
      '',
    ].join('\n'),
  );
  const logger = createLogger({}, { write: () => undefined });
  db = openMeshDb(join(dir, 'mesh.db'), eventsMigrations);
  events = new EventLog(db, logger);
  const permissions = new PermissionMatrix({ projectDir: dir, events, logger });
  permissions.load();
  const configured = agents(remote.url);
  registry = new McpRegistry({
    agents: () => configured,
    permissions,
    events,
    credentials: new CredentialStore(() => ({ LEGION_CRED_MCP_TOKEN: SECRET })),
    destinations: { resolve: systemResolver, hostAddresses: systemHostAddresses, modelEndpoints: async () => [] },
    logger,
  });
});

afterAll(async () => {
  await registry?.close();
  await remote?.close();
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('McpRegistry', () => {
  it('offers the allowed remote tools with their schemas, and leaves out a stdio server whose env holds a secret', async () => {
    const servers = await registry.serversFor('scout');
    expect(servers.stdio).toEqual([]);
    expect(servers.remote).toHaveLength(1);
    expect(servers.remote[0]?.state).toBe('ready');
    expect(servers.remote[0]?.tools.map((tool) => tool.name)).toEqual([
      'remote__whoami',
      'remote__shout',
      'remote__echo',
    ]);
    expect(servers.remote[0]?.tools[1]?.input_schema).toMatchObject({ required: ['text'] });
    const leaky = registry.status().find((entry) => entry.agent === 'scout' && entry.server === 'leaky');
    expect(leaky).toMatchObject({ transport: 'stdio', state: 'failed', next_retry_at: null });
    expect(leaky?.error).toContain('env TOKEN holds the value of a LEGION_CRED_* secret');
    expect(JSON.stringify(registry.status())).not.toContain(SECRET);
  });

  it('calls a remote tool with the real secret in the header, and the answer holds no secret', async () => {
    const answer = await registry.call('scout', 'remote__whoami', {}, 'trace-1');
    expect(answer).toEqual({ is_error: false, content: 'authorized' });
    expect(remote.authorizations.at(-1)).toBe(`Bearer ${SECRET}`);
    expect(await registry.call('scout', 'remote__echo', { text: `key ${SECRET}` }, null)).toEqual({
      is_error: false,
      content: 'key [REDACTED]',
    });
    expect(events.list({ agent: 'scout' }).some((event) => event.kind === 'mcp_call')).toBe(true);
  });

  it('refuses a tool allowed_mcp_tools does not grant, naming the rule, without calling the server', async () => {
    const before = remote.authorizations.length;
    const refused = await registry.call('scout', 'remote__secret_tool', {}, null).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(LegionError);
    expect((refused as LegionError).code).toBe('forbidden');
    expect((refused as LegionError).message).toContain(
      'scout may not use the MCP tool remote__secret_tool: allowed_mcp_tools is',
    );
    expect(remote.authorizations.length).toBe(before);
    expect(events.list({ agent: 'scout' }).some((event) => event.kind === 'denied')).toBe(true);
  });

  it('never contacts a server outside the agent egress allowlist, nor with a credential it may not use', async () => {
    const before = remote.authorizations.length;
    const stranger = await registry.serversFor('stranger');
    expect(stranger.remote[0]?.state).toBe('failed');
    expect(stranger.remote[0]?.error).toContain('[rule: host_address]');
    const greedy = await registry.serversFor('greedy');
    expect(greedy.remote[0]?.state).toBe('failed');
    expect(greedy.remote[0]?.error).toContain('use $CRED{mcp_token}: greedy may not use the credential mcp_token');
    expect(remote.authorizations.length).toBe(before);
    const call = await registry.call('stranger', 'remote__whoami', {}, null).catch((err: unknown) => err);
    expect((call as LegionError).code).toBe('mcp_server_unavailable');
    expect((call as LegionError).message).toMatch(/MCP server "remote" is not available \(it failed: .*retrying in/);
  });

  it('tells the agent which reported stdio tools it may offer, and shows their state', () => {
    const allowed = registry.report('scout', [
      { name: 'leaky', state: 'ready', error: null, restarts: 2, next_retry_at: null, tools: ['leaky__a', 'leaky__b'] },
    ]);
    expect(allowed).toEqual(['leaky__a', 'leaky__b']);
    expect(
      registry.report('greedy', [
        { name: 'x', state: 'ready', error: null, restarts: 0, next_retry_at: null, tools: ['x__a'] },
      ]),
    ).toEqual([]);
  });
});
