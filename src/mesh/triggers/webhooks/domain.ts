// Webhooks as a mesh domain: hooks and their deliveries. A call to a hook queues an
// item on its agent's lane or starts workflow runs, so it comes after workflows and
// calls them directly. Ingress answers to each hook's own secret: on the admin
// listener outside the admin token, and on the public listener when mesh.yaml has one
// (the mesh starts that with `ingress`).
import type { DomainModule } from '../../domain.js';
import type { EventLog } from '../../events/log.js';
import type { Lanes } from '../../lanes/domain.js';
import type { Workflows } from '../../workflows/domain.js';
import { webhookAdminRoutes, webhookIngressRoutes, type WebhookIngressOptions } from './routes.js';
import { WebhookStore, webhooksMigrations } from './store.js';

export interface Webhooks {
  store: WebhookStore;
  ingress: WebhookIngressOptions;
}

export const webhooksDomain: DomainModule<
  'webhooks',
  { events: EventLog; lanes: Lanes; workflows: Workflows },
  Webhooks
> = {
  name: 'webhooks',
  migrations: webhooksMigrations,
  create: ({ db, logger, runtime, knownAgents }, { events, lanes, workflows }) => {
    const { orchestrator } = workflows;
    const store = new WebhookStore({
      db,
      lanes: lanes.store,
      events,
      onEnqueued: lanes.kick,
      workflows: {
        onCall: (hook, target, payload) => orchestrator.onWebhook(hook, target, payload),
        delivery: (runId) => orchestrator.runDelivery(runId),
      },
    });
    const isKnownAgent = (agent: string): boolean => knownAgents().includes(agent);
    const ingress: WebhookIngressOptions = { store, events, logger, isKnownAgent };
    return {
      api: { store, ingress },
      ingressRoutes: async (app) => {
        await app.register(webhookIngressRoutes, ingress);
      },
      adminRoutes: async (app) => {
        await app.register(webhookAdminRoutes, {
          store,
          events,
          isKnownAgent,
          unknownWorkflow: (name) => orchestrator.unknownWorkflow(name),
          baseUrl: runtime.webhookBaseUrl,
        });
      },
    };
  },
};
