// Signature schemes of the senders a hook can take calls from, each checked as its
// sender documents it: legion's own (signature.ts), GitHub (X-Hub-Signature-256 over the
// body), Standard Webhooks (webhook-signature over "<id>.<timestamp>.<body>" with the
// base64 key of a whsec_ secret), Stripe (Stripe-Signature t=,v1= over "<t>.<body>") and
// Slack (X-Slack-Signature v0= over "v0:<ts>:<body>"). Invariants: every digest is
// compared in constant time on equal-length buffers; the signature is checked before the
// timestamp, so "stale" is only ever said of a genuine request; a refusal's reason never
// holds the secret or an expected digest. Each accepted call names its replay guard: the
// sender's delivery id (github, standard; remembered a day) or the signature itself
// (legion, stripe, slack; remembered while its timestamp is in the window).
import { createHmac, randomUUID, timingSafeEqual, type BinaryLike } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import {
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
  type WebhookScheme,
} from '../../../shared/wire/webhooks.js';
import { digestMatches, SIGNATURE_WINDOW_S, signWebhook, verifyWebhookSignature } from './signature.js';
import type { ErrorCode } from '../../../shared/errors.js';

/** How long a sender's delivery id is remembered: GitHub's carry no timestamp, so the id is the only replay guard. */
export const DELIVERY_ID_MEMORY_S = 24 * 60 * 60;

export const GITHUB_SIGNATURE_HEADER = 'x-hub-signature-256';
export const GITHUB_EVENT_HEADER = 'x-github-event';
export const GITHUB_DELIVERY_HEADER = 'x-github-delivery';
export const STANDARD_ID_HEADER = 'webhook-id';
export const STANDARD_TIMESTAMP_HEADER = 'webhook-timestamp';
export const STANDARD_SIGNATURE_HEADER = 'webhook-signature';
export const STRIPE_SIGNATURE_HEADER = 'stripe-signature';
export const SLACK_SIGNATURE_HEADER = 'x-slack-signature';
export const SLACK_TIMESTAMP_HEADER = 'x-slack-request-timestamp';

/** What a second call carrying the same key is refused with. */
export interface ReplayGuard {
  key: string;
  /** Unix seconds after which the key may be forgotten. */
  expiresAt: number;
  code: 'signature_replayed' | 'delivery_replayed';
  reason: string;
}

export type CallCheck = { ok: true; replay: ReplayGuard | null } | { ok: false; code: ErrorCode; reason: string };

export interface CallInput {
  scheme: WebhookScheme;
  /** null: the hook takes unsigned calls; only the sender's delivery id guards replays. */
  secret: string | null;
  headers: IncomingHttpHeaders;
  body: Buffer;
  nowS: number;
}

type Refusal = Extract<CallCheck, { ok: false }>;

const TIMESTAMP_PATTERN = /^\d{1,12}$/;
const HEX_DIGEST = /^[0-9a-fA-F]{64}$/;

/** One header's value; undefined when absent, empty or sent more than once. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function hmac(key: BinaryLike, ...parts: (string | Buffer)[]): Buffer {
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** Constant-time in the content; a length mismatch is public (a SHA-256 is 32 bytes). */
function sameBytes(given: Buffer, expected: Buffer): boolean {
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const missing = (header: string, how: string): Refusal => ({
  ok: false,
  code: 'signature_missing',
  reason: `this webhook needs a signature: send ${header} (${how})`,
});
const mismatch = (what: string): Refusal => ({
  ok: false,
  code: 'signature_invalid',
  reason: `the signature does not match: ${what}`,
});

/** A unix-seconds header's text, or why it is missing or malformed. */
function timestampOf(header: string, value: string | undefined): string | Refusal {
  if (value === undefined)
    return {
      ok: false,
      code: 'timestamp_missing',
      reason: `a signed call needs ${header}: <unix seconds>, the time that was signed`,
    };
  if (!TIMESTAMP_PATTERN.test(value))
    return {
      ok: false,
      code: 'timestamp_invalid',
      reason: `${header} must be whole unix seconds, got "${value.slice(0, 40)}"`,
    };
  return value;
}

/** Refuses a signed time outside ±SIGNATURE_WINDOW_S of now; null when it is inside. */
function staleRefusal(header: string, timestamp: string, nowS: number): Refusal | null {
  const skew = Number(timestamp) - nowS;
  if (Math.abs(skew) <= SIGNATURE_WINDOW_S) return null;
  const when = skew < 0 ? `${-skew} s in the past` : `${skew} s in the future`;
  return {
    ok: false,
    code: 'timestamp_out_of_window',
    reason: `${header} is ${when}; the mesh accepts ±${SIGNATURE_WINDOW_S} s (check the sender's clock, or whether this is an old request sent again)`,
  };
}

function deliveryGuard(sender: string, id: string, nowS: number): ReplayGuard {
  return {
    key: `id:${id}`,
    expiresAt: nowS + DELIVERY_ID_MEMORY_S,
    code: 'delivery_replayed',
    reason: `${sender} delivery ${id.slice(0, 100)} was already accepted`,
  };
}

function signatureGuard(hex: string, timestamp: number): ReplayGuard {
  return {
    key: hex.toLowerCase(),
    expiresAt: timestamp + SIGNATURE_WINDOW_S,
    code: 'signature_replayed',
    reason: 'this signature was already used: sign each call with its own timestamp',
  };
}

/** A delivery id header, required from a signed sender that always sends one. */
function deliveryId(input: CallInput, header: string, sender: string): string | Refusal {
  const id = headerValue(input.headers, header);
  if (id !== undefined) return id;
  return {
    ok: false,
    code: 'delivery_missing',
    reason: `a ${sender} call carries its delivery id in ${header}; this one has none`,
  };
}

function checkLegion(input: CallInput, secret: string): CallCheck {
  const check = verifyWebhookSignature({
    secret,
    timestamp: input.headers[WEBHOOK_TIMESTAMP_HEADER],
    signature: input.headers[WEBHOOK_SIGNATURE_HEADER],
    body: input.body,
    nowS: input.nowS,
  });
  return check.ok ? { ok: true, replay: signatureGuard(check.signature, check.timestamp) } : check;
}

function checkGithub(input: CallInput, secret: string): CallCheck {
  const signature = headerValue(input.headers, GITHUB_SIGNATURE_HEADER);
  if (signature === undefined)
    return missing('X-Hub-Signature-256', 'set the same secret in the GitHub webhook settings');
  const hex = /^sha256=(.*)$/.exec(signature)?.[1] ?? '';
  if (!HEX_DIGEST.test(hex) || !digestMatches(hex, hmac(secret, input.body))) {
    return mismatch(
      'expected X-Hub-Signature-256: sha256=<hex of HMAC-SHA256(secret, raw body)>; is the secret in GitHub the one this hook has?',
    );
  }
  const id = deliveryId(input, GITHUB_DELIVERY_HEADER, 'GitHub');
  return typeof id === 'string' ? { ok: true, replay: deliveryGuard('GitHub', id, input.nowS) } : id;
}

function checkStandard(input: CallInput, secret: string): CallCheck {
  const signatures = headerValue(input.headers, STANDARD_SIGNATURE_HEADER);
  if (signatures === undefined)
    return missing('webhook-signature', 'Standard Webhooks: v1,<base64> with webhook-id and webhook-timestamp');
  const id = deliveryId(input, STANDARD_ID_HEADER, 'Standard Webhooks');
  if (typeof id !== 'string') return id;
  const timestamp = timestampOf('webhook-timestamp', headerValue(input.headers, STANDARD_TIMESTAMP_HEADER));
  if (typeof timestamp !== 'string') return timestamp;
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = hmac(key, `${id}.${timestamp}.`, input.body);
  // Several space-separated signatures let a sender rotate its secret; one match is enough.
  const matched = signatures.split(' ').some((entry) => {
    const [version, value] = entry.split(',', 2);
    return version === 'v1' && value !== undefined && sameBytes(Buffer.from(value, 'base64'), expected);
  });
  if (!matched)
    return mismatch(
      'expected webhook-signature: v1,<base64 of HMAC-SHA256(base64-decoded whsec_ secret, "<webhook-id>.<webhook-timestamp>.<raw body>")>',
    );
  return (
    staleRefusal('webhook-timestamp', timestamp, input.nowS) ?? {
      ok: true,
      replay: deliveryGuard('Standard Webhooks', id, input.nowS),
    }
  );
}

function checkStripe(input: CallInput, secret: string): CallCheck {
  const header = headerValue(input.headers, STRIPE_SIGNATURE_HEADER);
  if (header === undefined)
    return missing(
      'Stripe-Signature',
      't=<unix seconds>,v1=<hex>; set the signing secret (whsec_…) of this endpoint in Stripe',
    );
  const fields = header.split(',').map((item) => {
    const at = item.indexOf('=');
    return at < 0 ? ['', ''] : [item.slice(0, at).trim(), item.slice(at + 1).trim()];
  });
  const timestamp = timestampOf('the t= of Stripe-Signature', fields.find(([name]) => name === 't')?.[1]);
  if (typeof timestamp !== 'string') return timestamp;
  const expected = hmac(secret, `${timestamp}.`, input.body);
  const matched = fields.find(
    ([name, value]) => name === 'v1' && HEX_DIGEST.test(value ?? '') && digestMatches(value ?? '', expected),
  );
  if (!matched)
    return mismatch(
      'expected Stripe-Signature: t=<unix seconds>,v1=<hex of HMAC-SHA256(signing secret, "<t>.<raw body>")>; is this the endpoint\'s signing secret?',
    );
  return (
    staleRefusal('the t= of Stripe-Signature', timestamp, input.nowS) ?? {
      ok: true,
      replay: signatureGuard(expected.toString('hex'), Number(timestamp)),
    }
  );
}

function checkSlack(input: CallInput, secret: string): CallCheck {
  const signature = headerValue(input.headers, SLACK_SIGNATURE_HEADER);
  if (signature === undefined)
    return missing(
      'X-Slack-Signature',
      "v0=<hex> with X-Slack-Request-Timestamp; set the app's signing secret as this hook's secret",
    );
  const timestamp = timestampOf('X-Slack-Request-Timestamp', headerValue(input.headers, SLACK_TIMESTAMP_HEADER));
  if (typeof timestamp !== 'string') return timestamp;
  const hex = /^v0=(.*)$/.exec(signature)?.[1] ?? '';
  const expected = hmac(secret, `v0:${timestamp}:`, input.body);
  if (!HEX_DIGEST.test(hex) || !digestMatches(hex, expected)) {
    return mismatch(
      'expected X-Slack-Signature: v0=<hex of HMAC-SHA256(signing secret, "v0:<X-Slack-Request-Timestamp>:<raw body>")>; is this the app\'s signing secret?',
    );
  }
  return (
    staleRefusal('X-Slack-Request-Timestamp', timestamp, input.nowS) ?? {
      ok: true,
      replay: signatureGuard(hex, Number(timestamp)),
    }
  );
}

/** The replay guard of an unsigned call: the sender's delivery id, if it sends one. */
function unsignedGuard(input: CallInput): ReplayGuard | null {
  const sender =
    input.scheme === 'github'
      ? { header: GITHUB_DELIVERY_HEADER, name: 'GitHub' }
      : input.scheme === 'standard'
        ? { header: STANDARD_ID_HEADER, name: 'Standard Webhooks' }
        : null;
  const id = sender === null ? undefined : headerValue(input.headers, sender.header);
  return sender === null || id === undefined ? null : deliveryGuard(sender.name, id, input.nowS);
}

/** Decides whether a call was signed by a holder of the hook's secret, recently, in the hook's scheme. */
export function checkCall(input: CallInput): CallCheck {
  const { secret } = input;
  if (secret === null) return { ok: true, replay: unsignedGuard(input) };
  switch (input.scheme) {
    case 'legion':
      return checkLegion(input, secret);
    case 'github':
      return checkGithub(input, secret);
    case 'standard':
      return checkStandard(input, secret);
    case 'stripe':
      return checkStripe(input, secret);
    case 'slack':
      return checkSlack(input, secret);
  }
}

/** The headers a sender holding `secret` sends with `body` in `scheme`; `event` is GitHub's event header. */
export function signCall(
  scheme: WebhookScheme,
  secret: string,
  body: Buffer,
  nowS: number,
  event: string,
): Record<string, string> {
  switch (scheme) {
    case 'legion':
      return { [WEBHOOK_TIMESTAMP_HEADER]: String(nowS), [WEBHOOK_SIGNATURE_HEADER]: signWebhook(secret, nowS, body) };
    case 'github':
      return {
        [GITHUB_SIGNATURE_HEADER]: `sha256=${hmac(secret, body).toString('hex')}`,
        [GITHUB_EVENT_HEADER]: event,
        [GITHUB_DELIVERY_HEADER]: randomUUID(),
      };
    case 'standard': {
      const id = `msg_${randomUUID()}`;
      const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
      return {
        [STANDARD_ID_HEADER]: id,
        [STANDARD_TIMESTAMP_HEADER]: String(nowS),
        [STANDARD_SIGNATURE_HEADER]: `v1,${hmac(key, `${id}.${nowS}.`, body).toString('base64')}`,
      };
    }
    case 'stripe':
      return { [STRIPE_SIGNATURE_HEADER]: `t=${nowS},v1=${hmac(secret, `${nowS}.`, body).toString('hex')}` };
    case 'slack':
      return {
        [SLACK_TIMESTAMP_HEADER]: String(nowS),
        [SLACK_SIGNATURE_HEADER]: `v0=${hmac(secret, `v0:${nowS}:`, body).toString('hex')}`,
      };
  }
}
