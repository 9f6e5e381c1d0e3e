// Heartbeat as a mesh domain: per-agent beats that run deterministic probes and wake
// the agent (a lane item) only when something is actionable. A wake-up ends with its
// item's reply, heard from the dispatcher's `delivered`; what it cost is the ledger's.
import type { DomainModule } from '../../domain.js';
import type { BlackboardStore } from '../../blackboard/store.js';
import type { CostMeter } from '../../costs/meter.js';
import type { EventLog } from '../../events/log.js';
import type { Lanes } from '../../lanes/domain.js';
import type { PermissionMatrix } from '../../permissions/matrix.js';
import { fetchProbeReport } from './agent-probe.js';
import { heartbeatAdminRoutes, heartbeatAgentRoutes } from './routes.js';
import { HeartbeatScheduler } from './scheduler.js';
import { HeartbeatStore, heartbeatMigrations } from './store.js';

interface Needs {
  events: EventLog;
  permissions: PermissionMatrix;
  blackboard: BlackboardStore;
  lanes: Lanes;
  costs: CostMeter;
}

export const heartbeatDomain: DomainModule<'heartbeat', Needs, HeartbeatScheduler> = {
  name: 'heartbeat',
  migrations: heartbeatMigrations,
  create: ({ db, logger, runtime, knownAgents }, { events, permissions, blackboard, lanes, costs }) => {
    const { fleet } = runtime;
    const heartbeat = new HeartbeatScheduler({
      store: new HeartbeatStore(db),
      lanes: lanes.store,
      blackboard,
      permissions,
      events,
      logger,
      knownAgents,
      configured: (agent) => runtime.project().agents[agent]?.heartbeat,
      isReady: (agent) => fleet.isHealthy(agent),
      probeAgent: (agent) => fetchProbeReport(fleet.endpoint(agent)),
      traceCost: (agent, trace, sinceMs) => costs.traceCost(agent, trace, sinceMs),
      onEnqueued: lanes.kick,
    });
    lanes.dispatcher.delivered.on(({ item, reply }) => {
      if (item.kind === 'heartbeat') heartbeat.settle(item.id, reply);
    });
    heartbeat.start();
    return {
      api: heartbeat,
      adminRoutes: async (app) => {
        await app.register(heartbeatAdminRoutes, { heartbeat });
      },
      agentRoutes: async (app) => {
        await app.register(heartbeatAgentRoutes, { heartbeat, permissions, events });
      },
      close: () => heartbeat.stop(),
    };
  },
};
