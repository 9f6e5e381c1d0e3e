// MCP tool names as the model sees them, and MCP tool results as the model reads them.
// Invariants: a model-facing name is `<server>__<tool>` and splits back at the first
// `__` (server names hold no `_`); a name LLM APIs would refuse (characters outside
// [A-Za-z0-9_-], more than 64 characters) is never produced, the tool is skipped with
// a reason instead; a result's text is capped so one answer cannot flood the context.
// A server that fails is retried after mcpRetryDelayMs, in the mesh and in the agent alike.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

const TOOL_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const SEPARATOR = '__';
/** What the model reads of one MCP tool result at most. */
export const MCP_RESULT_MAX_CHARS = 32 * 1024;

/** `<server>__<tool>`, or why the tool cannot be offered under that name. */
export function mcpToolName(server: string, tool: string): { ok: true; name: string } | { ok: false; reason: string } {
  const name = `${server}${SEPARATOR}${tool}`;
  if (TOOL_NAME_PATTERN.test(name)) return { ok: true, name };
  return {
    ok: false,
    reason: `tool "${tool}" of MCP server "${server}" is skipped: "${name}" is not a valid tool name for LLM APIs (letters, digits, _ and -, at most 64 characters)`,
  };
}

/** The server and tool of a model-facing name, or null when it is not an MCP tool's name. */
export function splitMcpToolName(name: string): { server: string; tool: string } | null {
  const at = name.indexOf(SEPARATOR);
  if (at <= 0 || at + SEPARATOR.length >= name.length) return null;
  return { server: name.slice(0, at), tool: name.slice(at + SEPARATOR.length) };
}

type ContentItem = CallToolResult['content'][number];

function itemText(item: ContentItem): string {
  switch (item.type) {
    case 'text':
      return item.text;
    case 'image':
    case 'audio':
      return `[${item.type} ${item.mimeType}, ${item.data.length} base64 characters, not shown]`;
    case 'resource':
      return 'text' in item.resource ? item.resource.text : `[resource ${item.resource.uri}, binary, not shown]`;
    case 'resource_link':
      return `[resource ${item.uri}${item.description ? `: ${item.description}` : ''}]`;
    default:
      return JSON.stringify(item);
  }
}

/** The text of a tool result: its content items in order, else its structured content as JSON. */
export function mcpResultText(result: CallToolResult): string {
  const parts = result.content.map(itemText);
  if (parts.length === 0 && result.structuredContent !== undefined)
    parts.push(JSON.stringify(result.structuredContent));
  const text = parts.join('\n');
  if (text.length <= MCP_RESULT_MAX_CHARS) return text;
  return `${text.slice(0, MCP_RESULT_MAX_CHARS)}\n[cut: showing the first ${MCP_RESULT_MAX_CHARS} of ${text.length} characters]`;
}

const RETRY_BASE_MS = 1_000;
const RETRY_MAX_MS = 60_000;

/** How long to wait before the next attempt after `failures` failed ones in a row: 1 s, doubling, at most 60 s. */
export function mcpRetryDelayMs(failures: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, failures - 1));
}

/** "retrying in 4 s" for a status line or a tool error. */
export function retryText(nextRetryAt: Date | null, now = Date.now()): string {
  if (nextRetryAt === null) return 'retrying now';
  return `retrying in ${Math.max(0, Math.ceil((nextRetryAt.getTime() - now) / 1000))} s`;
}
