// Templates in a step's input and promote: ${trigger.payload}, ${trigger.payload.name},
// ${trigger.source}, ${steps.<id>.result}, ${steps.<id>.result.a.b}, ${steps.<id>.status},
// ${steps.<id>.error}, ${blackboard.<key>} (the key is everything after "blackboard.",
// slashes and dots included: ${blackboard.context/prospect_acme}), ${run.id},
// ${workflow.name}. Fields are separated by dots; a whole number indexes an array.
// Rendering rules:
// - a string that is exactly one template takes the value as it is (object, number,
//   null...); a missing value is null;
// - templates inside a longer string are interpolated: strings as they are, numbers and
//   booleans as text, objects and arrays as JSON, null and missing values as "";
// - objects and arrays are rendered element by element (object keys are kept as written);
// - "$${" writes a literal "${" (and is no template).
// Invariants: every template is checked when it is parsed (TemplateError), so rendering
// a value that templatePaths() accepted never throws.
import { blackboardKeyProblem } from '../../wire/blackboard.js';
import { resolvePath, scopePathProblem, type JsonValue, type WorkflowScope } from './scope.js';

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

type Part = { kind: 'text'; text: string } | { kind: 'ref'; path: string[] };

function parsePath(inner: string, source: string): string[] {
  const text = inner.trim();
  if (text === '') throw new TemplateError(`${source}: empty template`);
  const dot = text.indexOf('.');
  const root = dot === -1 ? text : text.slice(0, dot);
  // A blackboard key may hold dots and slashes, so it is the rest of the path as written.
  const path = root === 'blackboard' && dot !== -1 ? [root, text.slice(dot + 1)] : text.split('.');
  if (path.some((segment) => segment === ''))
    throw new TemplateError(`${source}: empty field name (two dots in a row, or a dot at an end)`);
  const problem = scopePathProblem(path);
  if (problem) throw new TemplateError(`${source}: ${problem}`);
  return path;
}

function parseString(text: string): Part[] {
  const parts: Part[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      literal += '${';
      i += 3;
    } else if (text.startsWith('${', i)) {
      const end = text.indexOf('}', i + 2);
      if (end === -1)
        throw new TemplateError(
          `unclosed "\${" at character ${i + 1} of ${JSON.stringify(text)} (write $\${ for a literal \${)`,
        );
      const inner = text.slice(i + 2, end);
      const source = text.slice(i, end + 1);
      if (inner.includes('${')) throw new TemplateError(`${source}: templates cannot be nested`);
      if (literal) parts.push({ kind: 'text', text: literal });
      literal = '';
      parts.push({ kind: 'ref', path: parsePath(inner, source) });
      i = end + 1;
    } else {
      literal += text.charAt(i);
      i += 1;
    }
  }
  if (literal) parts.push({ kind: 'text', text: literal });
  return parts;
}

function collect(value: JsonValue, into: string[][]): void {
  if (typeof value === 'string') {
    for (const part of parseString(value)) if (part.kind === 'ref') into.push(part.path);
  } else if (Array.isArray(value)) {
    value.forEach((item) => collect(item, into));
  } else if (value !== null && typeof value === 'object') {
    Object.values(value).forEach((item) => collect(item, into));
  }
}

/** Every path read by a template in any string of `value` (objects and arrays included);
 *  throws TemplateError for a template that is malformed or names nothing. */
export function templatePaths(value: JsonValue): string[][] {
  const paths: string[][] = [];
  collect(value, paths);
  return paths;
}

function asText(value: JsonValue): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function interpolate(parts: Part[], scope: WorkflowScope): string {
  return parts.map((part) => (part.kind === 'text' ? part.text : asText(resolvePath(scope, part.path)))).join('');
}

function renderString(text: string, scope: WorkflowScope): JsonValue {
  const parts = parseString(text);
  const [only] = parts;
  if (parts.length === 1 && only?.kind === 'ref') return resolvePath(scope, only.path);
  return interpolate(parts, scope);
}

/** `value` with every template replaced by what it reads in `scope` (rules in the header). */
export function renderTemplate(value: JsonValue, scope: WorkflowScope): JsonValue {
  if (typeof value === 'string') return renderString(value, scope);
  if (Array.isArray(value)) return value.map((item) => renderTemplate(item, scope));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderTemplate(item, scope)]));
  }
  return value;
}

/** A promote key: always text (interpolated as inside a longer string); throws
 *  TemplateError when what it gives is not a valid blackboard key. */
export function renderKey(text: string, scope: WorkflowScope): string {
  const key = interpolate(parseString(text), scope);
  const problem = blackboardKeyProblem(key);
  if (problem)
    throw new TemplateError(`${JSON.stringify(text)} gives the blackboard key ${JSON.stringify(key)}: ${problem}`);
  return key;
}

/** Why a promote key can never be valid whatever its templates give (a bad character or
 *  segment in its fixed text), or null. Throws TemplateError for a malformed template. */
export function promoteKeyProblem(text: string): string | null {
  const sample = parseString(text)
    .map((part) => (part.kind === 'text' ? part.text : 'x'))
    .join('');
  return blackboardKeyProblem(sample);
}
