// Config errors name the file, the key path and what was expected.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { agentLlmSettings, ConfigError, loadProject } from '../../src/shared/config/project.js';

const dirs: string[] = [];
function project(mesh: string, agents?: string, env?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'legion-config-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'config'));
  writeFileSync(join(dir, 'config', 'mesh.yaml'), mesh);
  if (agents !== undefined) writeFileSync(join(dir, 'config', 'agents.yaml'), agents);
  if (env !== undefined) writeFileSync(join(dir, '.env'), env);
  return dir;
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const MESH = 'llm:\n  default_model: openai/gpt-4o-mini\n';

function errorLines(dir: string): string[] {
  try {
    loadProject(dir, {});
  } catch (err) {
    if (err instanceof ConfigError) return err.lines;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadProject', () => {
  it('applies the documented defaults', () => {
    const loaded = loadProject(project(MESH, 'agents:\n  assistant:\n    role: helper\n'), {});
    expect(loaded.mesh.mesh).toEqual({
      host: '127.0.0.1',
      port: 8420,
      lane_depth_cap: 100,
      health: { interval_ms: 2000, failed_checks: 3, max_restarts_per_hour: 10 },
    });
    expect(loaded.agents.assistant).toEqual({
      role: 'helper',
      system_prompt: '',
      resources: { memory_limit: '512m', cpu_limit: 0.5 },
      max_tool_rounds: 10,
      browser: false,
      browser_idle_timeout_s: 300,
      mcp_servers: [],
      subscriptions: [],
      skills: [],
    });
  });

  it('names file, key path and expected type', () => {
    expect(
      errorLines(project(MESH, 'agents:\n  researcher:\n    role: r\n    resources: { cpu_limit: "half" }\n')),
    ).toEqual(['config/agents.yaml: agents.researcher.resources.cpu_limit: expected a number']);
    expect(errorLines(project('mesh: { port: "x" }\n' + MESH))).toEqual([
      'config/mesh.yaml: mesh.port: expected a number',
    ]);
  });

  it('rejects unknown keys by name', () => {
    expect(errorLines(project(MESH + 'llm_typo: 1\n'))).toEqual(['config/mesh.yaml: unknown key "llm_typo"']);
    expect(
      errorLines(project(MESH, 'agents:\n  a:\n    role: r\n    budget: { daily_usd: 5, weekly_usd: 20 }\n')),
    ).toEqual(['config/agents.yaml: agents.a.budget: unknown key "weekly_usd"']);
  });

  it('rejects bad agent names, model references and providers', () => {
    expect(errorLines(project(MESH, 'agents:\n  Big_Name:\n    role: r\n'))[0]).toMatch(
      /^config\/agents\.yaml: agents\.Big_Name: .*lowercase/,
    );
    expect(errorLines(project(MESH, 'agents:\n  a:\n    role: r\n    model: gpt-4o\n'))[0]).toMatch(
      /agents\.a\.model: expected "provider\/model"/,
    );
    expect(errorLines(project(MESH, 'agents:\n  a:\n    role: r\n    model: mistral/large\n'))).toEqual([
      expect.stringMatching(/^config\/agents\.yaml: agents\.a\.model: unknown provider "mistral"/),
    ]);
    expect(errorLines(project(MESH + '  providers:\n    local: { base_url: http://127.0.0.1:1/v1 }\n'))[0]).toMatch(
      /llm\.providers\.local\.kind/,
    );
  });

  it('reports YAML syntax errors with the file name', () => {
    expect(errorLines(project('llm: [unclosed\n'))[0]).toMatch(/^config\/mesh\.yaml: /);
  });

  it('shows the offending line of a YAML syntax error with a caret under the column', () => {
    const agents = 'agents:\n  assistant:\n    role: x\n    model openai/gpt-4o\n    system_prompt: y\n';
    expect(errorLines(project(MESH, agents))[0]).toBe(
      'config/agents.yaml: line 4, column 5: Implicit keys need to be on a single line\n      model openai/gpt-4o\n      ^',
    );
  });

  it('takes keys from .env, with the environment winning', () => {
    const dir = project(
      MESH,
      undefined,
      'LEGION_CRED_OPENAI_API_KEY=from-file\nLEGION_CRED_ANTHROPIC_API_KEY=file-anthropic\n',
    );
    const loaded = loadProject(dir, { LEGION_CRED_OPENAI_API_KEY: 'from-env', HOME: '/root' });
    expect(loaded.env.LEGION_CRED_OPENAI_API_KEY).toBe('from-env');
    expect(loaded.env.LEGION_CRED_ANTHROPIC_API_KEY).toBe('file-anthropic');
    expect(loaded.env.HOME).toBeUndefined();
  });

  it('says when the directory is not a project', () => {
    const dir = mkdtempSync(join(tmpdir(), 'legion-none-'));
    dirs.push(dir);
    expect(() => loadProject(dir, {})).toThrow(/config\/mesh\.yaml: not found/);
  });
});

describe('embeddings and memory settings', () => {
  it('leaves embeddings off and applies the memory defaults', () => {
    const loaded = loadProject(project(MESH), {});
    expect(loaded.mesh.llm.embedding_model).toBeUndefined();
    expect(loaded.mesh.memory).toEqual({ vector_weight: 0.3 });
  });

  it('takes an OpenAI-kind embedding model and the memory settings', () => {
    const mesh = `${MESH}  embedding_model: local/nomic-embed-text\n  providers:\n    local: { kind: openai, base_url: http://127.0.0.1:11434/v1 }\nmemory: { vector_weight: 0.5, recency_half_life_days: 14 }\n`;
    const loaded = loadProject(project(mesh), {});
    expect(loaded.mesh.llm.embedding_model).toBe('local/nomic-embed-text');
    expect(loaded.mesh.memory).toEqual({ vector_weight: 0.5, recency_half_life_days: 14 });
  });

  it('refuses an embedding model of an Anthropic provider, naming the key and a fix', () => {
    const message =
      'config/mesh.yaml: llm.embedding_model: provider "anthropic" is an Anthropic provider, which has no embeddings API; name a model of an OpenAI-compatible provider (kind: openai), for example openai/text-embedding-3-small';
    expect(errorLines(project(`${MESH}  embedding_model: anthropic/claude-embed\n`))).toEqual([message]);
    const custom = `${MESH}  embedding_model: claude/x\n  providers:\n    claude: { kind: anthropic }\n`;
    expect(errorLines(project(custom))).toEqual([message.replace('"anthropic"', '"claude"')]);
  });

  it('refuses an embedding model of an unknown provider or without a provider', () => {
    expect(errorLines(project(`${MESH}  embedding_model: mistral/embed\n`))).toEqual([
      expect.stringMatching(/^config\/mesh\.yaml: llm\.embedding_model: unknown provider "mistral"/),
    ]);
    expect(errorLines(project(`${MESH}  embedding_model: text-embedding-3-small\n`))[0]).toMatch(
      /^config\/mesh\.yaml: llm\.embedding_model: expected "provider\/model"/,
    );
  });

  it('bounds the memory settings and names unknown keys', () => {
    expect(errorLines(project(`${MESH}memory: { vector_weight: 1.5 }\n`))[0]).toMatch(
      /^config\/mesh\.yaml: memory\.vector_weight: /,
    );
    expect(errorLines(project(`${MESH}memory: { recency_half_life_days: 0 }\n`))[0]).toMatch(
      /^config\/mesh\.yaml: memory\.recency_half_life_days: /,
    );
    expect(errorLines(project(`${MESH}memory: { vector_wieght: 0.2 }\n`))[0]).toMatch(
      /memory: unknown key "vector_wieght"/,
    );
  });

  it('takes llm.max_tokens and llm.temperature, with per-agent overrides', () => {
    const loaded = loadProject(
      project(
        `${MESH}  max_tokens: 2048\n  temperature: 0.3\n`,
        'agents:\n  a:\n    role: x\n  b:\n    role: y\n    max_tokens: 512\n    temperature: 0\n',
      ),
      {},
    );
    expect(agentLlmSettings(loaded, 'a')).toEqual({ max_tokens: 2048, temperature: 0.3 });
    expect(agentLlmSettings(loaded, 'b')).toEqual({ max_tokens: 512, temperature: 0 });
    expect(agentLlmSettings(loadProject(project(MESH, 'agents:\n  a:\n    role: x\n'), {}), 'a')).toEqual({});
  });

  it('refuses a max_tokens that is not a positive whole number and a temperature outside 0..2', () => {
    expect(errorLines(project(`${MESH}  max_tokens: 0\n`))).toEqual([
      'config/mesh.yaml: llm.max_tokens: expected a positive whole number of tokens',
    ]);
    expect(errorLines(project(`${MESH}  max_tokens: 10.5\n`))).toEqual([
      'config/mesh.yaml: llm.max_tokens: expected an int',
    ]);
    expect(errorLines(project(`${MESH}  temperature: 2.5\n`))).toEqual([
      'config/mesh.yaml: llm.temperature: expected a temperature from 0 to 2',
    ]);
    expect(errorLines(project(MESH, 'agents:\n  a:\n    role: x\n    temperature: -1\n'))).toEqual([
      'config/agents.yaml: agents.a.temperature: expected a temperature from 0 to 2',
    ]);
  });
});
