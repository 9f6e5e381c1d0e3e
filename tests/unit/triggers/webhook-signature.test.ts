// Webhook signatures as a sender computes them by hand: accepted when right and recent,
// refused with a reason otherwise, compared in constant time, secrets never echoed.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  digestMatches,
  SIGNATURE_WINDOW_S,
  signWebhook,
  verifyWebhookSignature,
} from '../../../src/mesh/triggers/webhooks/signature.js';

// Wraps the real timingSafeEqual so the tests can see the comparison go through it.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const SECRET = 'a-shared-secret';
const NOW = 1_750_000_000;
const BODY = Buffer.from('{"value":"hello"}');

function check(
  overrides: {
    secret?: string;
    timestamp?: string | string[] | undefined;
    signature?: string | string[] | undefined;
    body?: Buffer;
    nowS?: number;
  } = {},
) {
  const timestamp = 'timestamp' in overrides ? overrides.timestamp : String(NOW);
  const signature = 'signature' in overrides ? overrides.signature : signWebhook(SECRET, NOW, BODY);
  return verifyWebhookSignature({
    secret: overrides.secret ?? SECRET,
    timestamp,
    signature,
    body: overrides.body ?? BODY,
    nowS: overrides.nowS ?? NOW,
  });
}

describe('webhook signatures', () => {
  beforeEach(() => {
    vi.mocked(timingSafeEqual).mockClear();
  });

  it('signs "<timestamp>.<raw body>" with HMAC-SHA256, as a sender would by hand', () => {
    const expected = createHmac('sha256', SECRET).update(`${NOW}.{"value":"hello"}`).digest('hex');
    expect(signWebhook(SECRET, NOW, BODY)).toBe(`sha256=${expected}`);
  });

  it('accepts a correct signature and returns its digest (lowercase) and time', () => {
    const signature = signWebhook(SECRET, NOW, BODY);
    expect(check({ signature: signature.toUpperCase().replace('SHA256=', 'sha256=') })).toEqual({
      ok: true,
      timestamp: NOW,
      signature: signature.slice(7),
    });
  });

  it('refuses a signature made with another secret, over another body or another timestamp', () => {
    expect(check({ secret: 'another-secret' })).toMatchObject({ ok: false, code: 'signature_invalid' });
    expect(check({ body: Buffer.from('{"value":"hellO"}') })).toMatchObject({ ok: false, code: 'signature_invalid' });
    expect(check({ timestamp: String(NOW + 1) })).toMatchObject({ ok: false, code: 'signature_invalid' });
  });

  it('verifies over the raw bytes: the same JSON with other whitespace does not match', () => {
    expect(check({ body: Buffer.from('{ "value": "hello" }') })).toMatchObject({
      ok: false,
      code: 'signature_invalid',
    });
  });

  it('says what is missing or malformed', () => {
    expect(check({ signature: undefined })).toMatchObject({ ok: false, code: 'signature_missing' });
    expect(check({ timestamp: undefined })).toMatchObject({ ok: false, code: 'timestamp_missing' });
    expect(check({ timestamp: '2025-01-01T00:00:00Z' })).toMatchObject({ ok: false, code: 'timestamp_invalid' });
    expect(check({ signature: 'sha1=abc' })).toMatchObject({ ok: false, code: 'signature_invalid' });
    expect(check({ signature: [signWebhook(SECRET, NOW, BODY), 'x'] })).toMatchObject({
      ok: false,
      code: 'signature_missing',
    });
  });

  it('accepts timestamps up to the window either way and refuses beyond, saying how far off', () => {
    const at = (skew: number) =>
      check({ timestamp: String(NOW + skew), signature: signWebhook(SECRET, NOW + skew, BODY) });
    expect(at(-SIGNATURE_WINDOW_S)).toMatchObject({ ok: true });
    expect(at(SIGNATURE_WINDOW_S)).toMatchObject({ ok: true });
    const stale = at(-SIGNATURE_WINDOW_S - 1);
    expect(stale).toMatchObject({ ok: false, code: 'timestamp_out_of_window' });
    expect(!stale.ok && stale.reason).toContain('301 s in the past');
    expect(at(SIGNATURE_WINDOW_S + 60)).toMatchObject({ ok: false, code: 'timestamp_out_of_window' });
  });

  it('never puts the secret or the expected digest in a reason', () => {
    const refused = check({ secret: SECRET, signature: `sha256=${'0'.repeat(64)}` });
    expect(refused.ok).toBe(false);
    const expected = signWebhook(SECRET, NOW, BODY).slice(7);
    expect(JSON.stringify(refused)).not.toContain(SECRET);
    expect(JSON.stringify(refused)).not.toContain(expected);
  });

  it('compares digests with timingSafeEqual over two 32-byte buffers', () => {
    expect(check({ signature: `sha256=${'f'.repeat(64)}` })).toMatchObject({ ok: false });
    expect(timingSafeEqual).toHaveBeenCalledTimes(1);
    const [given, expected] = vi.mocked(timingSafeEqual).mock.calls[0] ?? [];
    expect(Buffer.isBuffer(given) && given.length).toBe(32);
    expect(Buffer.isBuffer(expected) && expected.length).toBe(32);
  });

  it('treats a digest of the wrong length as a mismatch without throwing', () => {
    const digest = Buffer.alloc(32, 1);
    expect(digestMatches('01'.repeat(32), digest)).toBe(true);
    expect(digestMatches('01'.repeat(31), digest)).toBe(false);
    expect(digestMatches(`${'01'.repeat(31)}02`, digest)).toBe(false);
    expect(digestMatches(`02${'01'.repeat(31)}`, digest)).toBe(false);
  });
});
