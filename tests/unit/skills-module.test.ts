// A skill tool module's exports, as its child process reports them: a valid module
// becomes a tool spec (with its schema checked by ajv); every wrong export is refused
// with the module file and the export named.
import { describe, expect, it } from 'vitest';
import { checkToolExports } from '../../src/agent/skills/module-exports.js';

const valid = {
  name: 'add_numbers',
  description: 'Adds two numbers.',
  parameters: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] },
  timeout_s: undefined,
  run: 'function',
};

function problems(exported: unknown): string[] {
  const checked = checkToolExports(exported, 'tool.mjs');
  return checked.ok ? [] : checked.problems;
}

describe('checkToolExports', () => {
  it('turns valid exports into a tool whose schema validates arguments', () => {
    const checked = checkToolExports(valid, 'tool.mjs');
    expect(checked.ok).toBe(true);
    if (!checked.ok) return;
    expect(checked.spec.name).toBe('add_numbers');
    expect(checked.spec.timeoutMs).toBe(30_000);
    expect(checked.spec.validator.validate({ a: 1, b: 2 })).toEqual([]);
    expect(checked.spec.validator.validate({ a: 'one' }).join('\n')).toMatch(/must have required property 'b'/);
  });

  it('keeps the dialect line out of the schema the model sees, and takes timeout_s', () => {
    const checked = checkToolExports(
      { ...valid, timeout_s: 2, parameters: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' } },
      'tool.mjs',
    );
    expect(checked.ok && checked.spec.parameters).toEqual({ type: 'object' });
    expect(checked.ok && checked.spec.timeoutMs).toBe(2000);
  });

  it('names a missing run function and a missing name', () => {
    const lines = problems({ ...valid, name: undefined, run: 'undefined' });
    expect(lines).toContain('tool.mjs: export: name: expected a string');
    expect(lines).toContain('tool.mjs: export: run: expected a function `run(args)`');
  });

  it('refuses names that are not tool names or use the MCP separator', () => {
    expect(problems({ ...valid, name: 'Add Numbers' })[0]).toMatch(/^tool\.mjs: export: name: expected lowercase/);
    expect(problems({ ...valid, name: 'srv__tool' })).toEqual([
      'tool.mjs: export: name: must not contain "__" (reserved for MCP tools)',
    ]);
  });

  it('refuses parameters that are not an object schema or do not compile', () => {
    expect(problems({ ...valid, parameters: { type: 'string' } })).toEqual([
      'tool.mjs: export: parameters: expected a JSON Schema with "type": "object" (tool arguments are one object)',
    ]);
    expect(problems({ ...valid, parameters: [] })[0]).toBe(
      'tool.mjs: export: parameters: expected a JSON Schema object',
    );
    expect(problems({ ...valid, parameters: { type: 'object', properties: { a: { type: 'nonsense' } } } })[0]).toMatch(
      /^tool\.mjs: export parameters is not a usable JSON Schema: /,
    );
  });

  it('refuses a timeout beyond what exec allows', () => {
    expect(problems({ ...valid, timeout_s: 601 })[0]).toMatch(/^tool\.mjs: export: timeout_s: /);
  });
});
