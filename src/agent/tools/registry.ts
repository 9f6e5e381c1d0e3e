// The tool contract and the one place a model's tool call is dispatched.
// Invariants: runToolCall never throws — unknown tools, arguments that are not JSON,
// arguments that fail the tool's schema and errors thrown by a tool all become an
// { ok: false } result whose output the model can read and act on. A tool's JSON
// schema for the LLM is derived from its zod schema, so the two cannot disagree.
import { z } from 'zod';
import { formatZodIssues } from '../../shared/zod-format.js';
import type { ImagePart, ToolCall, ToolDef } from '../../shared/wire/llm.js';

export interface ToolContext {
  /** The agent's data directory; every path a tool touches lies under it. */
  dataDir: string;
  /** `<dataDir>/workspace`: where relative paths resolve and commands run. */
  workspaceDir: string;
  /** Aborted when the chat turn is cancelled; long-running tools must stop. */
  signal: AbortSignal;
  /** The turn's trace id, sent with every mesh call so the event log can group them. */
  trace: string | null;
  /** Told the absolute path of each file a tool wrote, so the memory index has it before any file event. */
  wrote?: (file: string) => void;
}

export interface ToolResult {
  ok: boolean;
  output: string;
  /** A picture for the model's next call only (never kept in the session). */
  image?: ImagePart;
}

export interface Tool<S extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  /** JSON Schema of the arguments object, as sent to the LLM. */
  parameters: Record<string, unknown>;
  schema: S;
  // Method syntax on purpose: a Tool<specific schema> must fit in a Tool[] list.
  run(args: z.output<S>, ctx: ToolContext): Promise<ToolResult>;
}

export function defineTool<S extends z.ZodType>(spec: Omit<Tool<S>, 'parameters'>): Tool<S> {
  const { $schema: _dialect, ...parameters } = z.toJSONSchema(spec.schema, { io: 'input' });
  return { ...spec, parameters };
}

export function toolDefs(tools: readonly Tool[]): ToolDef[] {
  return tools.map((tool) => ({ name: tool.name, description: tool.description, parameters: tool.parameters }));
}

export async function runToolCall(tools: readonly Tool[], call: ToolCall, ctx: ToolContext): Promise<ToolResult> {
  const tool = tools.find((candidate) => candidate.name === call.name);
  if (!tool) {
    const available = tools.map((candidate) => candidate.name).join(', ');
    return { ok: false, output: `unknown tool "${call.name}"; available tools: ${available}` };
  }
  const parsed = parseArguments(call.arguments);
  if (!parsed.ok) {
    return {
      ok: false,
      output: `arguments for ${tool.name} are not valid JSON (${parsed.reason}); send one JSON object`,
    };
  }
  const checked = tool.schema.safeParse(parsed.value);
  if (!checked.success) {
    return { ok: false, output: formatZodIssues(`arguments for ${tool.name}`, checked.error).join('\n') };
  }
  try {
    return await tool.run(checked.data, ctx);
  } catch (err) {
    return { ok: false, output: `${tool.name} failed: ${describeToolError(err)}` };
  }
}

type ParsedArguments = { ok: true; value: unknown } | { ok: false; reason: string };

function parseArguments(text: string): ParsedArguments {
  // Models calling a tool without arguments often send an empty string, not "{}".
  if (text.trim() === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

function describeToolError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
