// $CRED{name} handles: naming, where they may stand, substitution in headers, query
// and body, and the credential store's errors (which must name the variable, never
// carry a secret).
import { describe, expect, it } from 'vitest';
import { LegionError } from '../../src/shared/errors.js';
import { HttpRequestSchema, type HttpRequest } from '../../src/shared/wire/http.js';
import { credentialVariable, requestHandles, substituteHandles } from '../../src/mesh/credentials/handles.js';
import { CredentialStore } from '../../src/mesh/credentials/store.js';

const request = (fields: Partial<HttpRequest> & { url: string }): HttpRequest =>
  HttpRequestSchema.parse({ method: 'GET', ...fields });

const SECRETS: Record<string, string> = { demo: 'demo-secret-value', 'github-token': 'ghp_"quoted"/&more=' };
const secretOf = (name: string): string => {
  const secret = SECRETS[name];
  if (secret === undefined) throw new Error(`no test secret ${name}`);
  return secret;
};

function thrown(fn: () => unknown): LegionError {
  try {
    fn();
  } catch (err) {
    if (err instanceof LegionError) return err;
    throw err;
  }
  throw new Error('expected a LegionError');
}

describe('credentialVariable', () => {
  it('upper-cases the name and turns dashes into underscores', () => {
    expect(credentialVariable('demo')).toBe('LEGION_CRED_DEMO');
    expect(credentialVariable('github-token')).toBe('LEGION_CRED_GITHUB_TOKEN');
    expect(credentialVariable('Mixed_Case-9')).toBe('LEGION_CRED_MIXED_CASE_9');
  });
});

describe('requestHandles', () => {
  it('collects handles from header values, the query string and the body, lower-cased and once each', () => {
    const handles = requestHandles(
      request({
        method: 'POST',
        url: 'https://api.example.com/v1?key=$CRED{Demo}&x=1',
        headers: { authorization: 'Bearer $CRED{github-token}', 'x-again': '$CRED{demo}' },
        body: { nested: ['$CRED{body_only}'], '$CRED{in_key}': 1 },
      }),
    );
    expect(handles).toEqual(['demo', 'github-token', 'body_only', 'in_key']);
  });

  it('finds none in a request without handles', () => {
    expect(requestHandles(request({ url: 'https://example.com/a?b=c', body: 'plain' }))).toEqual([]);
  });

  it.each([
    ['path', 'https://example.com/$CRED{demo}/x', "the URL's path"],
    ['host', 'https://$CRED{demo}.example.com/', "the URL's host"],
    ['user info', 'https://user:$CRED{demo}@example.com/', "the URL's user or password"],
    ['fragment', 'https://example.com/#$CRED{demo}', "the URL's fragment"],
    ['percent-encoded path', 'https://example.com/%24CRED%7Bdemo%7D', "the URL's path"],
  ])('refuses a handle in the %s', (_label, url, where) => {
    const error = thrown(() => requestHandles(request({ url })));
    expect(error.code).toBe('credential_handle_misplaced');
    expect(error.status).toBe(400);
    expect(error.message).toContain(where);
  });

  it.each(['$CRED{}', '$CRED{two words}', '$CRED{demo', '$CRED{dé}'])('refuses the malformed handle %s', (text) => {
    const error = thrown(() => requestHandles(request({ url: 'https://example.com/', headers: { 'x-key': text } })));
    expect(error.code).toBe('credential_handle_invalid');
    expect(error.message).toContain('header x-key');
  });
});

describe('substituteHandles', () => {
  it('puts secrets in header values as they are', () => {
    const out = substituteHandles(
      request({ url: 'https://example.com/', headers: { authorization: 'Bearer $CRED{demo}', 'x-plain': 'v' } }),
      secretOf,
    );
    expect(out.headers).toEqual({ authorization: 'Bearer demo-secret-value', 'x-plain': 'v' });
    expect(out.body).toBeNull();
  });

  it('percent-encodes secrets in the query string and leaves the rest of the URL alone', () => {
    const out = substituteHandles(
      request({ url: 'https://example.com/p/a?token=$CRED{github-token}&q=x%20y' }),
      secretOf,
    );
    expect(out.url.searchParams.get('token')).toBe(SECRETS['github-token']);
    expect(out.url.search).toBe(`?token=${encodeURIComponent(SECRETS['github-token'] ?? '')}&q=x%20y`);
    expect(out.url.pathname).toBe('/p/a');
  });

  it('replaces handles in a string body as is', () => {
    const out = substituteHandles(
      request({ method: 'POST', url: 'https://example.com/', body: 'key=$CRED{demo}&a=1' }),
      secretOf,
    );
    expect(out.body).toBe('key=demo-secret-value&a=1');
    expect(out.headers).toEqual({});
  });

  it('escapes secrets inside a JSON body and sets its content type', () => {
    const out = substituteHandles(
      request({ method: 'POST', url: 'https://example.com/', body: { auth: { token: '$CRED{github-token}' }, n: 1 } }),
      secretOf,
    );
    expect(JSON.parse(out.body ?? '')).toEqual({ auth: { token: SECRETS['github-token'] }, n: 1 });
    expect(out.headers['content-type']).toBe('application/json');
  });

  it("keeps the agent's own content type for a JSON body", () => {
    const out = substituteHandles(
      request({
        method: 'POST',
        url: 'https://example.com/',
        headers: { 'Content-Type': 'application/vnd.api+json' },
        body: [1],
      }),
      secretOf,
    );
    expect(out.headers).toEqual({ 'Content-Type': 'application/vnd.api+json' });
  });

  it('resolves handles case-insensitively', () => {
    const out = substituteHandles(request({ url: 'https://example.com/', headers: { a: '$CRED{DEMO}' } }), secretOf);
    expect(out.headers.a).toBe('demo-secret-value');
  });
});

describe('CredentialStore', () => {
  const store = (env: Record<string, string>) => new CredentialStore(() => env);

  it('reads LEGION_CRED_<NAME> for a handle', () => {
    expect(store({ LEGION_CRED_GITHUB_TOKEN: 'ghp_0123456789' }).secret('github-token')).toBe('ghp_0123456789');
  });

  it('names the variable to set when there is none, or it is empty', () => {
    for (const env of [{}, { LEGION_CRED_DEMO: '' }] as Record<string, string>[]) {
      const error = thrown(() => store(env).secret('demo'));
      expect(error.code).toBe('credential_missing');
      expect(error.message).toContain('set LEGION_CRED_DEMO');
    }
  });

  it('refuses a value too short to scrub, without showing it', () => {
    const error = thrown(() => store({ LEGION_CRED_DEMO: 'abc12' }).secret('demo'));
    expect(error.code).toBe('credential_too_short');
    expect(error.message).toContain('LEGION_CRED_DEMO');
    expect(error.message).not.toContain('abc12');
  });

  it('scrubs every LEGION_CRED_* value, not only the one a request used, and nothing else', () => {
    const scrubber = store({
      LEGION_CRED_DEMO: 'demo-secret-value',
      LEGION_CRED_OPENAI_API_KEY: 'sk-provider-key-123',
      LEGION_OTHER: 'not-a-secret-at-all',
    }).scrubber();
    expect(scrubber.scrub('a demo-secret-value b sk-provider-key-123 c not-a-secret-at-all')).toBe(
      'a [REDACTED] b [REDACTED] c not-a-secret-at-all',
    );
  });
});
