// The channel core, platform-agnostic: pairing unknown users, routing paired users'
// messages (as in the REPL, limited to their agents) onto agent lanes, handing channel
// lane items to the agent with the user's own session and relaying the reply, and
// messages an agent sends first (outbox). Invariants: an unpaired user's message never
// reaches a lane or the LLM; a paired user's chat message is a lane row before it is
// acknowledged, taken once per platform message; nothing is sent to a revoked user.
import { LegionError, errorBody } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import type { Logger } from '../../shared/logging.js';
import { formatUsd } from '../../shared/money.js';
import { ChannelItemBodySchema, type ChannelItemBody, type ChannelPlatform } from '../../shared/wire/channels.js';
import type { ChatEvent } from '../../shared/wire/chat.js';
import type { AgentStatusEntry } from '../../shared/wire/admin.js';
import type { CostReport } from '../../shared/wire/costs.js';
import type { EventLog } from '../events/log.js';
import type { LaneItem, LaneStore } from '../lanes/store.js';
import { CHANNEL_HELP, parseChannelText } from './commands.js';
import { startReplyRelay } from './relay.js';
import { splitReply } from './split.js';
import type { ChannelStore, PairedUser } from './store.js';
import type { ChannelAdapter, InboundMessage } from './types.js';

const OUTBOX_MAX_ATTEMPTS = 5;
const OUTBOX_RETRY_MS = 5000;

export interface ChannelServiceOptions {
  store: ChannelStore;
  lanes: LaneStore;
  events: EventLog;
  logger: Logger;
  onEnqueued: (agent: string) => void;
  knownAgents: () => string[];
  /** Runs one turn of `agent` in `session`, feeding its events; resolves when the stream ends. */
  runTurn: (
    agent: string,
    message: string,
    session: string,
    trace: string,
    signal: AbortSignal,
    onEvent: (event: ChatEvent) => void,
  ) => Promise<void>;
  resetSession: (agent: string, session: string) => Promise<void>;
  agentStatus: () => Promise<AgentStatusEntry[]>;
  costsToday: (agent: string) => CostReport;
  /** Removes bot tokens (every LEGION_CRED_ value) from text bound for logs. */
  scrub: (text: string) => string;
}

export function sessionKey(platform: ChannelPlatform, userId: string): string {
  return `channel:${platform}:${userId}`;
}

export class ChannelService {
  private readonly options: ChannelServiceOptions;
  private readonly adapters = new Map<ChannelPlatform, ChannelAdapter>();
  private readonly outboxTimers = new Map<ChannelPlatform, NodeJS.Timeout>();
  private readonly draining = new Set<ChannelPlatform>();

  constructor(options: ChannelServiceOptions) {
    this.options = options;
  }

  /** Starts receiving on `adapter`'s platform; a failed start is logged, never thrown, so the mesh still starts. */
  async attach(adapter: ChannelAdapter): Promise<void> {
    this.adapters.set(adapter.platform, adapter);
    try {
      await adapter.start((message) => this.receive(message));
      this.options.logger.info(
        { event: 'channel_started', platform: adapter.platform },
        `${adapter.platform} channel started`,
      );
      this.drainOutbox(adapter.platform);
    } catch (err) {
      this.options.logger.error(
        { event: 'channel_start_failed', platform: adapter.platform, err: this.options.scrub(String(err)) },
        `${adapter.platform} channel did not start`,
      );
    }
  }

  async stop(): Promise<void> {
    for (const timer of this.outboxTimers.values()) clearTimeout(timer);
    await Promise.all([...this.adapters.values()].map((adapter) => adapter.stop().catch(() => undefined)));
    this.adapters.clear();
  }

  /** One message from a platform; never throws (a failure is logged and, where possible, told to the user). */
  async receive(message: InboundMessage): Promise<void> {
    try {
      await this.route(message);
    } catch (err) {
      this.options.logger.warn(
        { event: 'channel_message_failed', platform: message.platform, err: this.options.scrub(String(err)) },
        'channel message not handled',
      );
      await this.reply(message, `not delivered: ${errorBody(err).message}`).catch(() => undefined);
    }
  }

  private async reply(message: InboundMessage, text: string): Promise<void> {
    const adapter = this.adapters.get(message.platform);
    if (!adapter) return;
    for (const part of splitReply(text, adapter.limits.maxChars)) await adapter.send(message.chatId, part);
  }

  private async route(message: InboundMessage): Promise<void> {
    const { store, events, knownAgents } = this.options;
    const user = store.user(message.platform, message.userId);
    if (!user) {
      const code = store.codeFor(message.platform, message.userId, message.chatId, message.name);
      events.record({
        agent: null,
        kind: 'channel_pairing_requested',
        subject: `${message.platform}:${message.userId}`,
        detail: { name: message.name },
      });
      await this.reply(
        message,
        `Hi! Before you can talk to the agents here, the operator has to approve you. Ask them to run:\n\nlegion channels pair ${code}`,
      );
      return;
    }
    const action = parseChannelText(message.text);
    const current = user.current_agent;
    switch (action.kind) {
      case 'chat': {
        const agent = action.agent ?? current;
        if (!user.agents.includes(agent))
          return this.reply(message, `you are not paired with ${agent}; /agents lists yours`);
        if (!knownAgents().includes(agent))
          return this.reply(message, `agent ${agent} is not in this fleet any more; /use another one`);
        return this.enqueue(message, user, agent, action.text);
      }
      case 'use':
        if (!user.agents.includes(action.agent))
          return this.reply(message, `you are not paired with ${action.agent}; /agents lists yours`);
        store.setCurrentAgent(user.platform, user.user_id, action.agent);
        return this.reply(message, `now talking to ${action.agent}`);
      case 'agents':
      case 'status': {
        const fleet = new Map((await this.options.agentStatus()).map((entry) => [entry.name, entry]));
        const lines = user.agents.map((name) => {
          const entry = fleet.get(name);
          const mark = name === current ? '* ' : '  ';
          if (!entry) return `${mark}${name}: not in this fleet`;
          if (action.kind === 'agents') return `${mark}${name}: ${entry.role} (${entry.health})`;
          return `${mark}${name}: ${entry.health}${entry.busy ? ', busy' : ''}, ${entry.lane.queued} queued, model ${entry.model}`;
        });
        return this.reply(message, lines.join('\n'));
      }
      case 'reset':
        await this.options.resetSession(current, sessionKey(user.platform, user.user_id));
        return this.reply(message, `new conversation with ${current}`);
      case 'costs': {
        const report = this.options.costsToday(current);
        const budgets = report.budgets
          .filter((b) => b.agent === current)
          .map((b) => `${b.window} budget ${formatUsd(b.remaining_usd)} left of ${formatUsd(b.limit_usd)}`);
        return this.reply(
          message,
          [`${current} today: ${formatUsd(report.totals.cost_usd)} in ${report.totals.calls} calls`, ...budgets].join(
            '\n',
          ),
        );
      }
      case 'help':
        return this.reply(message, `${CHANNEL_HELP}\nYour agents: ${user.agents.join(', ')} (now: ${current})`);
      case 'unknown':
        return this.reply(message, action.text);
    }
  }

  private async enqueue(message: InboundMessage, user: PairedUser, agent: string, text: string): Promise<void> {
    const body: ChannelItemBody = {
      platform: user.platform,
      user_id: user.user_id,
      chat_id: message.chatId,
      text,
      session: sessionKey(user.platform, user.user_id),
    };
    const trace = newId('tr');
    let itemId = '';
    const fresh = this.options.store.acceptOnce(message.platform, message.messageKey, () => {
      itemId = this.options.lanes.enqueue(agent, 'channel', body, trace);
    });
    if (!fresh) return;
    this.options.events.record({
      agent,
      kind: 'channel_message',
      subject: `${user.platform}:${user.user_id}`,
      detail: { chars: text.length, lane_item: itemId },
      trace,
    });
    this.options.onEnqueued(agent);
  }

  /** The dispatcher reached a channel item: the agent answers in the user's session, the reply streams to them. */
  async deliver(agent: string, item: LaneItem, signal: AbortSignal): Promise<string> {
    const body = ChannelItemBodySchema.parse(item.body);
    const allowed = () => this.options.store.user(body.platform, body.user_id)?.agents.includes(agent) ?? false;
    if (!allowed()) return '(not delivered: the user is no longer paired with this agent)';
    const adapter = this.adapters.get(body.platform);
    if (!adapter)
      throw new LegionError(
        'channel_unavailable',
        `the ${body.platform} channel is not running; check channels.${body.platform} in config/mesh.yaml`,
      );
    const relay = startReplyRelay({ adapter, chatId: body.chat_id, allowed, logger: this.options.logger });
    const outcome: { reply?: string; error?: string } = {};
    try {
      await this.options.runTurn(agent, body.text, body.session, item.trace ?? item.id, signal, (event) => {
        relay.onEvent(event);
        if (event.type === 'done') outcome.reply = event.reply;
        if (event.type === 'error') outcome.error = event.error.message;
      });
    } catch (err) {
      await relay.finish('').catch(() => undefined);
      throw err;
    }
    // An error the agent reported (a budget, a provider failure) is the answer the user gets; retrying would repeat it.
    const text = outcome.reply ?? `⚠️ ${agent}: ${outcome.error ?? 'the turn ended without a reply'}`;
    await relay.finish(text);
    return text;
  }

  /** Queues `text` for every user paired with `agent`; returns how many. */
  notify(agent: string, text: string): number {
    const users = this.options.store.usersOf(agent);
    for (const user of users) this.options.store.queueOutbox(user, agent, text);
    for (const platform of new Set(users.map((user) => user.platform))) this.drainOutbox(platform);
    return users.length;
  }

  /** A cron run's or a heartbeat wake-up's reply reaches the agent's paired users. */
  report(agent: string, item: LaneItem, reply: string): void {
    if (reply.trim() === '') return;
    const label = item.kind === 'cron' ? 'cron job' : 'heartbeat';
    this.notify(agent, `[${agent} · ${label}]\n${reply}`);
  }

  /** Sends what waits in the outbox for `platform` now. */
  flush(platform: ChannelPlatform): void {
    this.drainOutbox(platform);
  }

  private drainOutbox(platform: ChannelPlatform): void {
    const adapter = this.adapters.get(platform);
    if (!adapter || this.draining.has(platform)) return;
    this.draining.add(platform);
    void (async () => {
      let failed = false;
      for (const message of this.options.store.outbox(platform)) {
        try {
          const chatId = adapter.privateChat ? await adapter.privateChat(message.user_id) : message.chat_id;
          for (const part of splitReply(message.text, adapter.limits.maxChars)) await adapter.send(chatId, part);
          this.options.store.sent(message.id);
        } catch (err) {
          failed = true;
          this.options.store.failedSend(message.id, OUTBOX_MAX_ATTEMPTS);
          this.options.logger.warn(
            { event: 'channel_notify_failed', platform, agent: message.agent, err: this.options.scrub(String(err)) },
            'a message to a paired user did not go out',
          );
        }
      }
      this.draining.delete(platform);
      if (failed && !this.outboxTimers.has(platform)) {
        const timer = setTimeout(() => {
          this.outboxTimers.delete(platform);
          this.drainOutbox(platform);
        }, OUTBOX_RETRY_MS);
        timer.unref();
        this.outboxTimers.set(platform, timer);
      }
    })();
  }
}
