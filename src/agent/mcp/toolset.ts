// The agent's MCP tools, kept in its live tool list as `<server>__<tool>` with each
// server's own input schema. The mesh says which stdio servers to start here and which
// remote tools this agent is allowed; this agent starts the stdio servers, reports their
// state to the mesh (which shows it in `legion status`) and offers only the stdio tools
// the mesh's answer allows. Invariants: nothing here can stop the agent: a server that
// fails to start or dies is retried with backoff (McpConnection) while every other tool
// keeps working, and its tools stay listed so a call gets a tool error saying why it is
// unavailable; remote calls always go through the mesh, which checks allowed_mcp_tools
// again; the tool list is re-synced with the mesh every SYNC_INTERVAL_MS (SYNC_SOON_MS while a
// remote server is not ready), so a remote
// server that recovers or a permissions edit reaches the next turn.
import { z } from 'zod';
import type { StdioMcpServer } from '../../shared/config/mcp.js';
import type { Logger } from '../../shared/logging.js';
import { mcpResultText, mcpToolName } from '../../shared/mcp.js';
import { McpConnection } from '../../shared/mcp-connection.js';
import {
  McpCallResponseSchema,
  McpReportResponseSchema,
  McpServersResponseSchema,
  type McpToolSpec,
  type RemoteMcpServerView,
  type StdioMcpReport,
} from '../../shared/wire/mcp.js';
import type { MeshRpc } from '../tools/mesh-rpc.js';
import type { Tool, ToolContext, ToolResult } from '../tools/registry.js';
import { StdioServerProcess } from './stdio.js';

const SYNC_INTERVAL_MS = 15_000;
/** While a remote server is not ready, its tools are asked for again this soon. */
const SYNC_SOON_MS = 2_000;
const ArgumentsSchema = z.record(z.string(), z.unknown());

export interface McpToolsetOptions {
  mesh: MeshRpc;
  workspaceDir: string;
  version: string;
  logger: Logger;
  /** The agent's live tool list: the MCP tools in it are replaced at each change. */
  tools: Tool[];
}

interface StdioEntry {
  connection: McpConnection;
  /** Tool names that cannot be offered (see mcpToolName), reported with the server's state. */
  skipped: string[];
}

function mcpTool(
  spec: McpToolSpec,
  run: (args: Record<string, unknown>, ctx: ToolContext) => Promise<ToolResult>,
): Tool {
  const [server] = spec.name.split('__');
  return {
    name: spec.name,
    description: spec.description || `A tool of the MCP server ${server}.`,
    parameters: spec.input_schema,
    schema: ArgumentsSchema,
    run: (args, ctx) => run(ArgumentsSchema.parse(args), ctx),
  };
}

export class McpToolset {
  private readonly stdio = new Map<string, StdioEntry>();
  private remote: RemoteMcpServerView[] = [];
  private allowedStdio = new Set<string>();
  private owned: Tool[] = [];
  private configured = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private reporting: Promise<void> = Promise.resolve();

  constructor(private readonly options: McpToolsetOptions) {}

  /** Asks the mesh for this agent's servers and starts them; never rejects. */
  start(): void {
    void this.syncAndSchedule();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.all([...this.stdio.values()].map((entry) => entry.connection.close()));
  }

  private async syncAndSchedule(): Promise<void> {
    const synced = await this.sync();
    if (this.closed) return;
    const soon = !synced || this.remote.some((server) => server.state !== 'ready');
    this.timer = setTimeout(() => void this.syncAndSchedule(), soon ? SYNC_SOON_MS : SYNC_INTERVAL_MS);
    this.timer.unref();
  }

  /** false when the mesh could not be asked. */
  private async sync(): Promise<boolean> {
    try {
      const servers = await this.options.mesh.call('/mesh/mcp/servers', {}, McpServersResponseSchema, null);
      if (!this.configured) {
        this.configured = true;
        for (const server of servers.stdio)
          if (server.command !== undefined) this.startStdio({ ...server, command: server.command });
      }
      this.remote = servers.remote;
      await this.report();
      return true;
    } catch (err) {
      this.options.logger.warn(
        { event: 'mcp_sync_failed', err: err instanceof Error ? err.message : String(err) },
        'could not sync MCP servers with the mesh; trying again shortly',
      );
      return false;
    }
  }

  private startStdio(server: StdioMcpServer): void {
    const process = new StdioServerProcess(server, this.options.workspaceDir, this.options.version);
    const connection = new McpConnection({
      server: server.name,
      open: () => process.open(),
      describeError: (err) => process.describe(err),
      onChange: () => {
        const snapshot = connection.snapshot();
        if (snapshot.state === 'failed')
          this.options.logger.warn(
            { event: 'mcp_server_failed', server: server.name, error: snapshot.error },
            `MCP server ${server.name} failed: ${snapshot.error}`,
          );
        // Reports go out one after another, so the mesh always ends with the latest state.
        this.reporting = this.reporting.then(() => this.report()).catch(() => undefined);
      },
    });
    this.stdio.set(server.name, { connection, skipped: [] });
    connection.start();
  }

  /** Tells the mesh how the stdio servers are; its answer says which of their tools to offer. */
  private async report(): Promise<void> {
    const servers: StdioMcpReport[] = [...this.stdio.entries()].map(([name, entry]) => {
      const snapshot = entry.connection.snapshot();
      const tools: string[] = [];
      entry.skipped = [];
      for (const tool of snapshot.tools) {
        const named = mcpToolName(name, tool.name);
        if (named.ok) tools.push(named.name);
        else entry.skipped.push(named.reason);
      }
      const problems = [snapshot.error, ...entry.skipped].filter((text): text is string => text !== null);
      return {
        name,
        state: snapshot.state,
        error: problems.length > 0 ? problems.join('; ') : null,
        restarts: snapshot.restarts,
        next_retry_at: snapshot.nextRetryAt?.toISOString() ?? null,
        tools,
      };
    });
    try {
      const { allowed } = await this.options.mesh.call('/mesh/mcp/report', { servers }, McpReportResponseSchema, null);
      this.allowedStdio = new Set(allowed);
    } finally {
      this.render();
    }
  }

  /** Puts the current MCP tools in the live list in place of the previous ones. */
  private render(): void {
    const next: Tool[] = [];
    for (const [name, entry] of this.stdio) {
      for (const tool of entry.connection.snapshot().tools) {
        const named = mcpToolName(name, tool.name);
        if (!named.ok || !this.allowedStdio.has(named.name)) continue;
        const spec = { name: named.name, description: tool.description ?? '', input_schema: tool.inputSchema };
        next.push(
          mcpTool(spec, async (args, ctx) => {
            const result = await entry.connection.call(tool.name, args, ctx.signal);
            return { ok: result.isError !== true, output: mcpResultText(result) };
          }),
        );
      }
    }
    for (const server of this.remote) {
      for (const spec of server.tools) {
        next.push(
          mcpTool(spec, async (args, ctx) => {
            const answer = await this.options.mesh.call(
              '/mesh/mcp/call',
              { tool: spec.name, arguments: args },
              McpCallResponseSchema,
              ctx.trace,
            );
            return { ok: !answer.is_error, output: answer.content };
          }),
        );
      }
    }
    const { tools } = this.options;
    const previous = new Set(this.owned);
    for (let index = tools.length - 1; index >= 0; index -= 1) {
      const tool = tools[index];
      if (tool && previous.has(tool)) tools.splice(index, 1);
    }
    tools.push(...next);
    this.owned = next;
  }
}
