// The page's only way to the mesh: same-origin requests under /ui/api, sent with the
// session cookie by the browser (the page never sees it, nor any token). A 401 means
// the session ended (revoked, expired, mesh restarted): the page says so instead of
// failing silently.
import type { LiveMessage } from './types.js';

export class ApiError extends Error {
  readonly status: number;
  /** The mesh's error code (version_conflict, …) and whole error body, when it sent one. */
  readonly code: string | null;
  readonly body: Record<string, unknown>;
  constructor(status: number, message: string, body: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.code = typeof body.code === 'string' ? body.code : null;
    this.body = body;
  }
}

export const SESSION_ENDED =
  'Your dashboard session has ended (revoked, expired, or the mesh restarted). Run `legion dashboard` for a new login link.';

async function read<T>(response: Response): Promise<T> {
  const text = await response.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: reported as text below
  }
  if (!response.ok) {
    const error = (body as { error?: Record<string, unknown> } | null)?.error ?? {};
    const message = typeof error.message === 'string' ? error.message : text.slice(0, 300);
    throw new ApiError(response.status, response.status === 401 ? SESSION_ENDED : message, error);
  }
  return body as T;
}

export async function getJson<T>(path: string): Promise<T> {
  return read<T>(await fetch(`/ui/api${path}`, { credentials: 'same-origin' }));
}

/** A state-changing call: same origin (the browser adds Origin, which the mesh requires), with a JSON body if given. */
export async function post<T>(path: string, body?: unknown, method: 'POST' | 'PUT' = 'POST'): Promise<T> {
  const json =
    body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  return read<T>(await fetch(`/ui/api${path}`, { method, credentials: 'same-origin', ...json }));
}

/** A POST answered with server-sent events (a chat turn): each event's JSON as it arrives. */
export async function postStream(path: string, body: unknown, onEvent: (event: unknown) => void): Promise<void> {
  const response = await fetch(`/ui/api${path}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok || !response.body) await read(response);
  if (!response.body) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += value;
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      const data = buffer
        .slice(0, end)
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      buffer = buffer.slice(end + 2);
      if (data) onEvent(JSON.parse(data));
      end = buffer.indexOf('\n\n');
    }
  }
}

/** Opens the live stream; `onState` hears whether it is connected. EventSource reconnects by itself after a drop. */
export function openLive(
  onMessage: (message: LiveMessage) => void,
  onState: (connected: boolean) => void,
): EventSource {
  const source = new EventSource('/ui/api/live');
  source.onopen = () => onState(true);
  source.onerror = () => onState(false);
  source.onmessage = (event: MessageEvent<string>) => onMessage(JSON.parse(event.data) as LiveMessage);
  return source;
}
