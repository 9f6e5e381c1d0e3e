// Starting one stdio MCP server inside the agent's container: the command runs in the
// workspace with the agent's environment (which holds no secrets, and whose HTTP(S)_PROXY
// sends the server's traffic through the egress proxy) plus the entry's env. The last
// lines the server wrote to stderr are kept, so a server that fails to start or dies
// is reported with its own words.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { StdioMcpServer } from '../../shared/config/mcp.js';
import { MCP_OPEN_TIMEOUT_MS } from '../../shared/mcp-connection.js';

const STDERR_KEPT_CHARS = 600;

export class StdioServerProcess {
  private stderrTail = '';

  constructor(
    private readonly server: StdioMcpServer,
    private readonly workspaceDir: string,
    private readonly version: string,
  ) {}

  async open(): Promise<Client> {
    this.stderrTail = '';
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
    const transport = new StdioClientTransport({
      command: this.server.command,
      args: this.server.args ?? [],
      env: { ...env, ...this.server.env },
      cwd: this.workspaceDir,
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_KEPT_CHARS);
    });
    const client = new Client({ name: 'legion-agent', version: this.version });
    await client.connect(transport, { timeout: MCP_OPEN_TIMEOUT_MS });
    return client;
  }

  /** An error with what the server last wrote to stderr, if anything. */
  describe(err: unknown): string {
    const message = err instanceof Error ? err.message : String(err);
    const said = this.stderrTail.trim();
    return said ? `${message}; its stderr ended with: ${said}` : message;
  }
}
