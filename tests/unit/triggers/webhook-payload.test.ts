// Webhook bodies by content type (JSON, form, text; others refused) and the message
// template's placeholders, which never reach beyond the payload's own fields.
import { describe, expect, it } from 'vitest';
import { parseWebhookPayload } from '../../../src/mesh/triggers/webhooks/payload.js';
import { MAX_MESSAGE_CHARS, renderWebhookMessage } from '../../../src/mesh/triggers/webhooks/template.js';

const parse = (contentType: string | undefined, body: string) => parseWebhookPayload(contentType, Buffer.from(body));

describe('webhook payloads', () => {
  it('parses JSON, including +json media types and charset parameters', () => {
    expect(parse('application/json; charset=utf-8', '{"a":{"b":[1,2]}}')).toEqual({
      ok: true,
      kind: 'json',
      value: { a: { b: [1, 2] } },
    });
    expect(parse('application/vnd.github+json', '[1]')).toEqual({ ok: true, kind: 'json', value: [1] });
  });

  it('refuses JSON that does not parse with a 400', () => {
    expect(parse('application/json', '{"a":')).toMatchObject({ ok: false, code: 'invalid_json' });
  });

  it('turns a form into an object, a repeated field into a list', () => {
    expect(parse('application/x-www-form-urlencoded', 'name=Ada+Lovelace&tag=a&tag=b&empty=')).toEqual({
      ok: true,
      kind: 'form',
      value: { name: 'Ada Lovelace', tag: ['a', 'b'], empty: '' },
    });
  });

  it('keeps text, XML and bodies without a content type as text', () => {
    expect(parse('text/plain', 'hello there')).toEqual({ ok: true, kind: 'text', value: 'hello there' });
    expect(parse('application/xml', '<a/>')).toEqual({ ok: true, kind: 'text', value: '<a/>' });
    expect(parse(undefined, 'raw')).toEqual({ ok: true, kind: 'text', value: 'raw' });
  });

  it('refuses other media types with a 415 that says what is accepted', () => {
    const refused = parse('application/octet-stream', 'x');
    expect(refused).toMatchObject({ ok: false, code: 'unsupported_media_type' });
    expect(!refused.ok && refused.reason).toContain('JSON, form (application/x-www-form-urlencoded) or text');
  });
});

describe('webhook message templates', () => {
  const payload = { value: 'hello', n: 3, ok: true, nested: { list: ['x', { y: 1 }] }, nothing: null };

  it('fills {payload.field} with strings as they are and other values as JSON', () => {
    expect(
      renderWebhookMessage('v={payload.value} n={payload.n} ok={payload.ok} null={payload.nothing}', payload),
    ).toBe('v=hello n=3 ok=true null=null');
    expect(renderWebhookMessage('{payload.nested.list.0} {payload.nested.list.1.y}', payload)).toBe('x 1');
  });

  it('fills {payload} with the whole payload: text as text, objects as JSON', () => {
    expect(renderWebhookMessage('got: {payload}', 'plain text')).toBe('got: plain text');
    expect(renderWebhookMessage('{payload}', { a: 1 })).toBe('{\n  "a": 1\n}');
  });

  it('leaves other braces alone, so a template can hold JSON', () => {
    expect(renderWebhookMessage('call write_file {"path":"hook.txt","content":"{payload.value}"}', payload)).toBe(
      'call write_file {"path":"hook.txt","content":"hello"}',
    );
    expect(renderWebhookMessage('{name} {payloads} {payload.}', payload)).toBe('{name} {payloads} {payload.}');
  });

  it("renders a missing field as nothing and never reaches beyond the payload's own fields", () => {
    expect(renderWebhookMessage('[{payload.missing.deep}]', payload)).toBe('[]');
    expect(
      renderWebhookMessage('[{payload.constructor}] [{payload.value.length}] [{payload.__proto__}]', payload),
    ).toBe('[] [] []');
    expect(renderWebhookMessage('[{payload.value}]', 'text has no fields')).toBe('[]');
  });

  it('caps a huge message with a visible marker', () => {
    const text = renderWebhookMessage('{payload}', 'x'.repeat(MAX_MESSAGE_CHARS + 10));
    expect(text.startsWith('x'.repeat(MAX_MESSAGE_CHARS))).toBe(true);
    expect(text).toMatch(/\[\.\.\. truncated: 10 more characters of the webhook message\]$/);
  });
});
