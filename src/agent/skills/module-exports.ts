// What a skill's tool module (tool.mjs) must export, checked from what its child
// process reported (host-protocol.ts): `name` (the tool's name as the model sees it),
// `description`, `parameters` (a JSON Schema of an object, compiled with ajv here so a
// broken one is refused before the model ever sees it), `run` (a function) and
// optionally `timeout_s`. Invariants: pure; never throws; every problem is one line
// naming the export.
import { z } from 'zod';
import { formatZodIssues } from '../../shared/zod-format.js';
import { compileOutputSchema, type Json, type OutputValidator } from '../task/output.js';
import { DEFAULT_EXEC_TIMEOUT_S, MAX_EXEC_TIMEOUT_S } from '../tools/exec.js';

/** Tool names providers accept, lowercase; no `__`, which MCP tools use as `<server>__<tool>`. */
export const SKILL_TOOL_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

const JsonSchemaObject = z.custom<Record<string, Json>>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  'expected a JSON Schema object',
);

const ExportsSchema = z.object({
  name: z
    .string()
    .regex(SKILL_TOOL_NAME_PATTERN, 'expected lowercase letters, digits and _, starting with a letter (at most 64)')
    .refine((name) => !name.includes('__'), 'must not contain "__" (reserved for MCP tools)'),
  description: z.string().trim().min(1, 'expected a non-empty string').max(1024),
  parameters: JsonSchemaObject.refine(
    (schema) => schema.type === 'object',
    'expected a JSON Schema with "type": "object" (tool arguments are one object)',
  ),
  timeout_s: z.number().positive().max(MAX_EXEC_TIMEOUT_S).optional(),
  run: z.string().refine((kind) => kind === 'function', 'expected a function `run(args)`'),
});

export interface SkillToolSpec {
  name: string;
  description: string;
  parameters: Record<string, Json>;
  timeoutMs: number;
  validator: OutputValidator;
}

export type CheckedExports = { ok: true; spec: SkillToolSpec } | { ok: false; problems: string[] };

/** The module's exports as a tool, or what is wrong with them; `label` names the module file. */
export function checkToolExports(exported: unknown, label: string): CheckedExports {
  const checked = ExportsSchema.safeParse(exported);
  if (!checked.success) return { ok: false, problems: formatZodIssues(`${label}: export`, checked.error) };
  const { name, description, parameters, timeout_s } = checked.data;
  let validator: OutputValidator;
  try {
    validator = compileOutputSchema(parameters, 'parameters');
  } catch (err) {
    return { ok: false, problems: [`${label}: export ${err instanceof Error ? err.message : String(err)}`] };
  }
  // The dialect line is for ajv; providers want the schema itself.
  const { $schema: _dialect, ...sent } = parameters;
  return {
    ok: true,
    spec: { name, description, parameters: sent, timeoutMs: (timeout_s ?? DEFAULT_EXEC_TIMEOUT_S) * 1000, validator },
  };
}
