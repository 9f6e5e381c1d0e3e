// legion doctor's key check: every provider in use (default model, agents' models,
// embedding model) has a key, from .env or the environment, or is a local
// OpenAI-compatible server that needs none. A key never appears in what it says.
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkKeys, providersInUse } from '../../src/cli/doctor/keys.js';
import { loadProject } from '../../src/shared/config/project.js';
import { makeProject, type TestProject } from '../helpers/project.js';

const projects: TestProject[] = [];
afterEach(() => projects.splice(0).forEach((p) => p.cleanup()));

function project(options: { meshYaml?: string; agentsYaml?: string; apiKey?: string | null } = {}): TestProject {
  const p = makeProject({ port: 8420, ...options });
  projects.push(p);
  return p;
}

const MESH_TWO_PROVIDERS =
  'llm:\n  default_model: openai/gpt-4o-mini\n  embedding_model: openai/text-embedding-3-small\n  providers:\n    openai: {}\n    anthropic: {}\n';
const AGENTS_TWO_PROVIDERS =
  'agents:\n  writer:\n    role: writes\n  critic:\n    role: critiques\n    model: anthropic/claude-3-5-haiku-latest\n';

describe('providersInUse', () => {
  it('lists each provider with what uses it', () => {
    const p = project({ meshYaml: MESH_TWO_PROVIDERS, agentsYaml: AGENTS_TWO_PROVIDERS });
    expect(providersInUse(loadProject(p.dir, {}))).toEqual(
      new Map([
        ['openai', ['llm.default_model', 'agent writer', 'llm.embedding_model']],
        ['anthropic', ['agent critic']],
      ]),
    );
  });
});

describe('checkKeys', () => {
  it('passes a key set in .env and says where it came from, never what it is', () => {
    const p = project();
    const results = checkKeys(loadProject(p.dir, {}), {});
    expect(results).toEqual([
      {
        check: 'key openai',
        status: 'ok',
        detail: 'LEGION_CRED_OPENAI_API_KEY is set in .env (used by llm.default_model, agent assistant)',
      },
    ]);
    expect(JSON.stringify(results)).not.toMatch(/sk-/);
  });

  it('passes a key from the environment', () => {
    const p = project({ apiKey: null });
    const env = { LEGION_CRED_OPENAI_API_KEY: 'sk-from-the-environment-123456' };
    const results = checkKeys(loadProject(p.dir, env), env);
    expect(results).toMatchObject([{ status: 'ok', detail: expect.stringContaining('is set in the environment') }]);
    expect(JSON.stringify(results)).not.toContain('sk-');
  });

  it('fails a provider in use without a key, naming the variable and who needs it', () => {
    const p = project({ meshYaml: MESH_TWO_PROVIDERS, agentsYaml: AGENTS_TWO_PROVIDERS });
    const results = checkKeys(loadProject(p.dir, {}), {});
    expect(results).toEqual([
      {
        check: 'key openai',
        status: 'ok',
        detail:
          'LEGION_CRED_OPENAI_API_KEY is set in .env (used by llm.default_model, agent writer, llm.embedding_model)',
      },
      {
        check: 'key anthropic',
        status: 'fail',
        detail: 'no API key for provider anthropic (used by agent critic)',
        hint: 'set LEGION_CRED_ANTHROPIC_API_KEY in .env (keep it mode 0600) or the environment',
      },
    ]);
    expect(JSON.stringify(results)).not.toMatch(/sk-/);
  });

  it('needs no key for a local OpenAI-compatible server, and shows its URL without credentials', () => {
    const p = project({
      apiKey: null,
      meshYaml:
        'llm:\n  default_model: ollama/llama3.1\n  providers:\n    ollama: { kind: openai, base_url: "http://user:pw@127.0.0.1:11434/v1" }\n',
    });
    const results = checkKeys(loadProject(p.dir, {}), {});
    expect(results).toEqual([
      {
        check: 'key ollama',
        status: 'ok',
        detail:
          'no key needed: http://127.0.0.1:11434/v1 is an OpenAI-compatible server of its own (used by llm.default_model, agent assistant)',
      },
    ]);
  });

  it('fails the default OpenAI endpoint without a key', () => {
    const p = project({ apiKey: null });
    expect(checkKeys(loadProject(p.dir, {}), {})).toMatchObject([
      { check: 'key openai', status: 'fail', hint: expect.stringContaining('LEGION_CRED_OPENAI_API_KEY') },
    ]);
  });

  it('fails a base-URL override that is not a URL', () => {
    const p = project();
    writeFileSync(join(p.dir, '.env'), `LEGION_CRED_OPENAI_API_KEY=${p.secret}\nLEGION_OPENAI_BASE_URL=not a url\n`, {
      mode: 0o600,
    });
    const results = checkKeys(loadProject(p.dir, {}), {});
    expect(results).toMatchObject([
      { check: 'keys', status: 'fail', detail: expect.stringContaining('LEGION_OPENAI_BASE_URL: expected a URL') },
    ]);
    expect(JSON.stringify(results)).not.toMatch(/sk-/);
  });
});
