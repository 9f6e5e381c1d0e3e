// The senders' signature schemes as pure decisions: what each accepts (including a
// rotated secret's extra signatures), what it refuses and with which code, which replay
// key it names, and that signCall produces what checkCall accepts. The senders' own
// libraries are exercised in tests/integration/webhook-senders.test.ts.
import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { checkCall, DELIVERY_ID_MEMORY_S, signCall } from '../../../src/mesh/triggers/webhooks/schemes.js';
import { SIGNATURE_WINDOW_S } from '../../../src/mesh/triggers/webhooks/signature.js';
import { WEBHOOK_SCHEMES, type WebhookScheme } from '../../../src/shared/wire/webhooks.js';

const NOW = 1_750_000_000;
const BODY = Buffer.from('{"hello":"world"}');
const STANDARD_SECRET = `whsec_${Buffer.from('a standard webhooks key of 32 b!').toString('base64')}`;
const SECRET: Record<WebhookScheme, string> = {
  legion: 'legion-secret',
  github: 'github-secret',
  standard: STANDARD_SECRET,
  stripe: 'whsec_stripe',
  slack: 'slack-signing-secret',
};

const check = (scheme: WebhookScheme, headers: IncomingHttpHeaders, body: Buffer = BODY, nowS = NOW) =>
  checkCall({ scheme, secret: SECRET[scheme], headers, body, nowS });
const hex = (key: string | Buffer, text: string) => createHmac('sha256', key).update(text).digest('hex');

describe('signCall and checkCall', () => {
  it.each(WEBHOOK_SCHEMES)('%s: accepts what signCall signs, and refuses it for another body or secret', (scheme) => {
    const headers = signCall(scheme, SECRET[scheme], BODY, NOW, 'push');
    expect(check(scheme, headers)).toMatchObject({ ok: true });
    expect(check(scheme, headers, Buffer.from('{"hello":"world!"}'))).toMatchObject({
      ok: false,
      code: 'signature_invalid',
    });
    const other = scheme === 'standard' ? `whsec_${Buffer.from('another key').toString('base64')}` : 'another-secret';
    expect(check(scheme, signCall(scheme, other, BODY, NOW, 'push'))).toMatchObject({
      ok: false,
      code: 'signature_invalid',
    });
    expect(check(scheme, {})).toMatchObject({ ok: false, code: 'signature_missing' });
  });

  it.each(['legion', 'standard', 'stripe', 'slack'] as const)(
    '%s: refuses a genuine signature outside ±%s s',
    (scheme) => {
      const old = signCall(scheme, SECRET[scheme], BODY, NOW - SIGNATURE_WINDOW_S - 1, 'push');
      expect(check(scheme, old)).toMatchObject({ ok: false, code: 'timestamp_out_of_window' });
      expect(check(scheme, signCall(scheme, SECRET[scheme], BODY, NOW - SIGNATURE_WINDOW_S, 'push'))).toMatchObject({
        ok: true,
      });
      expect(check(scheme, signCall(scheme, SECRET[scheme], BODY, NOW + SIGNATURE_WINDOW_S + 1, 'push'))).toMatchObject(
        { code: 'timestamp_out_of_window' },
      );
    },
  );
});

describe('github', () => {
  const signature = `sha256=${hex(SECRET.github, BODY.toString())}`;

  it('remembers the delivery id for a day as the replay key', () => {
    const result = check('github', { 'x-hub-signature-256': signature, 'x-github-delivery': 'd-1' });
    expect(result).toEqual({
      ok: true,
      replay: expect.objectContaining({
        key: 'id:d-1',
        expiresAt: NOW + DELIVERY_ID_MEMORY_S,
        code: 'delivery_replayed',
      }),
    });
    expect(DELIVERY_ID_MEMORY_S).toBeGreaterThanOrEqual(24 * 60 * 60);
  });

  it('refuses a signed call without X-GitHub-Delivery, and malformed signatures', () => {
    expect(check('github', { 'x-hub-signature-256': signature })).toMatchObject({
      ok: false,
      code: 'delivery_missing',
    });
    expect(check('github', { 'x-hub-signature-256': signature.slice(7), 'x-github-delivery': 'd' })).toMatchObject({
      code: 'signature_invalid',
    });
    expect(check('github', { 'x-hub-signature-256': signature.slice(0, -2), 'x-github-delivery': 'd' })).toMatchObject({
      code: 'signature_invalid',
    });
    expect(check('github', { 'x-hub-signature-256': [signature, signature], 'x-github-delivery': 'd' })).toMatchObject({
      code: 'signature_missing',
    });
  });

  it('guards an unsigned hook by the delivery id alone', () => {
    expect(
      checkCall({ scheme: 'github', secret: null, headers: { 'x-github-delivery': 'd-2' }, body: BODY, nowS: NOW }),
    ).toMatchObject({ ok: true, replay: { key: 'id:d-2' } });
    expect(checkCall({ scheme: 'stripe', secret: null, headers: {}, body: BODY, nowS: NOW })).toEqual({
      ok: true,
      replay: null,
    });
  });
});

describe('standard webhooks', () => {
  const key = Buffer.from(STANDARD_SECRET.slice('whsec_'.length), 'base64');
  const v1 = (k: Buffer) => `v1,${createHmac('sha256', k).update(`msg_1.${NOW}.${BODY.toString()}`).digest('base64')}`;
  const headers = (signature: string): IncomingHttpHeaders => ({
    'webhook-id': 'msg_1',
    'webhook-timestamp': String(NOW),
    'webhook-signature': signature,
  });

  it('signs "<id>.<timestamp>.<body>" with the base64-decoded key and accepts any one of several signatures', () => {
    expect(check('standard', headers(v1(key)))).toMatchObject({
      ok: true,
      replay: { key: 'id:msg_1', code: 'delivery_replayed' },
    });
    expect(check('standard', headers(`v1,bm90IGl0 ${v1(key)}`))).toMatchObject({ ok: true });
    expect(check('standard', headers(v1(Buffer.from(STANDARD_SECRET))))).toMatchObject({ code: 'signature_invalid' });
    expect(check('standard', headers(v1(key).replace('v1,', 'v2,')))).toMatchObject({ code: 'signature_invalid' });
  });

  it('names a missing id or timestamp', () => {
    expect(check('standard', { 'webhook-signature': v1(key), 'webhook-timestamp': String(NOW) })).toMatchObject({
      code: 'delivery_missing',
    });
    expect(check('standard', { 'webhook-signature': v1(key), 'webhook-id': 'msg_1' })).toMatchObject({
      code: 'timestamp_missing',
    });
    expect(check('standard', { ...headers(v1(key)), 'webhook-timestamp': 'soon' })).toMatchObject({
      code: 'timestamp_invalid',
    });
  });
});

describe('stripe', () => {
  const v1 = (secret: string) => hex(secret, `${NOW}.${BODY.toString()}`);

  it('accepts t=,v1= with any matching v1 among several, and keys replays by the signature', () => {
    expect(check('stripe', { 'stripe-signature': `t=${NOW},v1=${v1(SECRET.stripe)}` })).toMatchObject({
      ok: true,
      replay: { key: v1(SECRET.stripe), expiresAt: NOW + SIGNATURE_WINDOW_S, code: 'signature_replayed' },
    });
    expect(
      check('stripe', { 'stripe-signature': `t=${NOW},v1=${v1('old-secret')},v1=${v1(SECRET.stripe)},v0=abc` }),
    ).toMatchObject({ ok: true });
    expect(check('stripe', { 'stripe-signature': `t=${NOW},v0=${v1(SECRET.stripe)}` })).toMatchObject({
      code: 'signature_invalid',
    });
    expect(check('stripe', { 'stripe-signature': `v1=${v1(SECRET.stripe)}` })).toMatchObject({
      code: 'timestamp_missing',
    });
  });
});

describe('slack', () => {
  it('checks v0= over "v0:<ts>:<body>" with X-Slack-Request-Timestamp', () => {
    const signature = `v0=${hex(SECRET.slack, `v0:${NOW}:${BODY.toString()}`)}`;
    expect(check('slack', { 'x-slack-signature': signature, 'x-slack-request-timestamp': String(NOW) })).toMatchObject({
      ok: true,
      replay: { code: 'signature_replayed' },
    });
    expect(check('slack', { 'x-slack-signature': signature })).toMatchObject({ code: 'timestamp_missing' });
    expect(
      check('slack', { 'x-slack-signature': signature, 'x-slack-request-timestamp': String(NOW + 1) }),
    ).toMatchObject({ code: 'signature_invalid' });
  });
});
