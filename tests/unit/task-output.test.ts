// Judging a task's final answer: JSON found in the text (whole or fenced), checked
// against the output schema with ajv, and schemas refused at compile time.
import { describe, expect, it } from 'vitest';
import { compileOutputSchema, findJson, judgeAnswer } from '../../src/agent/task/output.js';
import { LegionError } from '../../src/shared/errors.js';

const prospectSchema = {
  type: 'object',
  properties: {
    score: { type: 'integer', minimum: 0, maximum: 10 },
    region: { enum: ['EU', 'US'] },
  },
  required: ['score', 'region'],
  additionalProperties: false,
};

describe('findJson', () => {
  it('takes the whole answer when it is JSON, scalars included', () => {
    expect(findJson(' {"a": 1} \n')).toEqual({ found: true, value: { a: 1 }, whole: true });
    expect(findJson('42')).toEqual({ found: true, value: 42, whole: true });
    expect(findJson('"text"')).toEqual({ found: true, value: 'text', whole: true });
  });

  it('takes a fenced ```json block, alone or inside prose', () => {
    expect(findJson('```json\n{"a": [1, 2]}\n```')).toEqual({ found: true, value: { a: [1, 2] }, whole: true });
    expect(findJson('Here it is:\n\n```json\n{"a": 1}\n```\nHope that helps.')).toEqual({
      found: true,
      value: { a: 1 },
      whole: false,
    });
    expect(findJson('```\n[true]\n```')).toEqual({ found: true, value: [true], whole: true });
  });

  it('skips a fenced block that does not parse and takes the next one that does', () => {
    expect(findJson('```json\n{oops}\n```\nfixed:\n```json\n{"ok": true}\n```')).toMatchObject({
      found: true,
      value: { ok: true },
    });
  });

  it('says why when there is no JSON', () => {
    expect(findJson('The score is 7.')).toMatchObject({ found: false, reason: expect.stringContaining('not JSON') });
    expect(findJson('   ')).toEqual({ found: false, reason: 'the answer is empty' });
    expect(findJson('```python\nprint(1)\n```')).toMatchObject({ found: false });
  });
});

describe('compileOutputSchema', () => {
  it('reports every mismatch with the path and what was expected', () => {
    const validator = compileOutputSchema(prospectSchema);
    expect(validator.validate({ score: 7, region: 'EU' })).toEqual([]);
    const problems = validator.validate({ score: 'high', region: 'Mars', extra: 1 });
    expect(problems).toEqual(
      expect.arrayContaining([
        '/score: must be integer',
        '/region: must be equal to one of the allowed values: "EU", "US"',
        '(the whole value): must NOT have additional properties ("extra")',
      ]),
    );
    expect(validator.validate({ score: 3 })).toEqual(["(the whole value): must have required property 'region'"]);
  });

  it('reads draft-07 schemas when $schema says so, 2020-12 otherwise', () => {
    const draft7 = compileOutputSchema({
      $schema: 'http://json-schema.org/draft-07/schema#',
      definitions: { score: { type: 'number' } },
      properties: { score: { $ref: '#/definitions/score' } },
    });
    expect(draft7.validate({ score: 'x' })).toEqual(['/score: must be number']);
    // prefixItems exists only in 2020-12; a draft-07 reader would ignore it.
    const modern = compileOutputSchema({
      $defs: { score: { type: 'number' } },
      type: 'array',
      prefixItems: [{ $ref: '#/$defs/score' }],
    });
    expect(modern.validate([1])).toEqual([]);
    expect(modern.validate(['x'])).toEqual(['/0: must be number']);
  });

  it('treats format as an annotation, so unknown formats compile', () => {
    expect(compileOutputSchema({ type: 'string', format: 'prospect-id' }).validate('anything')).toEqual([]);
  });

  it('gives two schemas with the same $id their own validators', () => {
    const a = compileOutputSchema({ $id: 'https://example.com/out', type: 'string' });
    const b = compileOutputSchema({ $id: 'https://example.com/out', type: 'number' });
    expect([a.validate(1).length, b.validate(1).length]).toEqual([1, 0]);
  });

  it('refuses a schema it cannot compile with a 400 that says why', () => {
    const refuse = (schema: Record<string, never> | Record<string, string | number>) => {
      try {
        compileOutputSchema(schema);
      } catch (err) {
        return err;
      }
      return null;
    };
    const bad = refuse({ type: 'nonsense' });
    expect(bad).toBeInstanceOf(LegionError);
    expect(bad).toMatchObject({
      status: 400,
      code: 'invalid_request',
      message: expect.stringContaining('output_schema is not a usable JSON Schema'),
    });
    expect(refuse({ $schema: 'http://json-schema.org/draft-04/schema#' })).toMatchObject({
      status: 400,
      message: expect.stringContaining('is not supported'),
    });
  });
});

describe('judgeAnswer', () => {
  const validator = compileOutputSchema(prospectSchema);

  it('with a schema: accepts matching JSON, fenced or not', () => {
    expect(judgeAnswer('{"score": 7, "region": "US"}', validator)).toEqual({
      ok: true,
      output: { score: 7, region: 'US' },
    });
    expect(judgeAnswer('Done.\n```json\n{"score": 2, "region": "EU"}\n```', validator)).toEqual({
      ok: true,
      output: { score: 2, region: 'EU' },
    });
  });

  it('with a schema: refuses prose and mismatches with the problems', () => {
    expect(judgeAnswer('a seven, in Europe', validator)).toMatchObject({
      ok: false,
      problems: [expect.stringContaining('not JSON')],
    });
    expect(judgeAnswer('{"score": 11, "region": "EU"}', validator)).toEqual({
      ok: false,
      problems: ['/score: must be <= 10'],
    });
  });

  it('without a schema: JSON when the answer is only JSON, otherwise the text as it stands', () => {
    expect(judgeAnswer('{"n": 1}', null)).toEqual({ ok: true, output: { n: 1 } });
    expect(judgeAnswer('```json\n[1]\n```', null)).toEqual({ ok: true, output: [1] });
    const prose = 'Summary:\n```json\n{"n": 1}\n```';
    expect(judgeAnswer(prose, null)).toEqual({ ok: true, output: prose });
    expect(judgeAnswer('plain words', null)).toEqual({ ok: true, output: 'plain words' });
  });
});
