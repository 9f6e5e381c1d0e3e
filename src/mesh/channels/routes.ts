// Channels over HTTP. Admin API: pair a user by their one-time code (legion channels
// pair), list paired users, revoke one. Agent API: notify_user, only with can_notify_user.
// Telegram webhook ingress (POST /channels/telegram) sits outside the admin token, checked
// by the secret token Telegram echoes (grammY's webhookCallback).
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { LegionError } from '../../shared/errors.js';
import { parseOrThrow } from '../../shared/validate.js';
import { NotifyUserRequestSchema, PairRequestSchema } from '../../shared/wire/channels.js';
import type { FlagChecker } from '../permissions/types.js';
import type { EventLog } from '../events/log.js';
import { toWireUser, userLabel, type ChannelStore } from './store.js';
import type { ChannelService } from './service.js';
import type { TelegramAdapter } from './telegram.js';

export interface ChannelAdminRoutesOptions {
  store: ChannelStore;
  service: ChannelService;
  events: EventLog;
  knownAgents: () => string[];
  defaultAgent: (platform: 'telegram' | 'discord') => string | undefined;
}

export const channelAdminRoutes: FastifyPluginAsync<ChannelAdminRoutesOptions> = async (
  app,
  { store, service, events, knownAgents, defaultAgent },
) => {
  app.post('/api/channels/pair', async (request, reply) => {
    const body = parseOrThrow(PairRequestSchema, request.body, 'body');
    const known = knownAgents();
    const agents = body.agents ?? known;
    const unknown = agents.filter((agent) => !known.includes(agent));
    if (unknown.length > 0)
      throw new LegionError(
        'invalid_agents',
        `no agent named ${unknown.join(', ')} (agents: ${known.join(', ') || 'none'})`,
      );
    if (agents.length === 0)
      throw new LegionError('invalid_agents', 'the fleet has no agents to pair the user with; add one first');
    const pending = store.pair(body.code, agents, undefined);
    const preferred = defaultAgent(pending.platform);
    if (preferred !== undefined && agents.includes(preferred))
      store.setCurrentAgent(pending.platform, pending.user_id, preferred);
    const user = store.user(pending.platform, pending.user_id) ?? pending;
    events.record({ agent: null, kind: 'channel_paired', subject: userLabel(user), detail: { agents } });
    store.queueOutbox(
      user,
      user.current_agent,
      `You are paired. Your agents: ${agents.join(', ')}; you are talking to ${user.current_agent}. /help lists the commands.`,
    );
    service.flush(user.platform);
    return reply.status(201).send(toWireUser(user));
  });

  app.get('/api/channels/users', async () => ({ users: store.users().map(toWireUser) }));

  app.delete('/api/channels/users/:user', async (request) => {
    const { user } = parseOrThrow(z.object({ user: z.string().min(1) }), request.params, 'params');
    const revoked = store.revoke(user);
    events.record({ agent: null, kind: 'channel_revoked', subject: revoked, detail: {} });
    return { revoked };
  });
};

export interface ChannelAgentRoutesOptions {
  service: ChannelService;
  permissions: FlagChecker;
  events: EventLog;
}

export const channelAgentRoutes: FastifyPluginAsync<ChannelAgentRoutesOptions> = async (
  app,
  { service, permissions, events },
) => {
  app.post('/mesh/channels/notify', async (request) => {
    const decision = permissions.flag(request.agentName, 'can_notify_user');
    if (!decision.allowed) {
      events.record({
        agent: request.agentName,
        kind: 'denied',
        subject: 'notify_user',
        detail: { permission: 'can_notify_user', reason: decision.reason },
        trace: request.trace,
      });
      throw new LegionError('forbidden', decision.reason);
    }
    const { text } = parseOrThrow(NotifyUserRequestSchema, request.body, 'body');
    const users = service.notify(request.agentName, text);
    events.record({
      agent: request.agentName,
      kind: 'channel_notify',
      subject: request.agentName,
      detail: { users, chars: text.length },
      trace: request.trace,
    });
    return { users };
  });
};

export const telegramWebhookRoutes: FastifyPluginAsync<{ adapter: () => TelegramAdapter | null }> = async (
  app,
  { adapter },
) => {
  app.post('/channels/telegram', async (request, reply) => {
    const handler = adapter()?.webhook();
    if (!handler) throw new LegionError('not_found', 'the Telegram channel is not in webhook mode');
    return handler(request, reply);
  });
};
