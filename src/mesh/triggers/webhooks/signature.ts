// Webhook signatures: HMAC-SHA256 over `<timestamp>.<raw body bytes>`, sent as
// `x-legion-signature: sha256=<hex>` with `x-legion-timestamp: <unix seconds>`.
// Invariants: the digest comparison is constant-time (timingSafeEqual over two 32-byte
// buffers, so a mismatch leaks nothing about where); the signature is checked before
// the timestamp, so "outside the window" is only ever said of a genuine request; a
// refusal's reason never contains the secret or the expected digest.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ErrorCode } from '../../../shared/errors.js';

/** How far a sender's clock may be from the mesh's, either way. */
export const SIGNATURE_WINDOW_S = 300;

const SIGNATURE_PATTERN = /^sha256=([0-9a-fA-F]{64})$/;
const TIMESTAMP_PATTERN = /^\d{1,12}$/;

function hmac(secret: string, timestamp: string, body: Buffer): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
}

/** The `x-legion-signature` value a sender holding `secret` sends. */
export function signWebhook(secret: string, timestamp: number, body: Buffer): string {
  return `sha256=${hmac(secret, String(timestamp), body).toString('hex')}`;
}

/** True when `given` is the hex of `expected`; constant-time in the content. */
export function digestMatches(givenHex: string, expected: Buffer): boolean {
  const given = Buffer.from(givenHex, 'hex');
  // Hex of the wrong length is public knowledge (a SHA-256 is 32 bytes), and
  // timingSafeEqual throws on unequal lengths.
  if (given.length !== expected.length) return false;
  return timingSafeEqual(given, expected);
}

export type SignatureCheck =
  | { ok: true; timestamp: number; signature: string }
  | { ok: false; code: ErrorCode; reason: string };

export interface SignatureInput {
  secret: string;
  timestamp: string | string[] | undefined;
  signature: string | string[] | undefined;
  body: Buffer;
  nowS: number;
}

/** Decides whether a request was signed by a holder of `secret`, recently. */
export function verifyWebhookSignature(input: SignatureInput): SignatureCheck {
  const { timestamp, signature } = input;
  if (typeof signature !== 'string' || signature === '') {
    return {
      ok: false,
      code: 'signature_missing',
      reason:
        'this webhook needs a signature: send x-legion-signature: sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<body>")>',
    };
  }
  if (typeof timestamp !== 'string' || timestamp === '') {
    return {
      ok: false,
      code: 'timestamp_missing',
      reason: 'a signed webhook call needs x-legion-timestamp: <unix seconds>, the time that was signed',
    };
  }
  if (!TIMESTAMP_PATTERN.test(timestamp)) {
    return {
      ok: false,
      code: 'timestamp_invalid',
      reason: `x-legion-timestamp must be whole unix seconds, got "${timestamp.slice(0, 40)}"`,
    };
  }
  const match = SIGNATURE_PATTERN.exec(signature);
  if (!match?.[1] || !digestMatches(match[1], hmac(input.secret, timestamp, input.body))) {
    return {
      ok: false,
      code: 'signature_invalid',
      reason: 'the signature does not match: expected sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<raw body>")>',
    };
  }
  const seconds = Number(timestamp);
  const skew = seconds - input.nowS;
  if (Math.abs(skew) > SIGNATURE_WINDOW_S) {
    const when = skew < 0 ? `${-skew} s in the past` : `${skew} s in the future`;
    return {
      ok: false,
      code: 'timestamp_out_of_window',
      reason: `x-legion-timestamp is ${when}; the mesh accepts ±${SIGNATURE_WINDOW_S} s (check the sender's clock, or whether this is an old request sent again)`,
    };
  }
  return { ok: true, timestamp: seconds, signature: match[1].toLowerCase() };
}
