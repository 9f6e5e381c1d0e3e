// The agent API's MCP routes, each for the calling agent only (its token names it):
//   POST /mesh/mcp/servers  stdio servers to start in its container, and its remote servers' allowed tools
//   POST /mesh/mcp/report   its stdio servers' state; answers which of their tools it may offer
//   POST /mesh/mcp/call     one remote tool call, allowed_mcp_tools checked (403 naming the rule)
import type { FastifyPluginAsync } from 'fastify';
import { parseOrThrow } from '../../shared/validate.js';
import {
  McpCallRequestSchema,
  McpReportRequestSchema,
  type McpCallResponse,
  type McpServersResponse,
} from '../../shared/wire/mcp.js';
import type { McpRegistry } from './registry.js';

export const mcpAgentRoutes: FastifyPluginAsync<{ registry: McpRegistry }> = async (app, { registry }) => {
  app.post('/mesh/mcp/servers', async (request): Promise<McpServersResponse> => registry.serversFor(request.agentName));

  app.post('/mesh/mcp/report', async (request): Promise<{ allowed: string[] }> => {
    const { servers } = parseOrThrow(McpReportRequestSchema, request.body, 'body');
    return { allowed: registry.report(request.agentName, servers) };
  });

  app.post('/mesh/mcp/call', async (request): Promise<McpCallResponse> => {
    const body = parseOrThrow(McpCallRequestSchema, request.body, 'body');
    return registry.call(request.agentName, body.tool, body.arguments, request.trace);
  });
};
