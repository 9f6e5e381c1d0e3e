// The orchestrator's wake-ups: a step's retry backoff, a step's timeout, a run's
// deadline. Invariants: a timer is only a reminder, never the state: what it is for is
// stored in mesh.db (not_before, attempt_started_at + timeout, deadline), so a restart
// re-arms it from the rows; one key holds at most one timer (arming again replaces it);
// a wake-up far in the future is reached in hops, since Node caps a timeout at ~24.8
// days; stop() clears everything and later arms do nothing.
const MAX_TIMEOUT_MS = 2_147_483_647;

export class Timers {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  /** Runs `fire` at `atMs` (epoch ms), or at once (on the next turn) if that has passed. */
  arm(key: string, atMs: number, fire: () => void): void {
    if (this.stopped) return;
    this.clear(key);
    const delay = Math.max(atMs - Date.now(), 0);
    const timer = setTimeout(
      () => {
        this.timers.delete(key);
        if (Date.now() < atMs) this.arm(key, atMs, fire);
        else fire();
      },
      Math.min(delay, MAX_TIMEOUT_MS),
    );
    timer.unref();
    this.timers.set(key, timer);
  }

  clear(key: string): void {
    const timer = this.timers.get(key);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(key);
  }

  /** Clears every timer whose key starts with `prefix` (all of a run's). */
  clearPrefix(prefix: string): void {
    for (const key of [...this.timers.keys()]) {
      if (key.startsWith(prefix)) this.clear(key);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
