// A task's final answer, judged: JSON found in the text (the whole answer, or a fenced
// ```json block) and checked against the task's output_schema with ajv.
// Invariants: everything here is pure and never throws except compileOutputSchema,
// which rejects a schema ajv cannot compile with a 400 naming the problem, so a bad
// schema fails at POST /task and never after the model has been paid for; each
// schema gets its own ajv instance, so two tasks' schemas with the same $id cannot
// collide; `format` is an annotation (as JSON Schema 2020-12 has it by default), not
// checked, so a schema using a format ajv does not know still compiles.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { z } from 'zod';
import { LegionError } from '../../shared/errors.js';

export type Json = z.core.util.JSONType;

export interface OutputValidator {
  validate(value: Json): string[];
}

// Draft-07 is what most tools still emit; everything else is read as 2020-12.
const DRAFT_07 = /^https?:\/\/json-schema\.org\/draft-07\/schema#?$/;
const DRAFT_2020 = /^https?:\/\/json-schema\.org\/draft\/2020-12\/schema#?$/;
const AJV_OPTIONS = { allErrors: true, strict: false, validateFormats: false } as const;
/** Enough errors for the model to fix its answer without drowning the retry in them. */
const MAX_REPORTED_ERRORS = 20;

/** `label` names the schema in errors (a skill tool's `parameters` is compiled here too). */
export function compileOutputSchema(schema: Record<string, Json>, label = 'output_schema'): OutputValidator {
  const dialect = schema.$schema;
  if (
    dialect !== undefined &&
    (typeof dialect !== 'string' || (!DRAFT_07.test(dialect) && !DRAFT_2020.test(dialect)))
  ) {
    throw new LegionError(
      'invalid_request',
      `${label}: $schema ${JSON.stringify(dialect)} is not supported; use JSON Schema 2020-12 or draft-07`,
      { path: `${label}.$schema` },
    );
  }
  const ajv = typeof dialect === 'string' && DRAFT_07.test(dialect) ? new Ajv(AJV_OPTIONS) : new Ajv2020(AJV_OPTIONS);
  let check: ValidateFunction;
  try {
    check = ajv.compile(schema);
  } catch (err) {
    throw new LegionError(
      'invalid_request',
      `${label} is not a usable JSON Schema: ${err instanceof Error ? err.message : String(err)}`,
      { path: label },
    );
  }
  return {
    validate: (value) => (check(value) ? [] : describeErrors(check.errors ?? [])),
  };
}

function describeErrors(errors: readonly ErrorObject[]): string[] {
  const lines = errors
    .slice(0, MAX_REPORTED_ERRORS)
    .map((error) => `${error.instancePath || '(the whole value)'}: ${error.message ?? error.keyword}${detail(error)}`);
  if (errors.length > MAX_REPORTED_ERRORS) lines.push(`(${errors.length - MAX_REPORTED_ERRORS} more errors not shown)`);
  return lines;
}

/** ajv's messages leave out the one fact the model needs for a few keywords. */
function detail(error: ErrorObject): string {
  const params: Record<string, unknown> = error.params;
  if (error.keyword === 'additionalProperties') return ` ("${String(params.additionalProperty)}")`;
  if (error.keyword === 'enum' && Array.isArray(params.allowedValues))
    return `: ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  return '';
}

export type FoundJson = { found: true; value: Json; whole: boolean } | { found: false; reason: string };

const FENCE = /```[ \t]*(json)?[ \t]*\r?\n([\s\S]*?)\r?\n?[ \t]*```/gi;

/** JSON in a model's answer: the whole text, else the first fenced block (```json, or an
 *  unlabeled one) that parses. `whole` says the answer held nothing but that JSON. */
export function findJson(text: string): FoundJson {
  const trimmed = text.trim();
  const direct = parseJson(trimmed);
  if (direct.ok) return { found: true, value: direct.value, whole: true };
  for (const match of trimmed.matchAll(FENCE)) {
    const inner = parseJson(match[2] ?? '');
    if (inner.ok) return { found: true, value: inner.value, whole: match[0] === trimmed };
  }
  return {
    found: false,
    reason:
      trimmed === ''
        ? 'the answer is empty'
        : `the answer is not JSON (${direct.reason}) and holds no fenced \`\`\`json block that parses`,
  };
}

function parseJson(text: string): { ok: true; value: Json } | { ok: false; reason: string } {
  try {
    const value: Json = JSON.parse(text) as Json;
    return { ok: true, value };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

export type AnswerVerdict = { ok: true; output: Json } | { ok: false; problems: string[] };

/** With a validator the answer must be JSON that matches; without one the answer is the
 *  output as it stands, parsed when it is nothing but JSON. */
export function judgeAnswer(reply: string, validator: OutputValidator | null): AnswerVerdict {
  const found = findJson(reply);
  if (!validator) return { ok: true, output: found.found && found.whole ? found.value : reply };
  if (!found.found) return { ok: false, problems: [found.reason] };
  const problems = validator.validate(found.value);
  return problems.length === 0 ? { ok: true, output: found.value } : { ok: false, problems };
}
