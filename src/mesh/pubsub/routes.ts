// Pub/sub over HTTP: agents publish and subscribe through the agent API (permission
// checked: can_publish, can_subscribe); the operator publishes and lists through the
// admin API.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { parseOrThrow } from '../../shared/validate.js';
import { PublishRequestSchema, SubscribeRequestSchema, type PublishResponse } from '../../shared/wire/fleet.js';
import type { EventLog } from '../events/log.js';
import { assertAllowed, type PermissionChecker } from '../permissions/types.js';
import type { PubSub } from './pubsub.js';

export interface PubSubRoutesOptions {
  pubsub: PubSub;
  permissions: PermissionChecker;
  events: EventLog;
}

export const pubsubAgentRoutes: FastifyPluginAsync<PubSubRoutesOptions> = async (
  app,
  { pubsub, permissions, events },
) => {
  app.post('/mesh/pubsub/publish', async (request): Promise<PublishResponse> => {
    const { topic, payload } = parseOrThrow(PublishRequestSchema, request.body, 'body');
    assertAllowed(permissions, events, { agent: request.agentName, trace: request.trace }, 'can_publish', topic);
    return pubsub.publish(request.agentName, topic, payload, request.trace);
  });

  app.post('/mesh/pubsub/subscribe', async (request) => {
    const { topic } = parseOrThrow(SubscribeRequestSchema, request.body, 'body');
    assertAllowed(permissions, events, { agent: request.agentName, trace: request.trace }, 'can_subscribe', topic);
    const added = pubsub.subscribe(request.agentName, topic, 'runtime');
    events.record({ agent: request.agentName, kind: 'subscribe', subject: topic, trace: request.trace });
    return {
      agent: request.agentName,
      topic,
      subscribed: added || pubsub.list(request.agentName).some((s) => s.topic === topic),
    };
  });

  app.post('/mesh/pubsub/unsubscribe', async (request) => {
    const { topic } = parseOrThrow(SubscribeRequestSchema, request.body, 'body');
    pubsub.unsubscribe(request.agentName, topic);
    events.record({ agent: request.agentName, kind: 'unsubscribe', subject: topic, trace: request.trace });
    return { agent: request.agentName, topic, subscribed: false };
  });
};

const ListQuery = z.object({ agent: z.string().optional() });

export const pubsubAdminRoutes: FastifyPluginAsync<{ pubsub: PubSub }> = async (app, { pubsub }) => {
  app.post('/api/pubsub/publish', async (request): Promise<PublishResponse> => {
    const { topic, payload } = parseOrThrow(PublishRequestSchema, request.body, 'body');
    return pubsub.publish('operator', topic, payload, null);
  });
  app.get('/api/pubsub/subscriptions', async (request) => {
    const { agent } = parseOrThrow(ListQuery, request.query, 'query');
    return { subscriptions: pubsub.list(agent) };
  });
};
