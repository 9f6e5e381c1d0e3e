// Per-agent search rate limit: at most N searches in any sliding minute. The window
// lives in memory on purpose: a mesh restart forgetting the last minute loses no work.
export type RateDecision = { action: 'allow' } | { action: 'refuse'; retryAfterS: number };

const WINDOW_MS = 60_000;

/** Pure: whether one more call fits, given the calls in the window (oldest first). */
export function decideRate(calls: readonly number[], now: number, perMinute: number): RateDecision {
  const recent = calls.filter((at) => at > now - WINDOW_MS);
  if (recent.length < perMinute) return { action: 'allow' };
  const oldest = recent[recent.length - perMinute] ?? now;
  return { action: 'refuse', retryAfterS: Math.max(1, Math.ceil((oldest + WINDOW_MS - now) / 1000)) };
}

export class SearchRateLimiter {
  private readonly calls = new Map<string, number[]>();
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  /** Counts the call when it fits; never counts a refused one. */
  take(agent: string, perMinute: number): RateDecision {
    const now = this.now();
    const recent = (this.calls.get(agent) ?? []).filter((at) => at > now - WINDOW_MS);
    const decision = decideRate(recent, now, perMinute);
    if (decision.action === 'allow') recent.push(now);
    this.calls.set(agent, recent);
    return decision;
  }
}
