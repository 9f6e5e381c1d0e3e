import { afterEach, describe, expect, it } from 'vitest';
import {
  apiKeyFor,
  assertKeysConfigured,
  KEYLESS_PLACEHOLDER,
  resolveProviders,
} from '../../../../src/shared/config/providers.js';
import { LegionError } from '../../../../src/shared/errors.js';
import { loadLlmProject, type LlmProjectFiles } from '../../../helpers/llm-project.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

function registryOf(files: LlmProjectFiles) {
  const { project, cleanup } = loadLlmProject(files);
  cleanups.push(cleanup);
  return resolveProviders(project);
}

function errorOf(action: () => unknown): LegionError {
  try {
    action();
  } catch (err) {
    if (err instanceof LegionError) return err;
    throw err;
  }
  throw new Error('expected a LegionError');
}

describe('resolveProviders', () => {
  it('always knows openai and anthropic, with their kinds and public base URLs', () => {
    const registry = registryOf({});
    expect([...registry.values()]).toEqual([
      { name: 'openai', kind: 'openai', baseUrl: 'https://api.openai.com/v1', apiKey: null },
      { name: 'anthropic', kind: 'anthropic', baseUrl: 'https://api.anthropic.com', apiKey: null },
    ]);
  });

  it('takes keys from .env and the LEGION_ process environment, the latter winning', () => {
    const registry = registryOf({
      dotEnv: { LEGION_CRED_OPENAI_API_KEY: 'sk-from-dotenv', LEGION_CRED_ANTHROPIC_API_KEY: 'sk-ant-dotenv' },
      processEnv: { LEGION_CRED_ANTHROPIC_API_KEY: 'sk-ant-process' },
    });
    expect(registry.get('openai')?.apiKey).toBe('sk-from-dotenv');
    expect(registry.get('anthropic')?.apiKey).toBe('sk-ant-process');
  });

  it('reads declared providers, their kind, base_url, and variables named after them', () => {
    const registry = registryOf({
      providers: [
        'my-local: { kind: openai, base_url: "http://127.0.0.1:11434/v1" }',
        'claude-proxy: { kind: anthropic }',
      ],
      dotEnv: { LEGION_CRED_MY_LOCAL_API_KEY: 'local-key', LEGION_CLAUDE_PROXY_BASE_URL: 'http://10.0.0.2:8080' },
    });
    expect(registry.get('my-local')).toEqual({
      name: 'my-local',
      kind: 'openai',
      baseUrl: 'http://127.0.0.1:11434/v1',
      apiKey: 'local-key',
    });
    expect(registry.get('claude-proxy')).toEqual({
      name: 'claude-proxy',
      kind: 'anthropic',
      baseUrl: 'http://10.0.0.2:8080',
      apiKey: null,
    });
  });

  it('lets LEGION_OPENAI_BASE_URL override the configured base_url', () => {
    const registry = registryOf({
      providers: ['openai: { base_url: "http://configured.example/v1" }'],
      processEnv: { LEGION_OPENAI_BASE_URL: 'http://127.0.0.1:9999/v1' },
    });
    expect(registry.get('openai')?.baseUrl).toBe('http://127.0.0.1:9999/v1');
  });

  it('rejects a base-URL override that is not a URL, naming the variable', () => {
    const { project, cleanup } = loadLlmProject({ processEnv: { LEGION_ANTHROPIC_BASE_URL: 'localhost port 80' } });
    cleanups.push(cleanup);
    expect(() => resolveProviders(project)).toThrow(/LEGION_ANTHROPIC_BASE_URL: expected a URL/);
  });
});

describe('apiKeyFor', () => {
  it('returns the configured key', () => {
    const openai = registryOf({ dotEnv: { LEGION_CRED_OPENAI_API_KEY: 'sk-1' } }).get('openai');
    expect(openai && apiKeyFor(openai)).toBe('sk-1');
  });

  it('lets a keyless OpenAI-compatible local server run with a placeholder', () => {
    const registry = registryOf({ providers: ['ollama: { kind: openai, base_url: "http://127.0.0.1:11434/v1" }'] });
    const ollama = registry.get('ollama');
    expect(ollama && apiKeyFor(ollama)).toBe(KEYLESS_PLACEHOLDER);
  });

  it('refuses api.openai.com and Anthropic without a key, saying which variable to set', () => {
    const registry = registryOf({});
    const openai = registry.get('openai');
    const anthropic = registry.get('anthropic');
    if (!openai || !anthropic) throw new Error('built-in providers missing');
    const error = errorOf(() => apiKeyFor(openai));
    expect(error.code).toBe('no_api_key');
    expect(error.status).toBe(503);
    expect(error.message).toBe(
      'no API key for provider openai: set LEGION_CRED_OPENAI_API_KEY in .env or the environment',
    );
    expect(errorOf(() => apiKeyFor(anthropic)).message).toMatch(/LEGION_CRED_ANTHROPIC_API_KEY/);
  });
});

describe('assertKeysConfigured', () => {
  it('names the agents whose provider has no key', () => {
    const { project, cleanup } = loadLlmProject({
      agents: { writer: 'anthropic/claude-test', coder: 'openai/gpt-test', critic: 'anthropic/claude-test' },
      dotEnv: { LEGION_CRED_OPENAI_API_KEY: 'sk-1' },
    });
    cleanups.push(cleanup);
    const error = errorOf(() => assertKeysConfigured(project));
    expect(error.code).toBe('no_api_key');
    expect(error.message).toMatch(/LEGION_CRED_ANTHROPIC_API_KEY .*\(needed by writer, critic\)\.$/m);
    // Both pin the model themselves: each is named with the line to change.
    expect(error.message).toContain('agent writer pins model: anthropic/claude-test at config/agents.yaml line');
    expect(error.message).toContain('agent critic pins model: anthropic/claude-test at config/agents.yaml line');
    expect(error.message).toContain('Remove that model: line to use llm.default_model (openai/gpt-test)');
  });

  it('names llm.embedding_model when its provider has no key', () => {
    const { project, cleanup } = loadLlmProject({
      agents: { coder: 'anthropic/claude-test' },
      embeddingModel: 'openai/text-embedding-3-small',
      dotEnv: { LEGION_CRED_ANTHROPIC_API_KEY: 'sk-ant-1' },
    });
    cleanups.push(cleanup);
    expect(errorOf(() => assertKeysConfigured(project)).message).toMatch(
      /LEGION_CRED_OPENAI_API_KEY .*\(needed by llm\.embedding_model\)$/,
    );
  });

  it('passes when every agent can call its provider', () => {
    const { project, cleanup } = loadLlmProject({
      providers: ['local: { kind: openai, base_url: "http://127.0.0.1:11434/v1" }'],
      agents: { coder: 'local/llama3' },
      defaultModel: 'anthropic/claude-test',
    });
    cleanups.push(cleanup);
    expect(() => assertKeysConfigured(project)).not.toThrow();
  });
});
