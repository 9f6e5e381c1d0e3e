// The condition language of workflow steps: comparisons (== != < <= > >=), && || !,
// `in`, parentheses, literals (numbers, '..' and ".." strings, true, false, null, array
// literals) and paths from the scope roots (steps.research.result.score,
// blackboard['context/acme'].region, trigger.payload.items[0]).
// jsep parses (configured here: only the operators above, no `$` in names); our own
// walker turns its tree into a smaller one, rejecting everything else at parse time
// (calls, `this`, ternaries, assignment, computed members other than literals, unknown
// roots), and evaluates it. No eval, no Function: nothing in a condition can run code.
// Semantics (no JS coercion): == is deep equality of JSON values of the same type and
// != its negation; < <= > >= compare two numbers or two strings and are false for any
// other pair; `x in list` is true when an element equals x, `s in text` when the string
// s occurs in the string text, false otherwise; && || ! short-circuit and give booleans,
// reading false, null, 0 and "" as false and any other value as true. A path into a
// missing value is null.
// Which paths exist is the caller's: workflows read their run's scope (the default);
// other users (webhook filters) pass their own ConditionPaths.
import jsep from 'jsep';
import { formatScopePath, resolvePath, scopePathProblem, type JsonValue, type WorkflowScope } from './scope.js';

/** The paths a condition may name and what they resolve to in a scope `S`. */
export interface ConditionPaths<S> {
  /** Why `path` names nothing, or null when it is readable. */
  problem: (path: readonly string[]) => string | null;
  /** The value at an accepted path; null when anything on the way is missing. */
  resolve: (scope: S, path: readonly string[]) => JsonValue;
}

const WORKFLOW_PATHS: ConditionPaths<WorkflowScope> = { problem: scopePathProblem, resolve: resolvePath };

export class ConditionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConditionError';
  }
}

type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in';
type Node =
  | { kind: 'literal'; value: JsonValue }
  | { kind: 'array'; elements: Node[] }
  | { kind: 'path'; path: string[] }
  | { kind: 'not'; operand: Node }
  | { kind: 'logical'; op: '&&' | '||'; left: Node; right: Node }
  | { kind: 'compare'; op: CompareOp; left: Node; right: Node };

const COMPARE_OPS: readonly string[] = ['==', '!=', '<', '<=', '>', '>=', 'in'];
const ALLOWED = 'conditions use == != < <= > >= in && || ! and parentheses';
const SEVERAL = 'expected one expression (a missing && or ||, or an operator that is not allowed?)';

// jsep is configured once for the process; this module is its only user.
jsep.removeAllBinaryOps();
jsep.addBinaryOp('||', 1);
jsep.addBinaryOp('&&', 2);
jsep.addBinaryOp('==', 6);
jsep.addBinaryOp('!=', 6);
for (const op of ['<', '>', '<=', '>=', 'in']) jsep.addBinaryOp(op, 7);
jsep.removeAllUnaryOps();
jsep.addUnaryOp('!');
/** Kept only for negative number literals; any other use is rejected below. */
jsep.addUnaryOp('-');
jsep.removeIdentifierChar('$');

// jsep nodes carry no position; these hooks note where each token starts so errors can
// name a column. parseCondition() is synchronous, so one stack serves every parse.
const tokenStarts: number[] = [];
const positions = new WeakMap<jsep.Expression, number>();
jsep.hooks.add('gobble-token', function (this: jsep.HookScope) {
  tokenStarts.push(this.index);
});
jsep.hooks.add('after-token', (env) => {
  const start = tokenStarts.pop();
  if (env.node && start !== undefined) positions.set(env.node, start);
});

/** The 1-based column of a node (of its first token when it has none of its own). */
function column(node: jsep.Expression): number {
  const own = positions.get(node);
  if (own !== undefined) return own + 1;
  const first = [node.left, node.test, node.callee, node.object, node.argument].find(
    (n): n is jsep.Expression => typeof n === 'object' && n !== null && 'type' in n,
  );
  return first ? column(first) : 1;
}

/** A clearer word for what jsep stopped at, keyed by the character. */
function explainUnexpected(char: string): string | null {
  if (char === '') return null;
  if (char === '=') return 'assignment (=) and === are not allowed; compare with == or !=';
  if (char === '`') return 'template literals are not allowed; quote strings with \' or "';
  if (char === '$')
    return '${...} is template syntax; a condition names the path alone, e.g. steps.research.result.score';
  if (char === '?') return '?:, ?? and ?. are not allowed';
  if ('+-*/%&|^~'.includes(char)) return `"${char}" is not allowed (${ALLOWED})`;
  if (char === '{') return 'object literals are not allowed';
  return null;
}

function parseTree(text: string): jsep.Expression {
  tokenStarts.length = 0;
  try {
    return jsep(text);
  } catch (err) {
    const index = typeof (err as { index?: unknown }).index === 'number' ? (err as { index: number }).index : 0;
    const description = (err as { description?: unknown }).description;
    const explained = explainUnexpected(text.charAt(index));
    const said = typeof description === 'string' ? description : String(err);
    const what = explained ?? (said === 'missing unaryOp argument' ? 'expected a value after the operator' : said);
    throw new ConditionError(`${what} at column ${index + 1}`);
  }
}

function fail(node: jsep.Expression, what: string): never {
  throw new ConditionError(`${what} at column ${column(node)}`);
}

/** Reads a member chain (steps.a.result['x'][0]) into its segments, root first. */
function toPath(node: jsep.Expression): string[] {
  if (node.type === 'Identifier') return [(node as jsep.Identifier).name];
  if (node.type === 'ThisExpression') fail(node, '"this" is not allowed');
  if (node.type !== 'MemberExpression') fail(node, 'only a path (steps.<id>.result...) can be followed by . or [ ]');
  const member = node as jsep.MemberExpression;
  if (member.optional) fail(member, '?. is not allowed (a path into a missing value is already null)');
  const base = toPath(member.object);
  if (!member.computed) return [...base, (member.property as jsep.Identifier).name];
  const key = member.property;
  const value = key.type === 'Literal' ? (key as jsep.Literal).value : undefined;
  if (typeof value === 'string') return [...base, value];
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return [...base, String(value)];
  return fail(key, 'only a quoted key or a whole number may go between [ ]');
}

function convert(node: jsep.Expression, problemOf: (path: readonly string[]) => string | null): Node {
  const convertChild = (child: jsep.Expression): Node => convert(child, problemOf);
  switch (node.type) {
    case 'Literal': {
      const value = (node as jsep.Literal).value;
      if (value instanceof RegExp) return fail(node, 'regular expressions are not allowed');
      return { kind: 'literal', value };
    }
    case 'ArrayExpression': {
      const elements = (node as jsep.ArrayExpression).elements.map((element) =>
        element === null ? fail(node, 'an array literal cannot have holes') : convertChild(element),
      );
      return { kind: 'array', elements };
    }
    case 'Identifier':
    case 'MemberExpression': {
      const path = toPath(node);
      const problem = problemOf(path);
      if (problem) fail(node, `"${formatScopePath(path)}": ${problem}`);
      return { kind: 'path', path };
    }
    case 'UnaryExpression': {
      const unary = node as jsep.UnaryExpression;
      if (unary.operator === '!') return { kind: 'not', operand: convertChild(unary.argument) };
      const literal = unary.argument.type === 'Literal' ? (unary.argument as jsep.Literal).value : undefined;
      if (typeof literal === 'number') return { kind: 'literal', value: -literal };
      return fail(node, `"-" is only allowed before a number (${ALLOWED})`);
    }
    case 'BinaryExpression': {
      const binary = node as jsep.BinaryExpression;
      const left = convertChild(binary.left);
      const right = convertChild(binary.right);
      if (binary.operator === '&&' || binary.operator === '||')
        return { kind: 'logical', op: binary.operator, left, right };
      if (COMPARE_OPS.includes(binary.operator))
        return { kind: 'compare', op: binary.operator as CompareOp, left, right };
      return fail(node, `operator ${binary.operator} is not allowed (${ALLOWED})`);
    }
    case 'CallExpression':
      return fail(node, 'calling a function is not allowed');
    case 'ThisExpression':
      return fail(node, '"this" is not allowed');
    case 'ConditionalExpression':
      return fail(node, 'the ternary ?: is not allowed; combine conditions with && and ||');
    case 'Compound':
      return fail((node as jsep.Compound).body[1] ?? node, SEVERAL);
    case 'SequenceExpression':
      return fail((node as jsep.SequenceExpression).expressions[1] ?? node, SEVERAL);
    default:
      return fail(node, `${node.type} is not allowed`);
  }
}

function collectPaths(node: Node, into: string[][]): void {
  switch (node.kind) {
    case 'path':
      into.push(node.path);
      return;
    case 'array':
      node.elements.forEach((element) => collectPaths(element, into));
      return;
    case 'not':
      collectPaths(node.operand, into);
      return;
    case 'logical':
    case 'compare':
      collectPaths(node.left, into);
      collectPaths(node.right, into);
      return;
    case 'literal':
      return;
  }
}

function truthy(value: JsonValue): boolean {
  return !(value === false || value === null || value === 0 || value === '');
}

export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, i) => jsonEqual(item, b[i] ?? null))
    );
  }
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length &&
    keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key] ?? null, b[key] ?? null))
  );
}

function compare(op: CompareOp, left: JsonValue, right: JsonValue): boolean {
  switch (op) {
    case '==':
      return jsonEqual(left, right);
    case '!=':
      return !jsonEqual(left, right);
    case 'in':
      if (Array.isArray(right)) return right.some((item) => jsonEqual(left, item));
      return typeof left === 'string' && typeof right === 'string' && right.includes(left);
    default: {
      const comparable =
        (typeof left === 'number' && typeof right === 'number') ||
        (typeof left === 'string' && typeof right === 'string');
      if (!comparable) return false;
      if (op === '<') return left < right;
      if (op === '<=') return left <= right;
      if (op === '>') return left > right;
      return left >= right;
    }
  }
}

function evaluate<S>(node: Node, scope: S, resolve: ConditionPaths<S>['resolve']): JsonValue {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'array':
      return node.elements.map((element) => evaluate(element, scope, resolve));
    case 'path':
      return resolve(scope, node.path);
    case 'not':
      return !truthy(evaluate(node.operand, scope, resolve));
    case 'logical': {
      const left = truthy(evaluate(node.left, scope, resolve));
      if (node.op === '&&' ? !left : left) return left;
      return truthy(evaluate(node.right, scope, resolve));
    }
    case 'compare':
      return compare(node.op, evaluate(node.left, scope, resolve), evaluate(node.right, scope, resolve));
  }
}

/** A parsed condition; only parseCondition() and parseConditionOver() make one, so its tree is always valid. */
export class Condition<S = WorkflowScope> {
  readonly text: string;
  readonly #root: Node;
  readonly #resolve: ConditionPaths<S>['resolve'];

  constructor(text: string, paths: ConditionPaths<S>) {
    if (text.trim() === '') throw new ConditionError('a condition cannot be empty');
    this.text = text;
    this.#root = convert(parseTree(text), paths.problem);
    this.#resolve = paths.resolve;
  }

  paths(): string[][] {
    const paths: string[][] = [];
    collectPaths(this.#root, paths);
    return paths;
  }

  evaluate(scope: S): boolean {
    return truthy(evaluate(this.#root, scope, this.#resolve));
  }
}

/** Throws ConditionError naming what is wrong and its column. */
export function parseCondition(text: string): Condition {
  return new Condition(text, WORKFLOW_PATHS);
}

/** A condition over paths other than a workflow run's; throws ConditionError like parseCondition. */
export function parseConditionOver<S>(text: string, paths: ConditionPaths<S>): Condition<S> {
  return new Condition(text, paths);
}

/** Every path the condition reads, e.g. [['steps', 'research', 'result', 'score']]. */
export function conditionPaths(condition: Condition): string[][] {
  return condition.paths();
}

export function evaluateCondition(condition: Condition, scope: WorkflowScope): boolean {
  return condition.evaluate(scope);
}
