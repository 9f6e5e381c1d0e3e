// The MCP lines of `legion status`: one per server of each agent, its state, tool count,
// restarts and, for a failed server, its error and the next retry.
import { retryText } from '../shared/mcp.js';
import type { McpServerStatus } from '../shared/wire/mcp.js';

export function formatMcpServers(servers: readonly McpServerStatus[], now = Date.now()): string {
  if (servers.length === 0) return '';
  const lines = ['MCP servers:'];
  for (const server of servers) {
    const head = `  ${server.agent}/${server.server} (${server.transport}): ${server.state}, ${server.tools} tool${server.tools === 1 ? '' : 's'} allowed, ${server.restarts} restart${server.restarts === 1 ? '' : 's'}`;
    const retry = server.next_retry_at ? `; ${retryText(new Date(server.next_retry_at), now)}` : '';
    lines.push(server.error ? `${head}\n    ${server.error}${retry}` : head);
  }
  return lines.join('\n');
}
