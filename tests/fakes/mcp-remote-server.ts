// A remote MCP server (streamable HTTP, the official SDK, stateless) on 127.0.0.1 for
// tests and benchmarks. It records the Authorization header of every request, so a test
// can check that the mesh sent the real secret; its tools never echo that header.
// Tools: whoami {} ("authorized" when the header matched), shout {text}, echo {text}, secret_tool {}.
import { readFileSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

export interface RemoteMcpServer {
  url: string;
  port: number;
  /** Authorization headers received, in order. */
  authorizations: (string | undefined)[];
  close(): Promise<void>;
}

const TOOLS = [
  {
    name: 'whoami',
    description: 'Say whether the caller is authorized',
    inputSchema: { type: 'object', properties: {} },
  },
  {
    name: 'shout',
    description: 'Upper-case the text',
    inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  },
  {
    name: 'echo',
    description: 'Return the text as is',
    inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  },
  { name: 'secret_tool', description: 'A tool allowed_mcp_tools should hide', inputSchema: { type: 'object' } },
];

function mcpServer(authorized: () => boolean): Server {
  const server = new Server({ name: 'test-remote', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const args = request.params.arguments ?? {};
    if (request.params.name === 'whoami')
      return { content: [{ type: 'text', text: authorized() ? 'authorized' : 'not authorized' }] };
    if (request.params.name === 'echo') return { content: [{ type: 'text', text: String(args.text) }] };
    if (request.params.name === 'shout') return { content: [{ type: 'text', text: String(args.text).toUpperCase() }] };
    return { content: [{ type: 'text', text: 'the secret tool ran' }] };
  });
  return server;
}

export async function startRemoteMcpServer(expectedAuthorization: string, port = 0): Promise<RemoteMcpServer> {
  const authorizations: (string | undefined)[] = [];
  const http: HttpServer = createServer((req, res) => {
    const authorization = req.headers.authorization;
    authorizations.push(authorization);
    // Stateless: a server and transport per request, as the SDK's stateless example does.
    const server = mcpServer(() => authorization === expectedAuthorization);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    server
      .connect(transport)
      .then(() => transport.handleRequest(req, res))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
  });
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  const bound = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/mcp`,
    port: bound,
    authorizations,
    close: () =>
      new Promise((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/** The stdio server's source, for `node -e` (see mcp-stdio-server.cjs). */
export function stdioServerSource(): string {
  return readFileSync(fileURLToPath(new URL('./mcp-stdio-server.cjs', import.meta.url)), 'utf8');
}
