// The mesh's stateful domains over one mesh.db: event log, permission matrix,
// blackboard, lanes (+ dispatcher), pub/sub, the message router and costs (ledger +
// budgets). Built once per mesh start; close() stops their timers and watchers and
// closes the database.
import { join } from 'node:path';
import type { Logger } from '../shared/logging.js';
import { openMeshDb, type Db } from './db.js';
import { EventLog, eventsMigrations } from './events/log.js';
import { PermissionMatrix } from './permissions/matrix.js';
import { BlackboardStore, blackboardMigrations, startBlackboardGc } from './blackboard/store.js';
import { LaneStore, lanesMigrations, type LaneItem } from './lanes/store.js';
import { LaneDispatcher } from './lanes/dispatcher.js';
import { PubSub, pubsubMigrations } from './pubsub/pubsub.js';
import { MessageRouter, routerMigrations } from './router/router.js';
import { costsMigrations } from './costs/ledger.js';
import { openCostMeter, type CostConfig, type CostMeter } from './costs/meter.js';
import { loadPriceBook } from './costs/prices.js';

const BLACKBOARD_GC_MS = 60_000;

export interface DomainHooks {
  knownAgents: () => string[];
  isReady: (agent: string) => boolean;
  deliver: (agent: string, item: LaneItem, signal: AbortSignal) => Promise<string>;
  /** Budgets and time zone as currently configured. */
  costConfig: () => CostConfig;
}

export interface Domains {
  db: Db;
  events: EventLog;
  permissions: PermissionMatrix;
  blackboard: BlackboardStore;
  lanes: LaneStore;
  dispatcher: LaneDispatcher;
  pubsub: PubSub;
  router: MessageRouter;
  costs: CostMeter;
  close: () => void;
}

export function createDomains(stateDir: string, projectDir: string, logger: Logger, hooks: DomainHooks): Domains {
  // Read before the database opens: an invalid price table fails the start with nothing to close.
  const prices = loadPriceBook(projectDir, logger);
  const db = openMeshDb(join(stateDir, 'mesh.db'), [...eventsMigrations, ...blackboardMigrations, ...lanesMigrations, ...pubsubMigrations, ...routerMigrations, ...costsMigrations]);
  const events = new EventLog(db, logger);
  const permissions = new PermissionMatrix({ projectDir, events, logger });
  try {
    permissions.load();
  } catch (err) {
    db.close();
    throw err;
  }
  const blackboard = new BlackboardStore(db);
  const stopGc = startBlackboardGc(blackboard, BLACKBOARD_GC_MS, (err) => logger.error({ err, event: 'blackboard_gc_failed' }, 'blackboard gc failed'));
  const lanes = new LaneStore(db);
  const dispatcher = new LaneDispatcher({ store: lanes, events, logger, isReady: hooks.isReady, deliver: hooks.deliver });
  const kick = (agent: string) => dispatcher.kick(agent);
  const pubsub = new PubSub({ db, lanes, events, permissions, knownAgents: hooks.knownAgents, onEnqueued: kick });
  const router = new MessageRouter({ db, lanes, events, onEnqueued: kick });
  const costs = openCostMeter({ db, prices, config: hooks.costConfig, events, logger });
  return {
    db,
    events,
    permissions,
    blackboard,
    lanes,
    dispatcher,
    pubsub,
    router,
    costs,
    close: () => {
      dispatcher.stop();
      stopGc();
      permissions.close();
      db.close();
    },
  };
}
