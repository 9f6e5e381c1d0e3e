import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { anthropicClient, openAiClient } from '../../../../src/mesh/llm/clients.js';
import { normalizeProviderError } from '../../../../src/mesh/llm/errors.js';
import type { ProviderSettings } from '../../../../src/shared/config/providers.js';
import { LegionError } from '../../../../src/shared/errors.js';

const KEY = 'sk-very-secret-key-0123456789';
const openai: ProviderSettings = { name: 'openai', kind: 'openai', baseUrl: 'http://127.0.0.1:1/v1', apiKey: KEY };
const anthropic: ProviderSettings = {
  name: 'anthropic',
  kind: 'anthropic',
  baseUrl: 'https://api.anthropic.com',
  apiKey: KEY,
};

describe('normalizeProviderError', () => {
  // The mesh loads an SDK when it builds its first client; an error can only come after that.
  beforeAll(async () => {
    await openAiClient(openai);
    await anthropicClient(anthropic);
  });

  it('names the provider, its status and its own message, and scrubs an echoed key', () => {
    const sdkError = OpenAI.APIError.generate(
      401,
      { error: { message: `Incorrect API key provided: ${KEY}`, type: 'invalid_request_error' } },
      undefined,
      new Headers(),
    );
    const error = normalizeProviderError(sdkError, openai);
    expect(error.toBody()).toEqual({
      code: 'provider_error',
      message: 'openai returned 401: Incorrect API key provided: [redacted]',
      provider: 'openai',
      status: 401,
    });
    expect(error.status).toBe(502);
  });

  it('reads the message out of an Anthropic error body', () => {
    const body = {
      type: 'error',
      error: { type: 'rate_limit_error', message: 'Number of requests has exceeded your rate limit' },
    };
    const error = normalizeProviderError(Anthropic.APIError.generate(429, body, undefined, new Headers()), anthropic);
    expect(error.toBody()).toMatchObject({
      code: 'provider_error',
      status: 429,
      message: 'anthropic returned 429: Number of requests has exceeded your rate limit',
    });
  });

  it('reports an error the provider sent inside a stream without inventing a status', () => {
    const sdkError = new Anthropic.APIError(
      undefined,
      { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
      undefined,
      undefined,
    );
    expect(normalizeProviderError(sdkError, anthropic).toBody()).toEqual({
      code: 'provider_error',
      message: 'anthropic failed mid-stream: Overloaded',
      provider: 'anthropic',
    });
  });

  it('turns a connection failure into provider_unreachable with the base URL and the cause', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const sdkError = new OpenAI.APIConnectionError({ cause: new TypeError('fetch failed', { cause: refused }) });
    const error = normalizeProviderError(sdkError, openai);
    expect(error.code).toBe('provider_unreachable');
    expect(error.message).toBe(
      'cannot reach openai at http://127.0.0.1:1/v1: fetch failed: connect ECONNREFUSED 127.0.0.1:1 (ECONNREFUSED)',
    );
    expect(normalizeProviderError(new Anthropic.APIConnectionTimeoutError(), anthropic).message).toMatch(/timed out/);
  });

  it('reports a cancelled call as aborted and passes LegionErrors through', () => {
    expect(normalizeProviderError(new OpenAI.APIUserAbortError(), openai).code).toBe('aborted');
    const own = new LegionError('no_api_key', 'no key');
    expect(normalizeProviderError(own, openai)).toBe(own);
    expect(normalizeProviderError(new Error(`bad ${KEY}`), openai).message).toBe('openai call failed: bad [redacted]');
  });
});
