// `legion setup --yes` as a script runs it (the built CLI, the fake provider, no
// Docker: --skip-image): the files it writes, a provider that refuses the key or is
// down (nothing written), and a second run on a project the user has edited.
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadProject } from '../../src/shared/config/project.js';
import { readPermissionRules } from '../../src/shared/config/permissions/file.js';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { freePort, legion } from '../helpers/project.js';

const KEY = 'sk-setup-test-0123456789';

/** Every file under dir, relative, with its text. */
function tree(dir: string, under = ''): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(join(dir, under), { withFileTypes: true })) {
    const path = under ? `${under}/${entry.name}` : entry.name;
    if (entry.isDirectory()) Object.assign(files, tree(dir, path));
    else files[path] = readFileSync(join(dir, path), 'utf8');
  }
  return files;
}

describe('legion setup --yes', () => {
  let fake: FakeProvider;
  let dir: string;

  beforeAll(async () => {
    fake = await startFakeProvider({ apiKey: KEY });
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'legion-setup-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const setup = (...args: string[]) => legion(['setup', '--yes', '--skip-image', ...args], dir, {}, 60_000);

  it('writes a project that loads, with the key only in .env (mode 0600)', async () => {
    const result = await setup(
      '--provider',
      'openai-compatible',
      '--base-url',
      fake.openaiBaseUrl,
      '--api-key',
      KEY,
      '--template',
      'sales',
      '--project',
      'Find leads',
      '--priority',
      'Ten qualified leads a week',
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('local answered and offers llama3.1');
    expect(result.stdout).not.toContain(KEY);

    const files = tree(dir);
    expect(Object.keys(files).sort()).toEqual([
      '.env',
      '.gitignore',
      'PROJECT.md',
      'config/agents.yaml',
      'config/agents/outreach/HEARTBEAT.md',
      'config/agents/outreach/SOUL.md',
      'config/agents/qualifier/HEARTBEAT.md',
      'config/agents/qualifier/SOUL.md',
      'config/agents/researcher/HEARTBEAT.md',
      'config/agents/researcher/SOUL.md',
      'config/mesh.yaml',
      'config/permissions.yaml',
      'config/workflows/prospect_pipeline.yaml',
    ]);
    expect(
      Object.entries(files)
        .filter(([, text]) => text.includes(KEY))
        .map(([path]) => path),
    ).toEqual(['.env']);
    expect(statSync(join(dir, '.env')).mode & 0o777).toBe(0o600);
    expect(files['.gitignore']).toBe('.env\n.legion/\n');
    expect(files['PROJECT.md']).toBe(
      '# Project\n\n## What we are building\n\nFind leads\n\n## Current priority\n\nTen qualified leads a week\n',
    );

    const project = loadProject(dir, {});
    expect(project.mesh.llm.default_model).toBe('local/llama3.1');
    expect(project.mesh.llm.providers.local).toEqual({ kind: 'openai', base_url: fake.openaiBaseUrl });
    expect(project.env.LEGION_CRED_LOCAL_API_KEY).toBe(KEY);
    expect(Object.keys(project.agents)).toEqual(['researcher', 'qualifier', 'outreach']);
    expect(readPermissionRules(dir).source).toEqual({ kind: 'file', path: 'config/permissions.yaml' });
  });

  it('explains a rejected key and writes nothing', async () => {
    const result = await setup(
      '--provider',
      'openai-compatible',
      '--base-url',
      fake.openaiBaseUrl,
      '--api-key',
      'sk-wrong-0123456789',
      '--project',
      'x',
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `error: local at ${fake.openaiBaseUrl}/models answered 401, the API key was rejected`,
    );
    expect(result.stderr).toContain('Nothing was written.');
    expect(result.stderr + result.stdout).not.toContain('sk-wrong-0123456789');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('explains a provider that is down and writes nothing', async () => {
    const port = await freePort();
    const result = await setup(
      '--provider',
      'openai-compatible',
      '--base-url',
      `http://127.0.0.1:${port}/v1`,
      '--template',
      'sales',
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `error: cannot reach local at http://127.0.0.1:${port}/v1/models: connection refused (is the server running, on that port?)\nNothing was written.\n`,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('explains an unknown model, and checks Anthropic too', async () => {
    const unknown = await setup(
      '--provider',
      'openai-compatible',
      '--base-url',
      fake.openaiBaseUrl,
      '--api-key',
      KEY,
      '--model',
      'gpt-9',
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(
      'has no model "gpt-9": it offers gpt-4o-mini, gpt-4o, claude-haiku-4-5, claude-sonnet-4-5, llama3.1',
    );
    expect(readdirSync(dir)).toEqual([]);

    const anthropic = await legion(
      ['setup', '--yes', '--skip-image', '--provider', 'anthropic', '--api-key-env', 'MY_ANTHROPIC_KEY'],
      dir,
      { MY_ANTHROPIC_KEY: KEY, LEGION_ANTHROPIC_BASE_URL: fake.anthropicBaseUrl },
      60_000,
    );
    expect(anthropic.stderr).toBe('');
    expect(anthropic.stdout).toContain('anthropic knows claude-haiku-4-5');
    const project = loadProject(dir, {});
    expect(project.mesh.llm.default_model).toBe('anthropic/claude-haiku-4-5');
    expect(project.env.LEGION_CRED_ANTHROPIC_API_KEY).toBe(KEY);
    expect(Object.keys(project.agents)).toEqual(['assistant']);
  });

  it('names the flag that is missing, before any call or write', async () => {
    const missing = await setup('--provider', 'openai-compatible', '--template', 'sales');
    expect(missing).toMatchObject({
      code: 1,
      stderr: 'error: --base-url is required with --provider openai-compatible\n',
    });
    const unset = await setup('--provider', 'openai', '--api-key-env', 'LEGION_TEST_UNSET_VARIABLE');
    expect(unset.stderr).toBe(
      'error: --api-key-env names LEGION_TEST_UNSET_VARIABLE, which is not set in the environment (or is empty)\n',
    );
    const template = await setup(
      '--provider',
      'openai-compatible',
      '--base-url',
      fake.openaiBaseUrl,
      '--api-key',
      KEY,
      '--template',
      'nope',
    );
    expect(template.stderr).toBe(
      'error: unknown template "nope" (templates: content, devteam, sales, starter; legion templates lists them)\n',
    );
    const noYes = await legion(['setup', '--provider', 'openai'], dir);
    expect(noYes.stderr).toBe(
      'error: --provider needs --yes (without --yes, legion setup asks its questions instead)\n',
    );
    const noTerminal = await legion(['setup'], dir);
    expect(noTerminal.stderr).toContain(
      'legion setup asks its questions in an interactive terminal, and there is none here; in a script pass the answers as flags, for example: legion setup --yes --provider openai --api-key-env OPENAI_API_KEY',
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('on an existing project changes only what the flags say and keeps what the user edited', async () => {
    expect(
      (
        await setup(
          '--provider',
          'openai-compatible',
          '--base-url',
          fake.openaiBaseUrl,
          '--api-key',
          KEY,
          '--project',
          'Find leads',
        )
      ).code,
    ).toBe(0);
    appendFileSync(join(dir, 'config', 'agents.yaml'), '    # my note on the assistant\n');
    writeFileSync(
      join(dir, 'PROJECT.md'),
      `${readFileSync(join(dir, 'PROJECT.md'), 'utf8')}\n## Notes\n\nAsk Sam before any outreach.\n`,
    );
    appendFileSync(join(dir, '.env'), 'LEGION_CRED_GITHUB_TOKEN=ghp_keepme\n');
    const before = tree(dir);

    const nothing = await setup();
    expect(nothing).toMatchObject({ code: 0, stderr: '' });
    expect(nothing.stdout).toMatch(/^nothing to change/);
    expect(tree(dir)).toEqual(before);

    const added = await setup('--template', 'devteam', '--priority', 'Ship the importer');
    expect(added.stderr).toBe('');
    expect(added.stdout).toContain('agents added: pm, engineer, reviewer');
    expect(added.stdout).not.toContain('checking');
    const after = tree(dir);
    expect(after['config/agents.yaml']).toContain('# my note on the assistant');
    expect(after['PROJECT.md']).toBe(
      '# Project\n\n## What we are building\n\nFind leads\n\n## Notes\n\nAsk Sam before any outreach.\n\n## Current priority\n\nShip the importer\n',
    );
    expect(after['.env']).toBe(before['.env']);
    expect(after['config/mesh.yaml']).toBe(before['config/mesh.yaml']);
    expect(Object.keys(loadProject(dir, {}).agents)).toEqual(['assistant', 'pm', 'engineer', 'reviewer']);

    const rekey = await legion(
      ['setup', '--yes', '--skip-image', '--api-key-env', 'NEW_KEY'],
      dir,
      { NEW_KEY: KEY.toUpperCase() },
      60_000,
    );
    expect(rekey.code).toBe(1);
    expect(rekey.stderr).toContain('answered 401, the API key was rejected');
    expect(tree(dir)).toEqual(after);
  });

  it('moving to another provider unpins the agents that used the old default; start names the line of any still pinned', async () => {
    const openai = await legion(
      ['setup', '--yes', '--skip-image', '--provider', 'openai', '--api-key', KEY],
      dir,
      { LEGION_OPENAI_BASE_URL: fake.openaiBaseUrl },
      60_000,
    );
    expect(openai.stderr).toBe('');
    // The project as an older example left it: the assistant pins the default, a second agent a model of its own.
    const agentsYaml = [
      '# my fleet',
      'agents:',
      '  assistant:',
      '    role: general assistant',
      '    model: openai/gpt-4o-mini          # optional, llm.default_model otherwise',
      '    # a note that stays',
      '  writer:',
      '    role: writes',
      '    model: openai/gpt-4o',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'config', 'agents.yaml'), agentsYaml);

    const moved = await setup(
      '--provider',
      'openai-compatible',
      '--base-url',
      fake.openaiBaseUrl,
      '--api-key',
      KEY,
      '--model',
      'llama3.1',
    );
    expect(moved.stderr).toBe('');
    expect(moved.code).toBe(0);
    expect(moved.stdout).toContain('agents that now follow llm.default_model (their model: line removed): assistant');
    expect(moved.stdout).toContain(
      'kept, still on openai: writer: model openai/gpt-4o (config/agents.yaml line 8); change or remove that line if openai has no key',
    );
    expect(readFileSync(join(dir, 'config', 'agents.yaml'), 'utf8')).toBe(
      agentsYaml.replace('    model: openai/gpt-4o-mini          # optional, llm.default_model otherwise\n', ''),
    );

    // No OpenAI key anywhere: start refuses before any container, naming the agent and its line.
    writeFileSync(join(dir, '.env'), '');
    const start = await legion(['start', '-d'], dir, { OPENAI_API_KEY: '', LEGION_CRED_OPENAI_API_KEY: '' });
    expect(start.code).toBe(1);
    expect(start.stderr).toContain(
      'no API key for provider openai: set LEGION_CRED_OPENAI_API_KEY in .env or the environment (needed by writer).',
    );
    expect(start.stderr).toContain('agent writer pins model: openai/gpt-4o at config/agents.yaml line 8');
    expect(start.stderr).toContain(
      'Remove that model: line to use llm.default_model (local/llama3.1), or name a model of a provider that has a key',
    );
  });

  it('leaves `legion start` in an empty directory without a terminal with the command to run', async () => {
    const start = await legion(['start', '-d'], dir);
    expect(start.code).toBe(1);
    expect(start.stderr).toBe(
      `error: no config/mesh.yaml in ${dir}: this is not a legion project yet; run \`legion setup\` here (it asks a few questions), or in a script \`legion setup --yes --provider openai --api-key-env OPENAI_API_KEY\` (see docs/setup.md)\n`,
    );
    expect(readdirSync(dir)).toEqual([]);
  });
});
