// Builds the channels domain from the mesh's parts: its store over mesh.db, the service
// with the agent calls it needs, and one adapter per platform configured under
// `channels:` in config/mesh.yaml. A token is read here from the LEGION_CRED_ secret
// the config names, and handed only to its adapter.
import { LegionError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logging.js';
import { readSse } from '../../shared/sse.js';
import { ChatEventSchema } from '../../shared/wire/chat.js';
import { isHeartbeatOk } from '../triggers/heartbeat/probes.js';
import { CredentialStore } from '../credentials/store.js';
import type { Domains } from '../domains.js';
import type { ProjectStore } from '../project-store.js';
import type { Fleet } from '../runtime/fleet.js';
import { openAgentChat, resetAgentSession } from '../runtime/agent-client.js';
import type { LaneItem } from '../lanes/store.js';
import { ChannelService } from './service.js';
import { ChannelStore } from './store.js';
import { DiscordAdapter } from './discord.js';
import { TelegramAdapter } from './telegram.js';

export interface MeshChannels {
  store: ChannelStore;
  service: ChannelService;
  telegram: TelegramAdapter | null;
  /** After a cron run or heartbeat wake-up: its reply goes to the agent's paired users. */
  afterTrigger: (agent: string, item: LaneItem, reply: string) => void;
}

export async function startChannels(deps: {
  domains: Domains;
  fleet: Fleet;
  project: ProjectStore;
  logger: Logger;
}): Promise<MeshChannels> {
  const { domains, fleet, project, logger } = deps;
  const credentials = new CredentialStore(() => project.get().env);
  const store = new ChannelStore(domains.db);
  const service = new ChannelService({
    store,
    lanes: domains.lanes,
    events: domains.events,
    logger,
    onEnqueued: (agent) => domains.dispatcher.kick(agent),
    knownAgents: () => Object.keys(project.get().agents),
    runTurn: (agent, message, session, trace, signal, onEvent) =>
      fleet.whileBusy(agent, async () => {
        const response = await openAgentChat(fleet.endpoint(agent), message, trace, signal, session);
        if (!response.body) throw new LegionError('agent_error', `agent ${agent} sent no chat stream`);
        for await (const raw of readSse(response.body)) {
          const event = ChatEventSchema.safeParse(raw);
          if (event.success) onEvent(event.data);
        }
      }),
    resetSession: async (agent, session) => void (await resetAgentSession(fleet.endpoint(agent), session)),
    agentStatus: () => fleet.status(),
    costsToday: (agent) => domains.costs.report({ agent, period: 'today' }),
    scrub: (text) => credentials.scrubber().scrub(text),
  });
  const config = project.get().mesh.channels;
  let telegram: TelegramAdapter | null = null;
  if (config?.telegram) {
    try {
      telegram = new TelegramAdapter(config.telegram, credentials.secret(config.telegram.token_credential));
      await service.attach(telegram);
    } catch (err) {
      logger.error(
        { event: 'channel_start_failed', platform: 'telegram', err: credentials.scrubber().scrub(String(err)) },
        'telegram channel did not start',
      );
    }
  }
  if (config?.discord) {
    try {
      const scrub = (text: string) => credentials.scrubber().scrub(text);
      await service.attach(
        new DiscordAdapter(config.discord, credentials.secret(config.discord.token_credential), { logger, scrub }),
      );
    } catch (err) {
      logger.error(
        { event: 'channel_start_failed', platform: 'discord', err: credentials.scrubber().scrub(String(err)) },
        'discord channel did not start',
      );
    }
  }
  return {
    store,
    service,
    telegram,
    afterTrigger: (agent, item, reply) => {
      if (item.kind === 'cron' || (item.kind === 'heartbeat' && !isHeartbeatOk(reply)))
        service.report(agent, item, reply);
    },
  };
}
