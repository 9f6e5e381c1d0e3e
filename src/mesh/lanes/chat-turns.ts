// A person's chat turns on the agent's lane. The turn is a lane row like any other, so
// it waits while another item runs and goes ahead of queued background work; the
// person's message and connection stay here in memory, since a turn nobody watches is
// worth nothing. Invariants: every turn handed over is ended exactly once by its relay
// (that is what frees the lane); a turn whose person left, or whose agent stopped or
// failed, before it began is failed on its lane and never handed over; a turn the
// dispatcher reaches with nobody waiting (the mesh restarted) fails at once. The
// person's message is also stored on the item, for `legion chat <agent> --history`.
import { LegionError } from '../../shared/errors.js';
import type { LaneItem, LaneStore } from './store.js';

/** A turn the person left before it ended: interrupted, not failed. */
export const CHAT_CANCELLED_CODE = 'chat_cancelled';

/** What a chat item stores: the person's message (items from before it was kept hold `{}`). */
export interface ChatItemBody {
  message: string;
}

export type TurnOutcome = { reply: string } | { error: unknown };

export interface ChatTurn {
  /** The turn is over; the agent's lane moves on. Later calls do nothing. */
  end(outcome: TurnOutcome): void;
}

interface Waiter {
  agent: string;
  handOver: (turn: ChatTurn) => void;
  cancel: (error: LegionError) => void;
}

export interface ChatTurnsOptions {
  store: LaneStore;
  /** Wakes the agent's lane after a turn was queued. */
  kick: (agent: string) => void;
}

export class ChatTurns {
  private readonly options: ChatTurnsOptions;
  private readonly waiting = new Map<string, Waiter>();

  constructor(options: ChatTurnsOptions) {
    this.options = options;
  }

  /** Queues a turn on `agent`'s lane (throws lane_full at once when the lane is full);
   *  `turn` resolves when the turn may begin, and rejects when it never will. */
  queue(agent: string, message: string, trace: string, signal: AbortSignal): { id: string; turn: Promise<ChatTurn> } {
    // The message is kept on the item for the agent's history; the relay sends it from memory.
    const body: ChatItemBody = { message };
    const id = this.options.store.enqueue(agent, 'chat', body, trace);
    const turn = new Promise<ChatTurn>((handOver, cancel) => {
      this.waiting.set(id, { agent, handOver, cancel });
    });
    // The relay awaits `turn` right away; this only keeps a cancellation that lands in
    // between from counting as an unhandled rejection, which would end the mesh.
    turn.catch(() => undefined);
    signal.addEventListener(
      'abort',
      () =>
        this.cancel(
          id,
          new LegionError(CHAT_CANCELLED_CODE, `the chat with ${agent} was cancelled before its turn began`),
        ),
      { once: true },
    );
    this.options.kick(agent);
    return { id, turn };
  }

  /** The dispatcher reached a chat item: hands it to its relay and resolves with the
   *  reply once the relay ends the turn. */
  handOver(item: LaneItem): Promise<string> {
    const waiter = this.waiting.get(item.id);
    if (!waiter)
      return Promise.reject(new LegionError('chat_abandoned', `nobody waits for chat turn ${item.id} any more`));
    this.waiting.delete(item.id);
    return new Promise<string>((done, failed) => {
      let ended = false;
      waiter.handOver({
        end: (outcome) => {
          if (ended) return;
          ended = true;
          if ('reply' in outcome) done(outcome.reply);
          else failed(outcome.error);
        },
      });
    });
  }

  /** Turns still waiting for `agent` will not begin: it stopped or failed. */
  abandon(agent: string, reason: string): void {
    for (const [id, waiter] of this.waiting) {
      if (waiter.agent === agent)
        this.cancel(id, new LegionError('agent_not_running', `agent ${agent} is not running (${reason})`));
    }
  }

  private cancel(id: string, error: LegionError): void {
    const waiter = this.waiting.get(id);
    if (!waiter) return;
    this.waiting.delete(id);
    this.options.store.fail(id, error.message, error.code);
    waiter.cancel(error);
  }
}
