// config/permissions.yaml errors name the file, the key path and what was expected;
// the starter policy's YAML parses back to exactly the starter policy.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parse } from 'yaml';
import { ConfigError } from '../../src/shared/config/project.js';
import { readPermissionRules } from '../../src/shared/config/permissions/file.js';
import { PermissionsFileSchema } from '../../src/shared/config/permissions/schema.js';
import { renderStarterPolicyYaml, STARTER_POLICY, STARTER_RULES } from '../../src/shared/config/permissions/starter.js';

const dirs: string[] = [];
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'legion-permissions-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'config'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'config', name), text);
  return dir;
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function errorLines(dir: string): string[] {
  try {
    readPermissionRules(dir);
  } catch (err) {
    if (err instanceof ConfigError) return err.lines;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('permissions file schema', () => {
  const NEW_KEYS_EMPTY = {
    allowed_credentials: [],
    allowed_domains: [],
    can_read_history: [],
    allowed_mcp_tools: [],
    can_use_internet: false,
    can_manage_cron: false,
    can_search: false,
    can_use_browser: false,
    can_browser_evaluate: false,
    can_notify_user: false,
    can_create_skills: false,
  };

  it('reads the issue example with every list filled in', () => {
    const rules = readPermissionRules(
      project({
        'permissions.yaml': [
          'default:',
          '  blackboard_read: ["context/*"]',
          'agents:',
          '  researcher:',
          '    can_message: [qualifier]',
          '    blackboard_write: ["context/prospect_*"]',
          '    allowed_apis: [llm]',
        ].join('\n'),
      }),
    );
    expect(rules.source).toEqual({ kind: 'file', path: 'config/permissions.yaml' });
    expect(rules.policy).toEqual({
      default: {
        blackboard_read: ['context/*'],
        blackboard_write: [],
        can_publish: [],
        can_subscribe: [],
        can_message: [],
        allowed_apis: [],
        ...NEW_KEYS_EMPTY,
      },
      agents: {
        researcher: {
          blackboard_read: [],
          blackboard_write: ['context/prospect_*'],
          can_publish: [],
          can_subscribe: [],
          can_message: ['qualifier'],
          allowed_apis: ['llm'],
          ...NEW_KEYS_EMPTY,
        },
      },
    });
  });

  it('leaves default out when the file does, and reads empty keys as empty', () => {
    const rules = readPermissionRules(
      project({ 'permissions.yaml': 'agents:\n  quiet:\n  writer:\n    can_publish:\n' }),
    );
    expect(rules.policy.default).toBeUndefined();
    expect(rules.policy.agents.quiet?.can_publish).toEqual([]);
    expect(rules.policy.agents.writer?.can_publish).toEqual([]);
    expect(readPermissionRules(project({ 'permissions.yaml': '' })).policy).toEqual({ agents: {} });
  });

  it('names an unknown key with its path', () => {
    expect(errorLines(project({ 'permissions.yaml': 'agents:\n  researcher:\n    blackboard_wrte: ["x"]\n' }))).toEqual(
      ['config/permissions.yaml: agents.researcher: unknown key "blackboard_wrte"'],
    );
    expect(errorLines(project({ 'permissions.yaml': 'defaults:\n  allowed_apis: [llm]\n' }))).toEqual([
      'config/permissions.yaml: unknown key "defaults"',
    ]);
  });

  it('names a wrong type with its path', () => {
    expect(errorLines(project({ 'permissions.yaml': 'default:\n  blackboard_read: "context/*"\n' }))).toEqual([
      'config/permissions.yaml: default.blackboard_read: expected an array',
    ]);
    expect(errorLines(project({ 'permissions.yaml': 'agents:\n  a:\n    can_message: [1]\n' }))).toEqual([
      'config/permissions.yaml: agents.a.can_message.0: expected a string',
    ]);
    expect(errorLines(project({ 'permissions.yaml': 'agents: [a]\n' }))).toEqual([
      'config/permissions.yaml: agents: expected a record',
    ]);
  });

  it('refuses bad agent names, empty globs and negated globs', () => {
    expect(errorLines(project({ 'permissions.yaml': 'agents:\n  Big_Name: {}\n' }))[0]).toMatch(
      /^config\/permissions\.yaml: agents\.Big_Name: invalid name: .*lowercase/,
    );
    expect(errorLines(project({ 'permissions.yaml': 'agents:\n  a:\n    blackboard_read: [""]\n' }))).toEqual([
      'config/permissions.yaml: agents.a.blackboard_read.0: expected a non-empty glob',
    ]);
    expect(errorLines(project({ 'permissions.yaml': 'agents:\n  a:\n    blackboard_read: ["!secret/*"]\n' }))).toEqual([
      'config/permissions.yaml: agents.a.blackboard_read.0: a glob may not start with "!": list only what is allowed',
    ]);
  });

  it('reports a YAML syntax error with the file name', () => {
    expect(errorLines(project({ 'permissions.yaml': 'agents:\n  a: [\n' }))[0]).toMatch(/^config\/permissions\.yaml: /);
  });

  it('accepts config/permissions.json', () => {
    const rules = readPermissionRules(
      project({ 'permissions.json': JSON.stringify({ agents: { a: { allowed_apis: ['llm'] } } }) }),
    );
    expect(rules.source).toEqual({ kind: 'file', path: 'config/permissions.json' });
    expect(rules.policy.agents.a?.allowed_apis).toEqual(['llm']);
    expect(errorLines(project({ 'permissions.json': '{"agents": {"a": {"llm": true}}}' }))).toEqual([
      'config/permissions.json: agents.a: unknown key "llm"',
    ]);
  });

  it('refuses both files at once, naming both', () => {
    expect(errorLines(project({ 'permissions.yaml': 'agents: {}\n', 'permissions.json': '{}' }))).toEqual([
      'config/permissions.yaml and config/permissions.json both exist: keep one of them',
    ]);
  });

  it('uses the starter policy when there is no file', () => {
    expect(readPermissionRules(project({}))).toBe(STARTER_RULES);
  });
});

describe('starter policy YAML', () => {
  it('parses back to exactly the starter policy', () => {
    expect(PermissionsFileSchema.parse(parse(renderStarterPolicyYaml()))).toEqual(STARTER_POLICY);
    expect(STARTER_POLICY.default).toEqual({
      allowed_apis: ['llm'],
      blackboard_read: ['agents/{agent}/**', 'context/**'],
      blackboard_write: ['agents/{agent}/**'],
      can_publish: [],
      can_subscribe: [],
      can_message: [],
      allowed_credentials: [],
      allowed_domains: [],
      can_read_history: [],
      allowed_mcp_tools: [],
      can_use_internet: false,
      can_manage_cron: false,
      can_search: false,
      can_use_browser: false,
      can_browser_evaluate: false,
      can_notify_user: false,
      can_create_skills: false,
    });
  });

  it('reads as a file through the same loader the mesh uses', () => {
    const rules = readPermissionRules(project({ 'permissions.yaml': renderStarterPolicyYaml() }));
    expect(rules).toEqual({ policy: STARTER_POLICY, source: { kind: 'file', path: 'config/permissions.yaml' } });
  });

  it('has a commented agents example that is valid once uncommented', () => {
    const uncommented = renderStarterPolicyYaml()
      .split('\n')
      .map((line) => (/^# (agents:| {2})/.test(line) ? line.slice(2) : line))
      .join('\n');
    const policy = PermissionsFileSchema.parse(parse(uncommented));
    expect(Object.keys(policy.agents)).toEqual(['researcher']);
    expect(policy.agents.researcher?.can_message).toEqual(['qualifier']);
  });
});
