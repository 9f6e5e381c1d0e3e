// When a streamed reply touches the platform: the first visible text is sent as a new
// message, later text edits that message no more often than the platform allows, and
// nothing is sent when what would show is what shows already. Pure: the caller holds
// the state and the clock. While streaming only the first message's worth shows; the
// rest arrives as further messages when the reply is complete (see splitReply).

export interface StreamState {
  /** The message being edited; null before the first send. */
  messageId: string | null;
  /** What the platform shows now. */
  shown: string;
  /** When the last send or edit went out (ms). */
  lastAt: number | null;
}

export type StreamStep =
  | { action: 'send'; text: string }
  | { action: 'edit'; text: string }
  | { action: 'wait'; ms: number }
  | { action: 'none' };

export interface StreamLimits {
  maxChars: number;
  /** Least time between two edits of one message. */
  minIntervalMs: number;
}

const ELLIPSIS = '…';

/** What the message shows while `buffered` is still growing. */
export function previewText(buffered: string, maxChars: number): string {
  const text = buffered.trim();
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - ELLIPSIS.length)}${ELLIPSIS}`;
}

export function nextStreamStep(state: StreamState, buffered: string, now: number, limits: StreamLimits): StreamStep {
  const text = previewText(buffered, limits.maxChars);
  if (text === '' || text === state.shown) return { action: 'none' };
  if (state.lastAt !== null && now - state.lastAt < limits.minIntervalMs)
    return { action: 'wait', ms: state.lastAt + limits.minIntervalMs - now };
  return state.messageId === null ? { action: 'send', text } : { action: 'edit', text };
}
