// A webhook's message template: `{payload}` is the whole payload and `{payload.a.b}`
// (`{payload.items.0}` for list items) one value in it; `{event}` and `{delivery}` are
// the sender's event type and delivery id (empty when it sent none). Invariants: only these
// placeholders are replaced, so other braces (JSON in the template) stay as written; a
// path that is not in the payload renders as nothing; only the payload's own fields
// are reachable (never `constructor` and the like); strings render as themselves,
// other values as JSON. The rendered text is capped, with a visible marker.
import type { CallIdentity } from './sender.js';

const PLACEHOLDER = /\{(?:payload((?:\.[^.{}\s]+)*)|(event|delivery))\}/g;

/** Agents get at most this much of one webhook's message. */
export const MAX_MESSAGE_CHARS = 64 * 1024;

function lookup(payload: unknown, path: string[]): unknown {
  let value = payload;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

function show(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value, null, typeof value === 'object' && value !== null ? 2 : undefined);
}

export function renderWebhookMessage(
  template: string,
  payload: unknown,
  sender: CallIdentity = { event: null, delivery: null },
): string {
  const text = template.replace(
    PLACEHOLDER,
    (_match, path: string | undefined, own: 'event' | 'delivery' | undefined) => {
      if (own !== undefined) return sender[own] ?? '';
      return show(lookup(payload, path === undefined || path === '' ? [] : path.slice(1).split('.')));
    },
  );
  if (text.length <= MAX_MESSAGE_CHARS) return text;
  return `${text.slice(0, MAX_MESSAGE_CHARS)}\n[... truncated: ${text.length - MAX_MESSAGE_CHARS} more characters of the webhook message]`;
}
