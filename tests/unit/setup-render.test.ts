// The files `legion setup` writes, rendered from its answers: new ones, and edits of
// existing ones that keep what the user wrote.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { MeshFileSchema } from '../../src/shared/config/schema.js';
import { llmChoice } from '../../src/cli/setup/answers.js';
import {
  projectSection,
  renderMeshYaml,
  renderProjectMd,
  updateEnv,
  updateGitignore,
  updateMeshYaml,
  updateProjectMd,
} from '../../src/cli/setup/render.js';

const meshOf = (text: string) => MeshFileSchema.parse(parse(text));

describe('config/mesh.yaml', () => {
  it('of a new project names the provider, its base URL and the default model', () => {
    const mesh = meshOf(
      renderMeshYaml(llmChoice('openai-compatible', 'http://127.0.0.1:4000/v1', 'llama3.1:8b'), 9100),
    );
    expect(mesh.mesh.port).toBe(9100);
    expect(mesh.llm.default_model).toBe('local/llama3.1:8b');
    expect(mesh.llm.providers).toEqual({ local: { kind: 'openai', base_url: 'http://127.0.0.1:4000/v1' } });

    const openai = meshOf(renderMeshYaml(llmChoice('openai', null, 'gpt-4o-mini'), null));
    expect(openai.mesh.port).toBe(8420);
    expect(openai.llm).toMatchObject({ default_model: 'openai/gpt-4o-mini', providers: { openai: {} } });
    expect(meshOf(renderMeshYaml(llmChoice('anthropic', null, 'claude-haiku-4-5'), null)).llm.providers).toEqual({
      anthropic: {},
    });
  });

  it('quotes a base URL that YAML would otherwise misread', () => {
    const url = 'http://127.0.0.1:4000/v1?a=1,b=2#x';
    expect(meshOf(renderMeshYaml(llmChoice('openai-compatible', url, 'm'), null)).llm.providers.local?.base_url).toBe(
      url,
    );
  });

  it('of an existing project changes only the model and provider, keeping comments and other keys', () => {
    const before = [
      '# my mesh',
      'mesh: { host: 127.0.0.1, port: 8500 }   # moved off 8420',
      'llm:',
      '  default_model: openai/gpt-4o',
      '  providers:',
      '    openai: {}',
      'timezone: Europe/Berlin',
      '',
    ].join('\n');
    const after = updateMeshYaml(before, { llm: llmChoice('anthropic', null, 'claude-sonnet-4-5'), port: null });
    expect(after).toContain('# my mesh');
    expect(after).toContain('# moved off 8420');
    const mesh = meshOf(after);
    expect(mesh.llm.default_model).toBe('anthropic/claude-sonnet-4-5');
    expect(mesh.llm.providers).toEqual({ openai: {}, anthropic: {} });
    expect(mesh.timezone).toBe('Europe/Berlin');
    expect(mesh.mesh.port).toBe(8500);
    expect(meshOf(updateMeshYaml(before, { llm: null, port: 9000 })).mesh.port).toBe(9000);
  });
});

describe('config/mesh.yaml edited again (the shipped example, with its comments)', () => {
  const shipped = readFileSync(new URL('../../config/mesh.yaml', import.meta.url), 'utf8');
  const comments = (text: string) => text.split('\n').filter((line) => line.trimStart().startsWith('#'));
  /** Every line of `before` that has a comment, in order, as it appears in `after`. */
  const commentedLines = (text: string) => text.split('\n').filter((line) => line.includes('#'));

  it('keeps every comment line byte-identical and in its place after a provider and port change', () => {
    const once = updateMeshYaml(shipped, {
      llm: llmChoice('openai-compatible', 'http://127.0.0.1:11434/v1', 'llama3.1'),
      port: 9300,
    });
    const twice = updateMeshYaml(once, { llm: llmChoice('anthropic', null, 'claude-haiku-4-5'), port: 9301 });
    for (const after of [once, twice]) {
      expect(comments(after)).toEqual(comments(shipped));
      // The commented budget/timezone/image block stays at column 0, at the end, so uncommenting it works.
      expect(after.split('\n').slice(-7)).toEqual(shipped.split('\n').slice(-7));
      const uncommented = after.replace(/^# (budget|timezone): /gm, '$1: ');
      expect(meshOf(uncommented).budget).toEqual({ daily_usd: 20, monthly_usd: 300 });
    }
    // Lines whose value changed keep their trailing comment where it was.
    expect(commentedLines(twice).find((l) => l.includes('default_model'))).toBe(
      '  default_model: anthropic/claude-haiku-4-5   # provider/model; agents without a model use this',
    );
    expect(meshOf(twice).llm.providers).toEqual({
      openai: { base_url: 'https://api.openai.com/v1' },
      anthropic: {},
      ollama: { kind: 'openai', base_url: 'http://127.0.0.1:11434/v1' },
    });
    expect(meshOf(twice).mesh.port).toBe(9301);
  });
});

describe('PROJECT.md', () => {
  it('has one section per answer given', () => {
    const text = renderProjectMd({ building: 'A CRM for bakers', priority: 'Import contacts', constraints: '' });
    expect(text).toBe(
      '# Project\n\n## What we are building\n\nA CRM for bakers\n\n## Current priority\n\nImport contacts\n',
    );
    expect(projectSection(text, 'Current priority')).toBe('Import contacts');
    expect(projectSection(text, 'Hard constraints')).toBeNull();
    expect(renderProjectMd({})).toMatch(/^# Project\n\n<!-- .* -->\n$/);
  });

  it('is edited section by section, keeping the rest as the user wrote it', () => {
    const mine = '# Bakery CRM\n\n## What we are building\n\nA CRM\n\n## Notes\n\nAsk Sam first.\n';
    const next = updateProjectMd(mine, { building: 'A CRM for bakers', constraints: 'No emails to customers' });
    expect(next).toBe(
      '# Bakery CRM\n\n## What we are building\n\nA CRM for bakers\n\n## Notes\n\nAsk Sam first.\n\n## Hard constraints\n\nNo emails to customers\n',
    );
    expect(updateProjectMd(next, { constraints: '' })).toBe(
      '# Bakery CRM\n\n## What we are building\n\nA CRM for bakers\n\n## Notes\n\nAsk Sam first.\n',
    );
    expect(updateProjectMd(mine, {})).toBe(mine);
  });
});

describe('.env', () => {
  it('sets the key variable once and keeps every other line', () => {
    const before =
      '# mine\nLEGION_CRED_GITHUB_TOKEN=ghp_x\nLEGION_CRED_OPENAI_API_KEY=old\nexport LEGION_CRED_OPENAI_API_KEY=older\n';
    const after = updateEnv(before, 'LEGION_CRED_OPENAI_API_KEY', 'sk-new');
    expect(after).toBe('# mine\nLEGION_CRED_GITHUB_TOKEN=ghp_x\nLEGION_CRED_OPENAI_API_KEY=sk-new\n');
    expect(parseEnv(after)).toEqual({ LEGION_CRED_GITHUB_TOKEN: 'ghp_x', LEGION_CRED_OPENAI_API_KEY: 'sk-new' });
  });

  it('of a new project explains itself and holds the key, if any', () => {
    const withKey = updateEnv(null, 'LEGION_CRED_LOCAL_API_KEY', 'k');
    expect(parseEnv(withKey)).toEqual({ LEGION_CRED_LOCAL_API_KEY: 'k' });
    expect(withKey).toMatch(/^# Secrets/);
    expect(parseEnv(updateEnv(null, 'LEGION_CRED_LOCAL_API_KEY', null))).toEqual({});
  });
});

describe('.gitignore', () => {
  it('gains .env and .legion/ once, after what is there', () => {
    expect(updateGitignore(null)).toBe('.env\n.legion/\n');
    expect(updateGitignore('node_modules')).toBe('node_modules\n.env\n.legion/\n');
    expect(updateGitignore('node_modules\n/.env\n')).toBe('node_modules\n/.env\n.legion/\n');
    expect(updateGitignore('.env\n.legion\n')).toBeNull();
  });
});
