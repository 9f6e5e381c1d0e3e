// The mesh's view of every agent's MCP servers. Remote servers: one connection per agent
// and server, opened when the agent first asks for its servers, reopened when its entry
// in agents.yaml changes, dropped when the agent or the server is gone. Stdio servers:
// the state each agent reports from its container, and the mesh's own refusal of a
// config whose env holds a credential's secret (that server is never sent). Invariants:
// allowed_mcp_tools decides which tools an agent is offered and is checked again on
// every remote call (a denial is a 403 naming the rule, recorded); everything that
// leaves here toward an agent (results, errors) is scrubbed of every LEGION_CRED_* value.
import type { AgentEntry } from '../../shared/config/schema.js';
import { isRemoteServer, isStdioServer, type McpServerEntry, type RemoteMcpServer } from '../../shared/config/mcp.js';
import { LegionError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logging.js';
import { mcpResultText, mcpToolName, splitMcpToolName } from '../../shared/mcp.js';
import type { McpConnection } from '../../shared/mcp-connection.js';
import type {
  McpCallResponse,
  McpServerStatus,
  McpServersResponse,
  McpToolSpec,
  StdioMcpReport,
} from '../../shared/wire/mcp.js';
import { assertAllowed } from '../permissions/types.js';
import type { RemoteOpenContext } from './remote.js';

export interface McpRegistryOptions extends RemoteOpenContext {
  /** The agents as configured now. */
  agents: () => Record<string, AgentEntry>;
  logger: Logger;
}

const OPENING_WAIT_MS = 5_000;

interface RemoteSlot {
  /** The entry it was opened with; another entry means another connection. */
  entry: string;
  connection: McpConnection;
}

export class McpRegistry {
  private readonly remote = new Map<string, RemoteSlot>();
  private readonly reports = new Map<string, StdioMcpReport[]>();

  constructor(private readonly options: McpRegistryOptions) {}

  /** What the agent starts itself (stdio) and the allowed tools of its remote servers; waits a
   *  little for remote servers being opened, so a starting agent usually gets their tools at once. */
  async serversFor(agent: string): Promise<McpServersResponse> {
    const servers = this.entriesOf(agent);
    const opening = servers
      .filter(isRemoteServer)
      .map(async (server) => (await this.connectionFor(agent, server)).settled());
    await Promise.race([Promise.all(opening), new Promise((resolve) => setTimeout(resolve, OPENING_WAIT_MS).unref())]);
    const remote = await Promise.all(
      servers.filter(isRemoteServer).map(async (server) => {
        const snapshot = (await this.connectionFor(agent, server)).snapshot();
        return {
          name: server.name,
          state: snapshot.state,
          error: snapshot.error,
          tools: this.allowedSpecs(agent, server.name, snapshot.tools),
        };
      }),
    );
    const stdio = servers.filter(isStdioServer).filter((server) => this.stdioRefusal(server) === null);
    return { stdio, remote };
  }

  /** Stores the agent's stdio servers' state; answers which of their tools allowed_mcp_tools grants. */
  report(agent: string, servers: StdioMcpReport[]): string[] {
    this.reports.set(agent, servers);
    return servers.flatMap((server) => this.allowedNames(agent, server.tools));
  }

  async call(
    agent: string,
    tool: string,
    args: Record<string, unknown>,
    trace: string | null,
  ): Promise<McpCallResponse> {
    const { events, permissions, credentials } = this.options;
    assertAllowed(permissions, events, { agent, trace }, 'allowed_mcp_tools', tool);
    const split = splitMcpToolName(tool);
    const server = split ? this.entriesOf(agent).find((entry) => entry.name === split.server) : undefined;
    if (!split || !server)
      throw new LegionError('mcp_server_unknown', `${tool} is not a tool of any MCP server of ${agent} in agents.yaml`);
    if (!isRemoteServer(server))
      throw new LegionError(
        'mcp_server_unknown',
        `MCP server "${server.name}" is a stdio server: it runs in ${agent}'s container, not through the mesh`,
      );
    const scrubber = credentials.scrubber();
    try {
      const result = await (await this.connectionFor(agent, server)).call(split.tool, args);
      const response = { is_error: result.isError === true, content: scrubber.scrub(mcpResultText(result)) };
      events.record({ agent, kind: 'mcp_call', subject: tool, detail: { is_error: response.is_error }, trace });
      return response;
    } catch (err) {
      const error =
        err instanceof LegionError
          ? new LegionError(err.code, scrubber.scrub(err.message))
          : new LegionError('mcp_call_failed', scrubber.scrub(String(err)));
      events.record({ agent, kind: 'mcp_call', subject: tool, detail: { error: error.code }, trace });
      throw error;
    }
  }

  /** Every configured agent's MCP servers, for `legion status`. */
  status(): McpServerStatus[] {
    const agents = this.options.agents();
    this.dropUnconfigured(agents);
    return Object.entries(agents).flatMap(([agent, entry]) =>
      entry.mcp_servers.map((server): McpServerStatus => {
        if (isRemoteServer(server)) {
          const slot = this.remote.get(slotKey(agent, server.name));
          const snapshot = slot?.connection.snapshot();
          return {
            agent,
            server: server.name,
            transport: 'http',
            state: snapshot?.state ?? 'starting',
            error: snapshot ? snapshot.error : 'not connected yet: the mesh connects when the agent starts',
            tools: snapshot ? this.allowedSpecs(agent, server.name, snapshot.tools).length : 0,
            restarts: snapshot?.restarts ?? 0,
            next_retry_at: snapshot?.nextRetryAt?.toISOString() ?? null,
          };
        }
        const refusal = this.stdioRefusal(server);
        const reported = this.reports.get(agent)?.find((report) => report.name === server.name);
        return {
          agent,
          server: server.name,
          transport: 'stdio',
          state: refusal ? 'failed' : (reported?.state ?? 'starting'),
          error: refusal ?? reported?.error ?? (reported ? null : 'not reported by the agent yet'),
          tools: reported ? this.allowedNames(agent, reported.tools).length : 0,
          restarts: reported?.restarts ?? 0,
          next_retry_at: refusal ? null : (reported?.next_retry_at ?? null),
        };
      }),
    );
  }

  async close(): Promise<void> {
    const slots = [...this.remote.values()];
    this.remote.clear();
    await Promise.all(slots.map((slot) => slot.connection.close()));
  }

  private entriesOf(agent: string): McpServerEntry[] {
    const agents = this.options.agents();
    return Object.hasOwn(agents, agent) ? (agents[agent]?.mcp_servers ?? []) : [];
  }

  /** Why the mesh will not send this stdio server to the container, or null. */
  private stdioRefusal(server: McpServerEntry): string | null {
    const scrubber = this.options.credentials.scrubber();
    for (const [key, value] of Object.entries(server.env ?? {})) {
      if (scrubber.scrub(value) !== value)
        return `refused: env ${key} holds the value of a LEGION_CRED_* secret, and a stdio server runs inside the agent's container, which must hold no secrets (use a remote server with a $CRED header)`;
    }
    return null;
  }

  private allowedNames(agent: string, tools: readonly string[]): string[] {
    return tools.filter((tool) => this.options.permissions.check(agent, 'allowed_mcp_tools', tool).allowed);
  }

  private allowedSpecs(agent: string, server: string, tools: McpConnectionTools): McpToolSpec[] {
    return tools.flatMap((tool) => {
      const named = mcpToolName(server, tool.name);
      if (!named.ok || !this.options.permissions.check(agent, 'allowed_mcp_tools', named.name).allowed) return [];
      return [{ name: named.name, description: tool.description ?? '', input_schema: tool.inputSchema }];
    });
  }

  /** The MCP SDK loads with the first remote server: a mesh whose agents have none (or
   *  only stdio ones, which run in the containers) never loads it (about 250 ms at start). */
  private async connectionFor(agent: string, server: RemoteMcpServer): Promise<McpConnection> {
    const { McpConnection } = await import('../../shared/mcp-connection.js');
    const key = slotKey(agent, server.name);
    const entry = JSON.stringify(server);
    const slot = this.remote.get(key);
    if (slot?.entry === entry) return slot.connection;
    if (slot) void slot.connection.close();
    const { logger, credentials } = this.options;
    const connection = new McpConnection({
      server: server.name,
      open: async () => (await import('./remote.js')).openRemoteServer(agent, server, this.options),
      describeError: (err) => credentials.scrubber().scrub(err instanceof Error ? err.message : String(err)),
      onChange: () => {
        const snapshot = connection.snapshot();
        if (snapshot.state === 'failed')
          logger.warn(
            { event: 'mcp_server_failed', agent, server: server.name, error: snapshot.error },
            `MCP server ${server.name} of ${agent} failed: ${snapshot.error}`,
          );
      },
    });
    this.remote.set(key, { entry, connection });
    connection.start();
    return connection;
  }

  private dropUnconfigured(agents: Record<string, AgentEntry>): void {
    for (const [key, slot] of this.remote) {
      const [agent = '', server = ''] = key.split('/');
      const still = Object.hasOwn(agents, agent) && agents[agent]?.mcp_servers.some((entry) => entry.name === server);
      if (still) continue;
      this.remote.delete(key);
      void slot.connection.close();
    }
    for (const agent of this.reports.keys()) if (!Object.hasOwn(agents, agent)) this.reports.delete(agent);
  }
}

type McpConnectionTools = ReturnType<McpConnection['snapshot']>['tools'];

function slotKey(agent: string, server: string): string {
  return `${agent}/${server}`;
}
