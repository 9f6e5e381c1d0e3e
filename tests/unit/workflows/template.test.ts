// Templates: a lone template keeps the value as it is, templates in text are
// interpolated, nested inputs are rendered throughout, promote keys are checked.
import { describe, expect, it } from 'vitest';
import {
  TemplateError,
  promoteKeyProblem,
  renderKey,
  renderTemplate,
  templatePaths,
} from '../../../src/shared/config/workflows/template.js';
import { makeScope } from './scope-fixture.js';

const scope = makeScope({
  payload: { name: 'acme', size: 12, tags: ['b2b'], nested: { ok: true } },
  steps: {
    research: { result: { score: 7, regions: ['EU', 'US'], summary: 'good fit' } },
    failed_one: { status: 'failed', error: 'timed out' },
  },
  blackboard: { 'context/prospect_acme': { owner: 'ann' }, 'notes.v1': 'hello' },
});

function templateError(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof TemplateError) return err.message;
    throw err;
  }
  throw new Error('expected a TemplateError');
}

describe('renderTemplate', () => {
  it('gives a lone template the value as it is', () => {
    expect(renderTemplate('${trigger.payload}', scope)).toEqual({
      name: 'acme',
      size: 12,
      tags: ['b2b'],
      nested: { ok: true },
    });
    expect(renderTemplate('${trigger.payload.size}', scope)).toBe(12);
    expect(renderTemplate('${steps.research.result.regions}', scope)).toEqual(['EU', 'US']);
    expect(renderTemplate('${steps.research.result.regions.1}', scope)).toBe('US');
    expect(renderTemplate('${ trigger.payload.nested.ok }', scope)).toBe(true);
    expect(renderTemplate('${steps.failed_one.status}', scope)).toBe('failed');
    expect(renderTemplate('${steps.failed_one.error}', scope)).toBe('timed out');
    expect(renderTemplate('${trigger.source}', scope)).toBe('topic:new_prospect');
  });

  it('renders a missing value alone as null and inside text as ""', () => {
    expect(renderTemplate('${trigger.payload.missing}', scope)).toBeNull();
    expect(renderTemplate('${steps.nowhere.result}', scope)).toBeNull();
    expect(renderTemplate('name: [${trigger.payload.missing}]', scope)).toBe('name: []');
  });

  it('interpolates strings as they are, numbers as text, objects and arrays as JSON', () => {
    expect(renderTemplate('Research ${trigger.payload.name} (${trigger.payload.size} people)', scope)).toBe(
      'Research acme (12 people)',
    );
    expect(renderTemplate('tags=${trigger.payload.tags} nested=${trigger.payload.nested}', scope)).toBe(
      'tags=["b2b"] nested={"ok":true}',
    );
    expect(renderTemplate('run ${run.id} of ${workflow.name}', scope)).toBe('run run_1 of prospect_pipeline');
  });

  it('renders nested objects and arrays, keeping object keys as written', () => {
    const input = {
      company: '${trigger.payload.name}',
      '${not.a.template.key}': [
        '${steps.research.result.score}',
        'score ${steps.research.result.score}',
        3,
        null,
        { deep: '${trigger.payload.tags}' },
      ],
    };
    expect(renderTemplate(input, scope)).toEqual({
      company: 'acme',
      '${not.a.template.key}': [7, 'score 7', 3, null, { deep: ['b2b'] }],
    });
    expect(templatePaths(input)).toEqual([
      ['trigger', 'payload', 'name'],
      ['steps', 'research', 'result', 'score'],
      ['steps', 'research', 'result', 'score'],
      ['trigger', 'payload', 'tags'],
    ]);
  });

  it('reads blackboard keys with slashes and dots whole', () => {
    expect(renderTemplate('${blackboard.context/prospect_acme}', scope)).toEqual({ owner: 'ann' });
    expect(renderTemplate('${blackboard.notes.v1}!', scope)).toBe('hello!');
    expect(renderTemplate('${blackboard.context/unset}', scope)).toBeNull();
    expect(templatePaths('${blackboard.context/prospect_acme}')).toEqual([['blackboard', 'context/prospect_acme']]);
  });

  it('writes $${ as a literal ${', () => {
    expect(renderTemplate('echo $${HOME} for ${trigger.payload.name}', scope)).toBe('echo ${HOME} for acme');
    expect(templatePaths('echo $${HOME}')).toEqual([]);
  });

  it('rejects templates that are malformed or name nothing', () => {
    expect(templateError(() => templatePaths('${trigger.payload'))).toMatch(/unclosed "\$\{" at character 1/);
    expect(templateError(() => templatePaths({ a: ['${}'] }))).toMatch(/\$\{\}: empty template/);
    expect(templateError(() => templatePaths('${steps..result}'))).toMatch(/empty field name/);
    expect(templateError(() => templatePaths('${env.HOME}'))).toMatch(/\$\{env.HOME\}: unknown name "env"/);
    expect(templateError(() => templatePaths('${steps.research}'))).toMatch(/expected steps.research.result/);
    expect(templateError(() => templatePaths('${steps.research.status.x}'))).toMatch(/expected steps.research.result/);
    expect(templateError(() => templatePaths('${run.id.x}'))).toMatch(/expected run.id/);
    expect(templateError(() => templatePaths('${blackboard.a//b}'))).toMatch(/invalid blackboard key "a\/\/b"/);
    expect(templateError(() => templatePaths('${blackboard.}'))).toMatch(/empty field name/);
    expect(templateError(() => templatePaths('${a ${b}}'))).toMatch(/cannot be nested/);
  });
});

describe('renderKey', () => {
  it('always gives text', () => {
    expect(renderKey('context/prospect_${trigger.payload.name}', scope)).toBe('context/prospect_acme');
    expect(renderKey('scores/${steps.research.result.score}', scope)).toBe('scores/7');
    expect(renderKey('${trigger.payload.name}', scope)).toBe('acme');
  });

  it('rejects a key the blackboard would not take', () => {
    expect(templateError(() => renderKey('context/${trigger.payload.missing}', scope))).toBe(
      '"context/${trigger.payload.missing}" gives the blackboard key "context/": a key cannot contain an empty segment ("//" or a trailing "/")',
    );
    expect(templateError(() => renderKey('${trigger.payload.tags}', scope))).toMatch(
      /gives the blackboard key "\[\\"b2b\\"\]": a key may only contain/,
    );
    expect(templateError(() => renderKey('${steps.research.result.summary}', scope))).toMatch(
      /a key may only contain letters.*\(found " "\)/,
    );
    expect(templateError(() => renderKey('${trigger.payload.missing}', scope))).toMatch(/a key cannot be empty/);
  });

  it('finds keys that can never be valid before a run', () => {
    expect(promoteKeyProblem('context/prospect_${trigger.payload.name}')).toBeNull();
    expect(promoteKeyProblem('context prospect/${trigger.payload.name}')).toMatch(/found " "/);
    expect(promoteKeyProblem('/${trigger.payload.name}')).toMatch(/cannot start with "\/"/);
  });
});
