// One MCP server kept connected: opened through a factory (a stdio process in the agent,
// a streamable HTTP session in the mesh), its tools listed, and reopened with backoff
// (mcpRetryDelayMs) after it fails to start or dies. Invariants: nothing here throws
// into its owner except call(), whose errors are LegionErrors a tool error can show:
// mcp_server_unavailable when the server is not connected (naming its last error and
// the next retry), mcp_call_failed when the server answered with a protocol error;
// a call that finds the connection broken marks it failed and schedules the retry;
// after close() nothing reconnects.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CallToolResultSchema,
  ErrorCode,
  McpError,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { LegionError } from './errors.js';
import { mcpRetryDelayMs, retryText } from './mcp.js';
import type { McpServerState } from './wire/mcp.js';

/** How long opening a server (start, handshake, tool list) may take before it counts as failed. */
export const MCP_OPEN_TIMEOUT_MS = 30_000;
/** How long one tool call may take. */
export const MCP_CALL_TIMEOUT_MS = 120_000;

export interface McpConnectionOptions {
  server: string;
  /** Starts the transport and connects a client; rejects with a message a user can act on. */
  open: () => Promise<Client>;
  /** The text stored as the server's error, e.g. with secrets scrubbed or stderr added. */
  describeError?: (err: unknown) => string;
  /** Called on every state change (the agent reports its stdio servers to the mesh then). */
  onChange?: () => void;
}

export interface McpConnectionSnapshot {
  state: McpServerState;
  error: string | null;
  restarts: number;
  nextRetryAt: Date | null;
  tools: readonly Tool[];
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A protocol answer from a live server, as opposed to a connection that broke or closed. */
function isServerAnswer(err: unknown): boolean {
  return err instanceof McpError && err.code !== ErrorCode.ConnectionClosed;
}

async function listAllTools(client: Client): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor }, { timeout: MCP_OPEN_TIMEOUT_MS });
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return tools;
}

export class McpConnection {
  private state: McpServerState = 'starting';
  private error: string | null = null;
  private restarts = 0;
  private failures = 0;
  private nextRetryAt: Date | null = null;
  private tools: readonly Tool[] = [];
  private client: Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private attempt: Promise<void> = Promise.resolve();

  constructor(private readonly options: McpConnectionOptions) {}

  get server(): string {
    return this.options.server;
  }

  start(): void {
    this.attempt = this.connect();
  }

  /** Settles when the attempt under way has connected or failed. */
  settled(): Promise<void> {
    return this.attempt;
  }

  snapshot(): McpConnectionSnapshot {
    return {
      state: this.state,
      error: this.error,
      restarts: this.restarts,
      nextRetryAt: this.nextRetryAt,
      tools: this.tools,
    };
  }

  async call(tool: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<CallToolResult> {
    const client = this.client;
    if (client === null || this.state !== 'ready') throw this.unavailable();
    // The SDK never removes the abort listener it adds to a request's signal; a signal of
    // the call's own keeps a long turn's signal from collecting one per call.
    const local = new AbortController();
    const forward = (): void => local.abort();
    if (signal?.aborted) local.abort();
    else signal?.addEventListener('abort', forward, { once: true });
    try {
      const result = await client.callTool({ name: tool, arguments: args }, CallToolResultSchema, {
        timeout: MCP_CALL_TIMEOUT_MS,
        signal: local.signal,
      });
      return CallToolResultSchema.parse(result);
    } catch (err) {
      if (isServerAnswer(err))
        throw new LegionError('mcp_call_failed', `MCP server "${this.server}" refused ${tool}: ${this.describe(err)}`);
      if (signal?.aborted) throw new LegionError('aborted', `the call of ${tool} was cancelled`);
      this.lost(client, this.describe(err));
      throw this.unavailable();
    } finally {
      signal?.removeEventListener('abort', forward);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    this.client = null;
    await client?.close().catch(() => undefined);
  }

  private unavailable(): LegionError {
    const why =
      this.state === 'starting'
        ? 'it is still starting'
        : `it failed: ${this.error ?? 'unknown error'}; ${retryText(this.nextRetryAt)}`;
    return new LegionError('mcp_server_unavailable', `MCP server "${this.server}" is not available (${why})`);
  }

  private describe(err: unknown): string {
    return this.options.describeError ? this.options.describeError(err) : messageOf(err);
  }

  private async connect(): Promise<void> {
    this.setState('starting', this.error);
    let client: Client | null = null;
    try {
      client = await this.options.open();
      const tools = await listAllTools(client);
      if (this.closed) {
        await client.close().catch(() => undefined);
        return;
      }
      const opened = client;
      client.onclose = () =>
        this.lost(opened, this.describe(new Error('the server closed the connection (it exited or went away)')));
      this.client = client;
      this.tools = tools;
      this.failures = 0;
      this.setState('ready', null);
    } catch (err) {
      await client?.close().catch(() => undefined);
      if (!this.closed) this.fail(this.describe(err));
    }
  }

  /** The connection `client` broke: once per client, even when close and a failed call both report it. */
  private lost(client: Client, reason: string): void {
    if (this.client !== client || this.closed) return;
    this.client = null;
    void client.close().catch(() => undefined);
    this.fail(reason);
  }

  private fail(reason: string): void {
    this.failures += 1;
    const delay = mcpRetryDelayMs(this.failures);
    this.nextRetryAt = new Date(Date.now() + delay);
    this.setState('failed', reason);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.restarts += 1;
      this.nextRetryAt = null;
      this.attempt = this.connect();
    }, delay);
    this.timer.unref();
  }

  private setState(state: McpServerState, error: string | null): void {
    this.state = state;
    this.error = error;
    this.options.onChange?.();
  }
}
