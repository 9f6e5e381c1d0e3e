// Hands each agent its lane items one at a time. A failed hand-over is retried with
// exponential backoff up to MAX_ATTEMPTS, then marked failed; an item whose agent is
// not running (asked again after the failure: it may have just died) waits, uncounted,
// until the agent is healthy again (kick). A chat turn is never retried. `delivered`
// tells of each reply as soon as it arrives (before the item is marked done, so a crash
// in between leaves the item to be re-queued and its listeners to reconcile); `failed`
// tells of every item that failed for good. Stopping the dispatcher leaves in-flight
// items in flight, so the next start re-queues them.
import { replyEvent } from './reply-event.js';
import { LegionError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logging.js';
import type { EventLog } from '../events/log.js';
import { Signal } from '../signal.js';
import { afterFailedHandOver } from './policy.js';
import type { LaneItem, LaneStatus, LaneStore } from './store.js';

export const MAX_ATTEMPTS = 5;
const BASE_BACKOFF_MS = 500;

export interface LaneDispatcherOptions {
  store: LaneStore;
  events: EventLog;
  logger: Logger;
  /** True while the agent can take work. */
  isReady: (agent: string) => boolean;
  /** Asked after a failed hand-over: checks the agent now (the health monitor), so an
   *  item that failed because its agent just died goes back to the queue uncounted. */
  stillReady: (agent: string) => Promise<boolean>;
  /** Hands the item to the agent and resolves with its reply. */
  deliver: (agent: string, item: LaneItem, signal: AbortSignal) => Promise<string>;
}

export interface DeliveredItem {
  agent: string;
  item: LaneItem;
  reply: string;
}

export interface FailedItem {
  item: LaneItem;
  reason: string;
}

export function backoffMs(attempt: number): number {
  const base = BASE_BACKOFF_MS * 2 ** Math.max(attempt - 1, 0);
  return Math.min(base, 60_000) * (0.75 + Math.random() * 0.5);
}

export class LaneDispatcher {
  private readonly options: LaneDispatcherOptions;
  private readonly running = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly abort = new AbortController();
  /** An item's reply arrived (a cron run or heartbeat wake-up ends here). */
  readonly delivered = new Signal<DeliveredItem>();
  /** An item failed for good (its hand-overs are spent), so whoever queued it can react. */
  readonly failed = new Signal<FailedItem>();

  constructor(options: LaneDispatcherOptions) {
    this.options = options;
  }

  /** Makes sure `agent`'s lane is being worked on. Cheap to call often. */
  kick(agent: string): void {
    if (this.abort.signal.aborted || this.running.has(agent)) return;
    this.running.add(agent);
    void this.drain(agent).finally(() => this.running.delete(agent));
  }

  /** Re-queues what was in flight at the last stop and works every lane with work. */
  start(): void {
    const requeued = this.options.store.requeueInflight();
    if (requeued > 0)
      this.options.logger.info(
        { event: 'lane_requeued', items: requeued },
        'items in flight at the last stop are queued again',
      );
    for (const agent of this.options.store.agentsWithWork()) this.kick(agent);
  }

  stop(): void {
    this.abort.abort();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private async drain(agent: string): Promise<void> {
    const { store, events, logger, isReady, stillReady, deliver } = this.options;
    while (!this.abort.signal.aborted && isReady(agent)) {
      const item = store.claimNext(agent);
      if (!item) {
        this.wakeLater(agent);
        return;
      }
      try {
        const reply = await deliver(agent, item, this.abort.signal);
        this.delivered.emit({ agent, item, reply });
        store.complete(item.id, reply);
        events.record({
          agent,
          kind: 'delivered',
          subject: item.id,
          detail: { kind: item.kind, attempts: item.attempts },
          trace: item.trace,
        });
        const answered = replyEvent(item, reply);
        if (answered) events.record(answered);
      } catch (err) {
        if (this.abort.signal.aborted) return;
        const reason = err instanceof Error ? err.message : String(err);
        const up = isReady(agent) && (await stillReady(agent));
        if (this.abort.signal.aborted) return;
        const next = afterFailedHandOver(item.kind, up);
        if (next === 'release') {
          store.release(item.id);
          return;
        }
        let status: LaneStatus = 'failed';
        if (next === 'fail') store.fail(item.id, reason, err instanceof LegionError ? err.code : null);
        else status = store.retryOrFail(item, reason, backoffMs(item.attempts), MAX_ATTEMPTS);
        events.record({
          agent,
          kind: status === 'failed' ? 'delivery_failed' : 'delivery_retry',
          subject: item.id,
          detail: { attempts: item.attempts, error: reason },
          trace: item.trace,
        });
        logger.warn(
          { agent, event: 'delivery_error', item: item.id, attempts: item.attempts, status, err: reason },
          'lane item not delivered',
        );
        if (status === 'failed') this.failed.emit({ item, reason });
      }
    }
  }

  /** A delayed retry becomes ready later: come back then. */
  private wakeLater(agent: string): void {
    const at = this.options.store.nextReadyAt(agent);
    if (at === null || this.timers.has(agent)) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(agent);
        this.kick(agent);
      },
      Math.max(at - Date.now(), 10),
    );
    timer.unref();
    this.timers.set(agent, timer);
  }
}
