// Turns a webhook's raw body into the payload its message template sees: JSON bodies
// become their value, form bodies an object (a repeated field becomes a list), text
// bodies (text/*, XML, or no content type) their text. Pure: decides from the content
// type and the bytes, and answers a refusal a sender can act on instead of throwing.
import type { JsonValue } from '../../../shared/wire/blackboard.js';
import type { ErrorCode } from '../../../shared/errors.js';

export type PayloadKind = 'json' | 'form' | 'text';

export type PayloadParse =
  | { ok: true; kind: PayloadKind; value: JsonValue }
  | { ok: false; code: ErrorCode; reason: string };

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function kindOf(media: string): PayloadKind | null {
  if (media === 'application/json' || media.endsWith('+json')) return 'json';
  if (media === 'application/x-www-form-urlencoded') return 'form';
  if (media === '' || media.startsWith('text/') || media.endsWith('/xml') || media.endsWith('+xml')) return 'text';
  return null;
}

function formObject(text: string): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const earlier = fields[key];
    if (earlier === undefined) fields[key] = value;
    else fields[key] = Array.isArray(earlier) ? [...earlier, value] : [earlier, value];
  }
  return fields;
}

export function parseWebhookPayload(contentType: string | undefined, body: Buffer): PayloadParse {
  const media = mediaType(contentType);
  const kind = kindOf(media);
  if (kind === null) {
    return {
      ok: false,
      code: 'unsupported_media_type',
      reason: `a webhook takes JSON, form (application/x-www-form-urlencoded) or text bodies, not ${media}`,
    };
  }
  const text = body.toString('utf8');
  if (kind === 'form') return { ok: true, kind, value: formObject(text) };
  if (kind === 'text') return { ok: true, kind, value: text };
  try {
    return { ok: true, kind, value: JSON.parse(text) as JsonValue };
  } catch (err) {
    return {
      ok: false,
      code: 'invalid_json',
      reason: `the body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}
