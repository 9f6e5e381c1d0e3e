// Builds the channels domain's parts: its store over mesh.db and the service with the
// agent calls it needs (buildChannels), and, once the mesh is assembled, one adapter per
// platform configured under `channels:` in config/mesh.yaml (attachAdapters). A token is
// read here from the LEGION_CRED_ secret the config names, and handed only to its adapter.
// An adapter's module (grammy, discord.js: about a second to load) is imported only when
// its platform is configured.
import { LegionError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logging.js';
import { readSse } from '../../shared/sse.js';
import { ChatEventSchema } from '../../shared/wire/chat.js';
import type { Db } from '../db.js';
import type { MeshRuntime } from '../domain.js';
import type { CostMeter } from '../costs/meter.js';
import type { EventLog } from '../events/log.js';
import type { Lanes } from '../lanes/domain.js';
import { CredentialStore } from '../credentials/store.js';
import { openAgentChat, resetAgentSession } from '../runtime/agent-client.js';
import { ChannelService } from './service.js';
import { ChannelStore } from './store.js';
import type { TelegramAdapter } from './telegram.js';

export interface ChannelParts {
  store: ChannelStore;
  service: ChannelService;
  credentials: CredentialStore;
}

export interface ChannelDeps {
  db: Db;
  lanes: Lanes;
  events: EventLog;
  costs: CostMeter;
  runtime: MeshRuntime;
  logger: Logger;
  knownAgents: () => string[];
}

export function buildChannels(deps: ChannelDeps): ChannelParts {
  const { lanes, events, costs, runtime, logger, knownAgents } = deps;
  const { fleet } = runtime;
  const credentials = new CredentialStore(() => runtime.project().env);
  const store = new ChannelStore(deps.db);
  const service = new ChannelService({
    store,
    lanes: lanes.store,
    events,
    logger,
    onEnqueued: lanes.kick,
    knownAgents,
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
    costsToday: (agent) => costs.report({ agent, period: 'today' }),
    scrub: (text) => credentials.scrubber().scrub(text),
  });
  return { store, service, credentials };
}

/** Connects each configured platform; one that fails is logged, never thrown, so the mesh
 *  still starts. Returns the Telegram adapter (its webhook route needs it). */
export async function attachAdapters(
  parts: ChannelParts,
  runtime: MeshRuntime,
  logger: Logger,
): Promise<TelegramAdapter | null> {
  const { service, credentials } = parts;
  const config = runtime.project().mesh.channels;
  let telegram: TelegramAdapter | null = null;
  if (config?.telegram) {
    try {
      const { TelegramAdapter } = await import('./telegram.js');
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
      const { DiscordAdapter } = await import('./discord.js');
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
  return telegram;
}
