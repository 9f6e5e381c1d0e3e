// The condition language: what it accepts, how it evaluates (no JS coercion, missing
// paths are null) and that everything beyond it is rejected at parse time.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ConditionError,
  conditionPaths,
  evaluateCondition,
  parseCondition,
} from '../../../src/shared/config/workflows/condition.js';
import { makeScope } from './scope-fixture.js';

const ISSUE_EXAMPLE = "steps.research.result.score >= 5 && steps.research.result.region in ['EU', 'US']";

function check(text: string, scope = makeScope()): boolean {
  return evaluateCondition(parseCondition(text), scope);
}

function parseError(text: string): string {
  try {
    parseCondition(text);
  } catch (err) {
    if (err instanceof ConditionError) return err.message;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

const research = (result: unknown) => makeScope({ steps: { research: { result: result as never } } });

describe('conditions', () => {
  it('evaluates the example from the issue', () => {
    expect(check(ISSUE_EXAMPLE, research({ score: 7, region: 'EU' }))).toBe(true);
    expect(check(ISSUE_EXAMPLE, research({ score: 7, region: 'APAC' }))).toBe(false);
    expect(check(ISSUE_EXAMPLE, research({ score: 4, region: 'US' }))).toBe(false);
    expect(conditionPaths(parseCondition(ISSUE_EXAMPLE))).toEqual([
      ['steps', 'research', 'result', 'score'],
      ['steps', 'research', 'result', 'region'],
    ]);
  });

  it('binds && tighter than || and honours parentheses', () => {
    const scope = makeScope({ payload: { a: true, b: false, c: false } });
    expect(check('trigger.payload.a || trigger.payload.b && trigger.payload.c', scope)).toBe(true);
    expect(check('(trigger.payload.a || trigger.payload.b) && trigger.payload.c', scope)).toBe(false);
    expect(check('trigger.payload.a == true && !(trigger.payload.b || trigger.payload.c)', scope)).toBe(true);
  });

  it('negates with ! and reads false, null, 0 and "" as false', () => {
    const scope = makeScope({ payload: { zero: 0, empty: '', list: [], text: 'x' } });
    expect(check('!trigger.payload.zero', scope)).toBe(true);
    expect(check('!trigger.payload.empty', scope)).toBe(true);
    expect(check('!trigger.payload.missing', scope)).toBe(true);
    expect(check('!trigger.payload.list', scope)).toBe(false);
    expect(check('trigger.payload.text', scope)).toBe(true);
    expect(check('!!trigger.payload.text', scope)).toBe(true);
  });

  it('reads a path into a missing value as null', () => {
    expect(check('steps.research.result.score == null')).toBe(true);
    expect(check('steps.research.result.score.deep[3] == null', research({ score: 5 }))).toBe(true);
    expect(check('steps.research.result.score > 1')).toBe(false);
    expect(check("blackboard['context/none'] == null")).toBe(true);
  });

  it('reads indexes, quoted keys, status, error, blackboard values and the run', () => {
    const scope = makeScope({
      payload: { items: [{ name: 'acme' }], 'odd key': 1 },
      steps: { research: { status: 'failed', error: 'boom' } },
      blackboard: { 'context/acme': { region: 'EU' } },
    });
    expect(check("trigger.payload.items[0].name == 'acme'", scope)).toBe(true);
    expect(check("trigger.payload['odd key'] == 1", scope)).toBe(true);
    expect(check('steps.research.status == \'failed\' && steps.research.error == "boom"', scope)).toBe(true);
    expect(check("blackboard['context/acme'].region in ['EU']", scope)).toBe(true);
    expect(check("run.id == 'run_1' && workflow.name == 'prospect_pipeline'", scope)).toBe(true);
    expect(check("trigger.source == 'topic:new_prospect'", scope)).toBe(true);
  });

  it('compares without JS coercion', () => {
    const scope = makeScope({ payload: { five: '5', ten: 10, list: [1, [2]], obj: { a: 1 } } });
    expect(check('trigger.payload.five < 10', scope)).toBe(false);
    expect(check('trigger.payload.five > 1', scope)).toBe(false);
    expect(check('trigger.payload.five == 5', scope)).toBe(false);
    expect(check('trigger.payload.five != 5', scope)).toBe(true);
    expect(check("trigger.payload.five == '5'", scope)).toBe(true);
    expect(check('trigger.payload.ten >= 10 && trigger.payload.ten > -1', scope)).toBe(true);
    expect(check("'abc' < 'abd'", scope)).toBe(true);
    expect(check('null < 1', scope)).toBe(false);
    expect(check('false == 0', scope)).toBe(false);
    expect(check('trigger.payload.list == [1, [2]]', scope)).toBe(true);
    expect(check('[2] in trigger.payload.list', scope)).toBe(true);
    expect(check("trigger.payload.obj == trigger.payload['obj']", scope)).toBe(true);
  });

  it('uses in for array membership and substrings only', () => {
    const scope = makeScope({ payload: { regions: ['EU', 'US'], name: 'acme corp', obj: { EU: 1 } } });
    expect(check("'EU' in trigger.payload.regions", scope)).toBe(true);
    expect(check("'eu' in trigger.payload.regions", scope)).toBe(false);
    expect(check("'corp' in trigger.payload.name", scope)).toBe(true);
    expect(check("'EU' in trigger.payload.obj", scope)).toBe(false);
    expect(check('1 in trigger.payload.name', scope)).toBe(false);
  });

  it('short-circuits && and || and gives booleans', () => {
    const scope = makeScope({ payload: { name: 'x' } });
    expect(check('trigger.payload.name || false', scope)).toBe(true);
    expect(check('trigger.payload.missing && trigger.payload.name', scope)).toBe(false);
    expect(check('(trigger.payload.name && true) == true', scope)).toBe(true);
  });

  it.each([
    ['process.exit()', /calling a function is not allowed at column 1/],
    ['steps.research.result.name.toString()', /calling a function is not allowed/],
    ['this', /"this" is not allowed at column 1/],
    ['this.constructor', /"this" is not allowed/],
    ['steps.research.status = 1', /assignment \(=\) and === are not allowed; compare with == or != at column 23/],
    ['steps.research.status === 1', /compare with == or !=/],
    ['steps.research.status ? true : false', /ternary \?: is not allowed/],
    [
      'process.env.HOME',
      /unknown name "process" \(a path starts with steps, trigger, blackboard, run, workflow\) at column 1/,
    ],
    ['constructor', /unknown name "constructor"/],
    ['`${steps.research.result}`', /template literals are not allowed/],
    ['${steps.research.result.score} > 5', /\$\{\.\.\.\} is template syntax; a condition names the path alone/],
    ['steps.research.result.score + 1 > 5', /"\+" is not allowed .* at column 29/],
    ['steps.research.result.score > 5 steps.research.result.score', /expected one expression/],
    ['(steps.research.result, 1)', /expected one expression/],
    ['steps.research.result[steps.other.result]', /only a quoted key or a whole number may go between \[ \]/],
    ['steps.research.result?.score', /\?\. is not allowed/],
    ['steps.research.resul', /"steps.research.resul": expected steps.research.result/],
    ['steps.research.status.deep', /expected steps.research.result/],
    ['blackboard.x/y', /"\/" is not allowed/],
    ["blackboard['../x']", /invalid blackboard key/],
    ['-steps.research.result', /"-" is only allowed before a number/],
    ['{ a: 1 }', /object literals are not allowed/],
    ['steps.research.result.score >= 5 || (', /Unclosed \( at column/],
    ['!', /expected a value after the operator/],
    ['   ', /a condition cannot be empty/],
  ])('rejects %s at parse time', (text, message) => {
    expect(parseError(text)).toMatch(message);
  });

  it('cannot reach code or prototypes: paths read own JSON fields only', () => {
    const scope = makeScope({ payload: { name: 'x', list: [1] }, steps: { research: { result: { a: 1 } } } });
    expect(check('steps.research.result.constructor == null', scope)).toBe(true);
    expect(check("steps.research.result['__proto__'] == null", scope)).toBe(true);
    expect(check('trigger.payload.name.length == null', scope)).toBe(true);
    expect(check('trigger.payload.list.length == null', scope)).toBe(true);
    expect(check('steps.hasOwnProperty.result == null', scope)).toBe(true);
    // The module holds no evaluator of strings: the tree walker is the only evaluator.
    const source = readFileSync(new URL('../../../src/shared/config/workflows/condition.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/\beval\s*\(|\bFunction\s*\(|new\s+Function/);
  });
});
