// Workflows as a mesh domain: the definitions in config/workflows (read before mesh.db
// opens), their runs' store and the orchestrator. It listens to the domains before it:
// a publish may start runs (pub/sub's `published`, inside the publish's transaction), a
// task item that failed for good is a failed attempt of its step (the dispatcher's
// `failed`), and it says how a step's task item reaches its agent (task mode, holding
// the lane until the task is final). Its on_complete publishes go through pub/sub.
import type { DomainModule } from '../domain.js';
import type { BlackboardStore } from '../blackboard/store.js';
import type { EventLog } from '../events/log.js';
import type { Lanes } from '../lanes/domain.js';
import type { PermissionMatrix } from '../permissions/matrix.js';
import type { PubSub } from '../pubsub/pubsub.js';
import { cancelTask } from '../runtime/agent-client.js';
import { WorkflowDefinitions } from './definitions.js';
import { loadWorkflows, type LoadedWorkflow } from '../../shared/config/workflows/load.js';
import { Orchestrator } from './orchestrator.js';
import { workflowAdminRoutes } from './routes.js';
import { workflowDetailRoutes } from './detail-routes.js';
import { WorkflowStore, workflowsMigrations } from './store.js';
import { deliverTask } from './task-delivery.js';

export interface Workflows {
  orchestrator: Orchestrator;
  store: WorkflowStore;
  definitions: WorkflowDefinitions;
}

interface Needs {
  events: EventLog;
  permissions: PermissionMatrix;
  blackboard: BlackboardStore;
  lanes: Lanes;
  pubsub: PubSub;
}

export const workflowsDomain: DomainModule<'workflows', Needs, Workflows, Map<string, LoadedWorkflow>> = {
  name: 'workflows',
  migrations: workflowsMigrations,
  load: ({ projectDir, runtime }) => loadWorkflows(projectDir, runtime.project().agents),
  create: ({ db, projectDir, logger, runtime }, { events, permissions, blackboard, lanes, pubsub }, initial) => {
    const { fleet } = runtime;
    const agents = () => runtime.project().agents;
    const store = new WorkflowStore(db, events);
    const definitions = new WorkflowDefinitions({ initial, projectDir, agents, events, logger });
    const orchestrator = new Orchestrator({
      db,
      store,
      definitions,
      lanes: lanes.store,
      blackboard,
      permissions,
      events,
      logger,
      agents,
      publish: (publisher, topic, payload, trace) => void pubsub.publish(publisher, topic, payload, trace),
      onEnqueued: lanes.kick,
      cancelTask: async (agent, taskId) => cancelTask(fleet.endpoint(agent), taskId),
    });
    pubsub.published.on(({ topic, payload }) => orchestrator.onPublished(topic, payload));
    lanes.dispatcher.failed.on(({ item, reason }) => {
      if (item.kind === 'task') orchestrator.handOverFailed(item, reason);
    });
    lanes.deliverBy('task', async (agent, item, signal) => {
      const endpoint = fleet.endpoint(agent);
      return fleet.whileBusy(agent, () => deliverTask(endpoint, item, orchestrator, signal));
    });
    return {
      api: { orchestrator, store, definitions },
      adminRoutes: async (app) => {
        await app.register(workflowAdminRoutes, { orchestrator, definitions, store });
        await app.register(workflowDetailRoutes, { orchestrator, store, lanes: lanes.store });
      },
      // After the dispatcher re-queued what was in flight: runs pick up from their rows.
      resume: () => orchestrator.resume(),
      close: () => orchestrator.stop(),
    };
  },
};
