// Chat channels (Telegram) as a mesh domain: paired users, their messages queued on
// lanes as `channel` items, and replies relayed back. It says how a channel item reaches
// its agent (a turn in the user's session, streamed to the platform), and hears from
// the dispatcher's `delivered` when a cron run or a heartbeat wake-up with something to
// say ends, so the agent's paired users get it. Platforms connect once the mesh is
// assembled (start), before the listeners open; Telegram's webhook is ingress.
import { isHeartbeatOk } from '../triggers/heartbeat/probes.js';
import type { DomainModule } from '../domain.js';
import type { CostMeter } from '../costs/meter.js';
import type { EventLog } from '../events/log.js';
import type { Lanes } from '../lanes/domain.js';
import type { PermissionMatrix } from '../permissions/matrix.js';
import { channelAdminRoutes, channelAgentRoutes, telegramWebhookRoutes } from './routes.js';
import type { ChannelService } from './service.js';
import { channelsMigrations, type ChannelStore } from './store.js';
import { attachAdapters, buildChannels } from './wiring.js';
import type { TelegramAdapter } from './telegram.js';

export interface Channels {
  store: ChannelStore;
  service: ChannelService;
}

export const channelsDomain: DomainModule<
  'channels',
  { events: EventLog; permissions: PermissionMatrix; lanes: Lanes; costs: CostMeter },
  Channels
> = {
  name: 'channels',
  migrations: channelsMigrations,
  create: ({ db, logger, runtime, knownAgents }, { events, permissions, lanes, costs }) => {
    const parts = buildChannels({ db, lanes, events, costs, runtime, logger, knownAgents });
    const { store, service } = parts;
    let telegram: TelegramAdapter | null = null;
    lanes.deliverBy('channel', async (agent, item, signal) => {
      // An agent no longer up fails the hand-over here, so the dispatcher puts the item back.
      runtime.fleet.endpoint(agent);
      return service.deliver(agent, item, signal);
    });
    lanes.dispatcher.delivered.on(({ agent, item, reply }) => {
      if (item.kind === 'cron' || (item.kind === 'heartbeat' && !isHeartbeatOk(reply)))
        service.report(agent, item, reply);
    });
    return {
      api: { store, service },
      start: async () => {
        telegram = await attachAdapters(parts, runtime, logger);
      },
      ingressRoutes: async (app) => {
        await app.register(telegramWebhookRoutes, { adapter: () => telegram });
      },
      adminRoutes: async (app) => {
        await app.register(channelAdminRoutes, {
          store,
          service,
          events,
          knownAgents,
          defaultAgent: (platform) => runtime.project().mesh.channels?.[platform]?.default_agent,
        });
      },
      agentRoutes: async (app) => {
        await app.register(channelAgentRoutes, { service, permissions, events });
      },
      close: () => service.stop(),
    };
  },
};
