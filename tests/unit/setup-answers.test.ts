// `legion setup --yes` flags: what a script may pass, the defaults it gets, and the
// errors that name the flag that is wrong or missing.
import { describe, expect, it } from 'vitest';
import {
  compatibleProviderName,
  requestFromFlags,
  type CurrentLlm,
  type SetupFlags,
} from '../../src/cli/setup/answers.js';

const env: NodeJS.ProcessEnv = { MY_KEY: 'sk-from-env', EMPTY_KEY: '' };
const fresh = (flags: SetupFlags) => requestFromFlags({ yes: true, ...flags }, null, env);
const errorOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  throw new Error('expected an error');
};

describe('legion setup --yes on a new project', () => {
  it('fills in the per-provider defaults and the starter template', () => {
    expect(fresh({ provider: 'openai', apiKey: 'sk-1' })).toEqual({
      llm: { choice: 'openai', name: 'openai', kind: 'openai', baseUrl: null, model: 'gpt-4o-mini' },
      apiKey: 'sk-1',
      template: 'starter',
      brief: { building: undefined, priority: undefined, constraints: undefined },
      port: null,
    });
    expect(fresh({ provider: 'anthropic', apiKey: 'k' }).llm).toEqual({
      choice: 'anthropic',
      name: 'anthropic',
      kind: 'anthropic',
      baseUrl: null,
      model: 'claude-haiku-4-5',
    });
  });

  it('names an OpenAI-compatible server after its host and needs no key for it', () => {
    const request = fresh({
      provider: 'openai-compatible',
      baseUrl: 'http://127.0.0.1:11434/v1',
      template: 'sales',
      project: ' Find leads ',
      port: '9000',
    });
    expect(request.llm).toEqual({
      choice: 'openai-compatible',
      name: 'ollama',
      kind: 'openai',
      baseUrl: 'http://127.0.0.1:11434/v1',
      model: 'llama3.1',
    });
    expect(request.apiKey).toBeNull();
    expect(request.template).toBe('sales');
    expect(request.brief.building).toBe('Find leads');
    expect(request.port).toBe(9000);
  });

  it('reads the key from the variable --api-key-env names', () => {
    expect(fresh({ provider: 'openai', apiKeyEnv: 'MY_KEY' }).apiKey).toBe('sk-from-env');
  });

  it.each<[SetupFlags, string]>([
    [
      {},
      '--provider is required with --yes in a directory without config/mesh.yaml (one of openai, anthropic, openai-compatible)',
    ],
    [{ provider: 'mistral' }, '--provider must be one of openai, anthropic, openai-compatible, not "mistral"'],
    [{ provider: 'openai-compatible' }, '--base-url is required with --provider openai-compatible'],
    [
      { provider: 'openai-compatible', baseUrl: 'localhost:11434' },
      '--base-url: expected an http:// or https:// URL, got "localhost:11434"',
    ],
    [
      { provider: 'openai-compatible', baseUrl: 'not a url' },
      '--base-url: expected a URL such as http://127.0.0.1:11434/v1, got "not a url"',
    ],
    [{ provider: 'openai' }, '--api-key or --api-key-env is required with --provider openai'],
    [{ provider: 'anthropic' }, '--api-key or --api-key-env is required with --provider anthropic'],
    [
      { provider: 'openai', apiKey: 'a', apiKeyEnv: 'MY_KEY' },
      '--api-key and --api-key-env are mutually exclusive: pass the key one way',
    ],
    [
      { provider: 'openai', apiKeyEnv: 'NOT_SET_ANYWHERE' },
      '--api-key-env names NOT_SET_ANYWHERE, which is not set in the environment (or is empty)',
    ],
    [
      { provider: 'openai', apiKeyEnv: 'EMPTY_KEY' },
      '--api-key-env names EMPTY_KEY, which is not set in the environment (or is empty)',
    ],
    [{ provider: 'openai', apiKey: '' }, '--api-key: the API key is empty'],
    [
      { provider: 'openai', apiKey: 'sk one' },
      '--api-key: the API key holds spaces, quotes, # or characters outside printable ASCII, which no provider key has: check what was pasted',
    ],
    [{ provider: 'openai', apiKey: 'k', model: 'gpt 4' }, '--model: a model name has no spaces, got "gpt 4"'],
    [
      { provider: 'openai', apiKey: 'k', port: '65535' },
      '--port: expected a port number from 1 to 65534 (the egress proxy takes the next one), got "65535"',
    ],
    [
      { provider: 'openai', apiKey: 'k', port: '80a' },
      '--port: expected a port number from 1 to 65534 (the egress proxy takes the next one), got "80a"',
    ],
    [{ provider: 'openai', apiKey: 'k', template: ' ' }, '--template: expected a template name such as starter'],
  ])('%o is refused with a message naming the flag', (flags, message) => {
    expect(errorOf(() => fresh(flags))).toBe(message);
  });

  it('never puts the key into a message', () => {
    expect(errorOf(() => fresh({ provider: 'openai', apiKey: 'sk-secret#1' }))).not.toContain('sk-secret');
  });
});

describe('legion setup --yes on an existing project', () => {
  const current: CurrentLlm = {
    name: 'openai',
    kind: 'openai',
    baseUrl: null,
    model: 'gpt-4o',
    keyedProviders: ['openai'],
  };
  const existing = (flags: SetupFlags) => requestFromFlags({ yes: true, ...flags }, current, env);

  it('changes nothing the flags do not name', () => {
    expect(existing({})).toEqual({
      llm: null,
      apiKey: null,
      template: null,
      brief: { building: undefined, priority: undefined, constraints: undefined },
      port: null,
    });
    expect(existing({ apiKey: 'sk-new' })).toMatchObject({ llm: null, apiKey: 'sk-new', template: null });
    expect(existing({ template: 'sales' })).toMatchObject({ llm: null, apiKey: null, template: 'sales' });
  });

  it('keeps the current model when the provider stays, and the provider when only --model is given', () => {
    expect(existing({ provider: 'openai' }).llm?.model).toBe('gpt-4o');
    expect(existing({ model: 'gpt-4.1' }).llm).toEqual({
      choice: 'openai',
      name: 'openai',
      kind: 'openai',
      baseUrl: null,
      model: 'gpt-4.1',
    });
  });

  it('asks for a key only for a provider that has none yet', () => {
    expect(errorOf(() => existing({ provider: 'anthropic' }))).toBe(
      '--api-key or --api-key-env is required: provider anthropic has no key in .env or the environment yet',
    );
    expect(existing({ provider: 'anthropic', apiKey: 'k' }).llm?.name).toBe('anthropic');
    expect(existing({ provider: 'openai-compatible', baseUrl: 'http://localhost:8000/v1' }).llm?.name).toBe('local');
  });
});

describe('compatibleProviderName', () => {
  it.each([
    ['http://127.0.0.1:11434/v1', 'ollama'],
    ['http://localhost:8000/v1', 'local'],
    ['http://[::1]:8000/v1', 'local'],
    ['http://10.0.0.7:8000/v1', 'local'],
    ['http://gpu-box:8000/v1', 'local'],
    ['https://api.groq.com/openai/v1', 'groq'],
    ['https://api.together.xyz/v1', 'together'],
    ['https://api.openai.com/v1', 'compatible'],
  ])('%s is called %s', (url, name) => {
    expect(compatibleProviderName(url)).toBe(name);
  });
});
