// A small stdio MCP server written with the official SDK, for tests and benchmarks. It is
// passed to `node -e` (inside an agent container too), so it loads the SDK from the
// absolute directory in MCP_SDK_CJS (the image's /app/node_modules/@modelcontextprotocol/sdk/dist/cjs).
// Tools: echo {text}, add {a, b}, crash {} (exits, so the server dies mid-session).
const sdk = process.env.MCP_SDK_CJS;
if (!sdk) {
  process.stderr.write('MCP_SDK_CJS is not set\n');
  process.exit(2);
}
const { Server } = require(`${sdk}/server/index.js`);
const { StdioServerTransport } = require(`${sdk}/server/stdio.js`);
const { CallToolRequestSchema, ListToolsRequestSchema } = require(`${sdk}/types.js`);

const server = new Server({ name: 'test-stdio', version: '1.0.0' }, { capabilities: { tools: {} } });
const tools = [
  {
    name: 'echo',
    description: 'Echo the text back',
    inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  },
  {
    name: 'add',
    description: 'Add two numbers',
    inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] },
  },
  { name: 'crash', description: 'Exit the server process', inputSchema: { type: 'object', properties: {} } },
];
server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
server.setRequestHandler(CallToolRequestSchema, async (request) => {
  const args = request.params.arguments ?? {};
  switch (request.params.name) {
    case 'echo':
      return { content: [{ type: 'text', text: `stdio echo: ${args.text} (pid ${process.pid})` }] };
    case 'add':
      return { content: [{ type: 'text', text: `sum=${Number(args.a) + Number(args.b)}` }] };
    case 'crash':
      setTimeout(() => process.exit(3), 10);
      return { content: [{ type: 'text', text: 'exiting' }] };
    default:
      return { isError: true, content: [{ type: 'text', text: `no tool ${request.params.name}` }] };
  }
});
server.connect(new StdioServerTransport());
