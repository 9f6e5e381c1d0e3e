// Bodies of the agent API's MCP routes (/mesh/mcp/*) and the MCP part of `legion status`.
// The mesh tells an agent which stdio servers to start and what its remote servers'
// allowed tools are; the agent reports its stdio servers' state and tool names and
// learns which of them allowed_mcp_tools lets it offer; remote tools are called
// through the mesh, which checks allowed_mcp_tools on every call.
import { z } from 'zod';
import { McpServerEntrySchema } from '../config/mcp.js';

export const McpServerStateSchema = z.enum(['starting', 'ready', 'failed']);
export type McpServerState = z.infer<typeof McpServerStateSchema>;

/** One tool as the model sees it: the `<server>__<tool>` name and the server's input schema. */
export const McpToolSpecSchema = z.object({
  name: z.string().min(1),
  description: z.string(),
  input_schema: z.record(z.string(), z.unknown()),
});
export type McpToolSpec = z.infer<typeof McpToolSpecSchema>;

export const RemoteMcpServerViewSchema = z.object({
  name: z.string(),
  state: McpServerStateSchema,
  error: z.string().nullable(),
  /** Only the tools allowed_mcp_tools grants. */
  tools: z.array(McpToolSpecSchema),
});
export type RemoteMcpServerView = z.infer<typeof RemoteMcpServerViewSchema>;

export const McpServersResponseSchema = z.object({
  /** Stdio servers the agent starts in its container (the mesh leaves out any it refuses, and says why in status). */
  stdio: z.array(McpServerEntrySchema),
  remote: z.array(RemoteMcpServerViewSchema),
});
export type McpServersResponse = z.infer<typeof McpServersResponseSchema>;

export const StdioMcpReportSchema = z.strictObject({
  name: z.string().min(1),
  state: McpServerStateSchema,
  error: z.string().nullable(),
  restarts: z.number().int().min(0),
  next_retry_at: z.string().nullable(),
  /** Every tool name the server offers, as `<server>__<tool>`. */
  tools: z.array(z.string()),
});
export type StdioMcpReport = z.infer<typeof StdioMcpReportSchema>;

export const McpReportRequestSchema = z.strictObject({ servers: z.array(StdioMcpReportSchema) });

/** The reported tool names allowed_mcp_tools grants. */
export const McpReportResponseSchema = z.object({ allowed: z.array(z.string()) });

export const McpCallRequestSchema = z.strictObject({
  tool: z.string().min(1),
  arguments: z.record(z.string(), z.unknown()).default({}),
});

export const McpCallResponseSchema = z.object({ is_error: z.boolean(), content: z.string() });
export type McpCallResponse = z.infer<typeof McpCallResponseSchema>;

/** One MCP server of one agent in `legion status`. */
export const McpServerStatusSchema = z.object({
  agent: z.string(),
  server: z.string(),
  transport: z.enum(['stdio', 'http']),
  state: McpServerStateSchema,
  error: z.string().nullable(),
  tools: z.number().int(),
  restarts: z.number().int(),
  next_retry_at: z.string().nullable(),
});
export type McpServerStatus = z.infer<typeof McpServerStatusSchema>;
