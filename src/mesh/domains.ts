// The mesh's stateful domains over one mesh.db: event log, permission matrix,
// blackboard, lanes (+ dispatcher, chat turns), pub/sub, the message router, costs
// (ledger + budgets), webhooks, file watchers, cron, heartbeat, workflows and the
// container records kept for adoption. Built once per mesh start; close() stops their
// timers and watchers and closes the database.
import { join } from 'node:path';
import type { Logger } from '../shared/logging.js';
import { openMeshDb, type Db } from './db.js';
import { EventLog, eventsMigrations } from './events/log.js';
import { PermissionMatrix } from './permissions/matrix.js';
import { BlackboardStore, blackboardMigrations, startBlackboardGc } from './blackboard/store.js';
import { LaneStore, lanesMigrations, type LaneItem } from './lanes/store.js';
import { LaneDispatcher } from './lanes/dispatcher.js';
import { ChatTurns } from './lanes/chat-turns.js';
import { ContainerRecords, runtimeMigrations } from './runtime/adoption.js';
import { PubSub, pubsubMigrations } from './pubsub/pubsub.js';
import { MessageRouter, routerMigrations } from './router/router.js';
import { costsMigrations } from './costs/ledger.js';
import { openCostMeter, type CostConfig, type CostMeter } from './costs/meter.js';
import { loadPriceBook } from '../shared/config/prices.js';
import { WebhookStore, webhooksMigrations } from './triggers/webhooks/store.js';
import { FileWatchers, watchersMigrations } from './triggers/watchers/watchers.js';
import { loadWatchersConfig } from '../shared/config/watchers.js';
import { CronStore, cronMigrations } from './triggers/cron/store.js';
import { CronScheduler } from './triggers/cron/scheduler.js';
import { HeartbeatStore, heartbeatMigrations } from './triggers/heartbeat/store.js';
import { HeartbeatScheduler } from './triggers/heartbeat/scheduler.js';
import type { AgentProbeReport, HeartbeatConfig } from '../shared/wire/heartbeat.js';
import { loadWorkflows, type AgentRoles } from '../shared/config/workflows/load.js';
import { WorkflowDefinitions } from './workflows/definitions.js';
import { WorkflowStore, workflowsMigrations } from './workflows/store.js';
import { Orchestrator } from './workflows/orchestrator.js';
import { Pruner } from './retention/pruner.js';
import type { RetentionConfig } from '../shared/config/schema.js';
import { channelsMigrations } from './channels/store.js';

const BLACKBOARD_GC_MS = 60_000;

export interface DomainHooks {
  knownAgents: () => string[];
  /** The configured agents with their roles (workflow steps by capability). */
  agents: () => AgentRoles;
  isReady: (agent: string) => boolean;
  /** After a failed hand-over: is the agent still up (checked now)? */
  stillReady: (agent: string) => Promise<boolean>;
  deliver: (agent: string, item: LaneItem, signal: AbortSignal) => Promise<string>;
  /** mesh.lane_depth_cap as currently configured. */
  laneDepthCap: () => number;
  /** Budgets and time zone as currently configured. */
  costConfig: () => CostConfig;
  /** mesh.yaml `retention` as currently configured. */
  retention: () => RetentionConfig;
  /** Providers served on this machine or the private network, priced at 0 unless config/prices.yaml says otherwise. */
  localProviders: () => ReadonlySet<string>;
  /** agents.<name>.heartbeat as currently configured. */
  heartbeatConfig: (agent: string) => HeartbeatConfig | undefined;
  /** The agent server's heartbeat probe report (no LLM call). */
  probeAgent: (agent: string) => Promise<AgentProbeReport>;
  /** POST /cancel/<task_id> to the agent (a workflow step's task). */
  cancelTask: (agent: string, taskId: string) => Promise<unknown>;
}

export interface Domains {
  db: Db;
  events: EventLog;
  permissions: PermissionMatrix;
  blackboard: BlackboardStore;
  lanes: LaneStore;
  dispatcher: LaneDispatcher;
  chats: ChatTurns;
  containers: ContainerRecords;
  pubsub: PubSub;
  router: MessageRouter;
  costs: CostMeter;
  webhooks: WebhookStore;
  watchers: FileWatchers;
  cron: CronScheduler;
  heartbeat: HeartbeatScheduler;
  workflows: Orchestrator;
  workflowStore: WorkflowStore;
  workflowDefinitions: WorkflowDefinitions;
  pruner: Pruner;
  close: () => void;
}

export function createDomains(stateDir: string, projectDir: string, logger: Logger, hooks: DomainHooks): Domains {
  // Read before the database opens: an invalid price table, watchers file or workflow fails the start with nothing to close.
  const prices = loadPriceBook(projectDir, logger, hooks.localProviders());
  const watchersConfig = loadWatchersConfig(projectDir, hooks.knownAgents());
  const initialWorkflows = loadWorkflows(projectDir, hooks.agents());
  const db = openMeshDb(join(stateDir, 'mesh.db'), [
    ...eventsMigrations,
    ...blackboardMigrations,
    ...lanesMigrations,
    ...pubsubMigrations,
    ...routerMigrations,
    ...costsMigrations,
    ...webhooksMigrations,
    ...watchersMigrations,
    ...runtimeMigrations,
    ...cronMigrations,
    ...heartbeatMigrations,
    ...workflowsMigrations,
    ...channelsMigrations,
  ]);
  const events = new EventLog(db, logger);
  const permissions = new PermissionMatrix({ projectDir, events, logger });
  try {
    permissions.load();
  } catch (err) {
    db.close();
    throw err;
  }
  const blackboard = new BlackboardStore(db);
  const stopGc = startBlackboardGc(blackboard, BLACKBOARD_GC_MS, (err) =>
    logger.error({ err, event: 'blackboard_gc_failed' }, 'blackboard gc failed'),
  );
  const lanes = new LaneStore(db, hooks.laneDepthCap);
  // A cron run or a heartbeat wake-up ends with its lane item's reply; the schedulers record that and never throw.
  const deliver = async (agent: string, item: LaneItem, signal: AbortSignal): Promise<string> => {
    const reply = await hooks.deliver(agent, item, signal);
    if (item.kind === 'cron') cron.settle(item.id);
    if (item.kind === 'heartbeat') heartbeat.settle(item.id, reply);
    return reply;
  };
  // A task item the dispatcher gave up on is a failed attempt of its workflow step.
  const onFailed = (item: LaneItem, reason: string) => {
    if (item.kind === 'task') workflows.handOverFailed(item, reason);
  };
  const dispatcher = new LaneDispatcher({
    store: lanes,
    events,
    logger,
    isReady: hooks.isReady,
    stillReady: hooks.stillReady,
    deliver,
    onFailed,
  });
  const kick = (agent: string) => dispatcher.kick(agent);
  const chats = new ChatTurns({ store: lanes, kick });
  const pubsub = new PubSub({
    db,
    lanes,
    events,
    permissions,
    knownAgents: hooks.knownAgents,
    onEnqueued: kick,
    onPublished: (topic, payload) => workflows.onPublished(topic, payload),
  });
  const router = new MessageRouter({ db, lanes, events, onEnqueued: kick });
  const costs = openCostMeter({ db, prices, config: hooks.costConfig, events, logger });
  const webhooks = new WebhookStore({
    db,
    lanes,
    events,
    onEnqueued: kick,
    workflows: {
      onCall: (hook, target, payload) => workflows.onWebhook(hook, target, payload),
      delivery: (runId) => workflows.runDelivery(runId),
    },
  });
  const workflowStore = new WorkflowStore(db, events);
  const workflowDefinitions = new WorkflowDefinitions({
    initial: initialWorkflows,
    projectDir,
    agents: hooks.agents,
    events,
    logger,
  });
  const workflows = new Orchestrator({
    db,
    store: workflowStore,
    definitions: workflowDefinitions,
    lanes,
    blackboard,
    permissions,
    events,
    logger,
    agents: hooks.agents,
    publish: (publisher, topic, payload, trace) => void pubsub.publish(publisher, topic, payload, trace),
    onEnqueued: kick,
    cancelTask: hooks.cancelTask,
  });
  const watchers = new FileWatchers({
    db,
    lanes,
    events,
    logger,
    projectDir,
    config: watchersConfig,
    knownAgents: hooks.knownAgents,
    onEnqueued: kick,
  });
  watchers.start();
  const cron = new CronScheduler({
    store: new CronStore(db),
    lanes,
    events,
    logger,
    knownAgents: hooks.knownAgents,
    onEnqueued: kick,
  });
  const heartbeat = new HeartbeatScheduler({
    store: new HeartbeatStore(db),
    lanes,
    blackboard,
    permissions,
    events,
    logger,
    knownAgents: hooks.knownAgents,
    configured: hooks.heartbeatConfig,
    isReady: hooks.isReady,
    probeAgent: hooks.probeAgent,
    traceCost: (agent, trace, sinceMs) => costs.traceCost(agent, trace, sinceMs),
    onEnqueued: kick,
  });
  cron.start();
  heartbeat.start();
  const pruner = new Pruner({ db, config: hooks.retention, timeZone: () => hooks.costConfig().mesh.timezone, logger });
  pruner.start();
  return {
    db,
    events,
    permissions,
    blackboard,
    lanes,
    dispatcher,
    chats,
    containers: new ContainerRecords(db),
    pubsub,
    router,
    costs,
    webhooks,
    watchers,
    cron,
    heartbeat,
    workflows,
    workflowStore,
    workflowDefinitions,
    pruner,
    close: () => {
      // A pass in progress stops after its current batch (batches are synchronous).
      void pruner.stop();
      workflows.stop();
      heartbeat.stop();
      cron.stop();
      watchers.stop();
      dispatcher.stop();
      stopGc();
      permissions.close();
      db.close();
    },
  };
}
