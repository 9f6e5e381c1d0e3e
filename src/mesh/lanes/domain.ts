// The lanes as a mesh domain: the per-agent queues, the dispatcher that hands their
// items over, and chat turns. How an item reaches its agent depends on its kind: the
// domain that queues a kind with its own way in (a workflow step, a channel message)
// says so through deliverBy(); a chat turn goes to the person's relay; every other
// item is a turn of the agent's own. The dispatcher's `delivered` and `failed` signals
// let the domains that queued an item hear how it ended.
import type { LaneItemKind } from '../../shared/wire/fleet.js';
import type { DomainModule } from '../domain.js';
import type { EventLog } from '../events/log.js';
import { runAgentTurn } from '../runtime/agent-client.js';
import { laneAdminRoutes } from './admin-routes.js';
import { ChatTurns } from './chat-turns.js';
import { LaneDispatcher } from './dispatcher.js';
import { laneItemText } from './format.js';
import { LaneStore, lanesMigrations, type LaneItem } from './store.js';

export type LaneDelivery = (agent: string, item: LaneItem, signal: AbortSignal) => Promise<string>;

export interface Lanes {
  store: LaneStore;
  dispatcher: LaneDispatcher;
  chats: ChatTurns;
  /** Wakes `agent`'s lane after something was queued on it. */
  kick: (agent: string) => void;
  /** Items of `kind` reach their agent this way instead of as a turn of its own. */
  deliverBy: (kind: LaneItemKind, delivery: LaneDelivery) => void;
}

export const lanesDomain: DomainModule<'lanes', { events: EventLog }, Lanes> = {
  name: 'lanes',
  migrations: lanesMigrations,
  create: ({ db, logger, runtime, knownAgents }, { events }) => {
    const { fleet } = runtime;
    const store = new LaneStore(db, () => runtime.project().mesh.mesh.lane_depth_cap);
    const ways = new Map<LaneItemKind, LaneDelivery>();
    const deliver = async (agent: string, item: LaneItem, signal: AbortSignal): Promise<string> => {
      const way = ways.get(item.kind);
      if (way) return way(agent, item, signal);
      const endpoint = fleet.endpoint(agent);
      return fleet.whileBusy(agent, () => runAgentTurn(endpoint, laneItemText(item), item.trace ?? item.id, signal));
    };
    const dispatcher = new LaneDispatcher({
      store,
      events,
      logger,
      isReady: (agent) => fleet.isHealthy(agent),
      stillReady: runtime.stillReady,
      deliver,
    });
    const kick = (agent: string): void => dispatcher.kick(agent);
    const chats = new ChatTurns({ store, kick });
    ways.set('chat', async (_agent, item) => chats.handOver(item));
    return {
      api: { store, dispatcher, chats, kick, deliverBy: (kind, delivery) => void ways.set(kind, delivery) },
      adminRoutes: async (app) => {
        await app.register(laneAdminRoutes, { lanes: store, knownAgents });
      },
      // Re-queues what was in flight at the last stop, once adopted agents can take it.
      resume: () => dispatcher.start(),
      close: () => dispatcher.stop(),
    };
  },
};
