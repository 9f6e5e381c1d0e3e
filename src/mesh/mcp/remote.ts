// Opening a remote (streamable HTTP) MCP server for one agent, in the mesh. Invariants,
// in order: every $CRED handle in the headers must match the agent's allowed_credentials
// (a denial names the rule and is recorded), then the secrets are read; every request
// the client sends passes the agent's egress rules (egressCheckedFetch), so a URL the
// agent may not reach is never contacted; the headers with secrets go to the socket and
// nowhere else (errors are scrubbed by the caller).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { RemoteMcpServer } from '../../shared/config/mcp.js';
import { LegionError } from '../../shared/errors.js';
import { MCP_OPEN_TIMEOUT_MS } from '../../shared/mcp-connection.js';
import { LEGION_VERSION } from '../../shared/paths.js';
import { requestHandles, substituteHandles } from '../credentials/handles.js';
import type { CredentialStore } from '../credentials/store.js';
import type { DestinationContext } from '../egress/destination.js';
import type { EventLog } from '../events/log.js';
import type { PermissionChecker } from '../permissions/types.js';
import { egressCheckedFetch } from './pinned-fetch.js';

export interface RemoteOpenContext {
  permissions: PermissionChecker;
  events: EventLog;
  credentials: CredentialStore;
  destinations: DestinationContext;
}

/** The server's headers with secrets in place of their handles, after allowed_credentials allowed each one. */
function resolvedHeaders(agent: string, server: RemoteMcpServer, context: RemoteOpenContext): Record<string, string> {
  const request = { method: 'POST' as const, url: server.url, headers: server.headers ?? {}, timeout_s: 30 };
  for (const name of requestHandles(request)) {
    const decision = context.permissions.check(agent, 'allowed_credentials', name);
    if (decision.allowed) continue;
    context.events.record({
      agent,
      kind: 'denied',
      subject: name,
      detail: { permission: 'allowed_credentials', reason: decision.reason, mcp_server: server.name },
      trace: null,
    });
    throw new LegionError(
      'forbidden',
      `the headers of MCP server "${server.name}" use $CRED{${name}}: ${decision.reason}`,
    );
  }
  return substituteHandles(request, (name) => context.credentials.secret(name)).headers;
}

export async function openRemoteServer(
  agent: string,
  server: RemoteMcpServer,
  context: RemoteOpenContext,
): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(server.url), {
    fetch: egressCheckedFetch(context.permissions, agent, context.destinations),
    requestInit: { headers: resolvedHeaders(agent, server, context) },
  });
  const client = new Client({ name: `legion-mesh/${agent}`, version: LEGION_VERSION });
  await client.connect(transport, { timeout: MCP_OPEN_TIMEOUT_MS });
  return client;
}
