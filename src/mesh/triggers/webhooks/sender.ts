// What a call says about itself in its sender's conventions: its event type and delivery
// id (for `{event}`, `{delivery}` and filters), and whether it is a handshake the mesh
// answers itself without waking anyone (GitHub's ping, Slack's url_verification).
// Pure: reads the headers and the parsed payload; a value the sender did not send is null.
import type { IncomingHttpHeaders } from 'node:http';
import type { WebhookScheme } from '../../../shared/wire/webhooks.js';
import { GITHUB_DELIVERY_HEADER, GITHUB_EVENT_HEADER, headerValue, STANDARD_ID_HEADER } from './schemes.js';

export interface CallIdentity {
  event: string | null;
  delivery: string | null;
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, key)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** Slack's Events API wraps the event (`event.type`); other Slack calls name their `type` or slash `command`. */
function slackEvent(payload: unknown): string | null {
  if (field(payload, 'type') === 'event_callback') return text(field(field(payload, 'event'), 'type'));
  return text(field(payload, 'type')) ?? text(field(payload, 'command'));
}

export function callIdentity(scheme: WebhookScheme, headers: IncomingHttpHeaders, payload: unknown): CallIdentity {
  switch (scheme) {
    case 'github':
      return {
        event: headerValue(headers, GITHUB_EVENT_HEADER) ?? null,
        delivery: headerValue(headers, GITHUB_DELIVERY_HEADER) ?? null,
      };
    case 'standard':
      return { event: text(field(payload, 'type')), delivery: headerValue(headers, STANDARD_ID_HEADER) ?? null };
    case 'stripe':
      return { event: text(field(payload, 'type')), delivery: text(field(payload, 'id')) };
    case 'slack':
      return { event: slackEvent(payload), delivery: text(field(payload, 'event_id')) };
    case 'legion':
      return { event: null, delivery: null };
  }
}

/** The answer to a sender's handshake, or null for a call meant for the target. */
export function handshakeAnswer(
  scheme: WebhookScheme,
  identity: CallIdentity,
  payload: unknown,
): { kind: string; body: Record<string, unknown> } | null {
  // GitHub pings a hook when it is created, to show whether it answers.
  if (scheme === 'github' && identity.event === 'ping') return { kind: 'ping', body: { ping: true } };
  const challenge = field(payload, 'challenge');
  // Slack checks a new Request URL by having it echo the challenge.
  if (scheme === 'slack' && field(payload, 'type') === 'url_verification' && typeof challenge === 'string') {
    return { kind: 'url_verification', body: { challenge } };
  }
  return null;
}
