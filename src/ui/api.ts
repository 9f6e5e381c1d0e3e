// The page's only way to the mesh: same-origin requests under /ui/api, sent with the
// session cookie by the browser (the page never sees it, nor any token). A 401 means
// the session ended (revoked, expired, mesh restarted): the page says so instead of
// failing silently.
import type { LiveMessage } from './types.js';

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
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
    const message = (body as { error?: { message?: string } } | null)?.error?.message ?? text.slice(0, 300);
    throw new ApiError(response.status, response.status === 401 ? SESSION_ENDED : message);
  }
  return body as T;
}

export async function getJson<T>(path: string): Promise<T> {
  return read<T>(await fetch(`/ui/api${path}`, { credentials: 'same-origin' }));
}

/** A state-changing call: POST, same origin (the browser adds Origin, which the mesh requires). */
export async function post<T>(path: string): Promise<T> {
  return read<T>(await fetch(`/ui/api${path}`, { method: 'POST', credentials: 'same-origin' }));
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
