// Webhook routes. Ingress (POST /webhook/hook/<id>) answers to the hook's own secret,
// checked in the hook's scheme, never to the admin token, and is registered outside the
// admin scope on the admin listener and alone on the optional public one. Admin routes
// (/api/webhooks*) manage hooks and report deliveries. Invariants: bodies are read raw
// (signatures cover the exact bytes) and capped at 1 MB before anything else reads them;
// an unknown hook id is a 404 before its body is read; nothing is answered, not even a
// handshake, before the signature is checked; every refusal of a known hook is recorded
// as an event with its reason (never a secret or a signature); an accepted call is on
// the target's lane (or its workflow run is stored) before the 202 goes out, and a
// filtered one is a stored delivery that woke no one.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { queryInt } from '../../../shared/wire/blackboard.js';
import { LegionError } from '../../../shared/errors.js';
import type { Logger } from '../../../shared/logging.js';
import { parseOrThrow } from '../../../shared/validate.js';
import {
  AddWebhookRequestSchema,
  DEFAULT_WEBHOOK_MESSAGE,
  SignWebhookRequestSchema,
  WEBHOOK_MAX_BODY_BYTES,
  type SignWebhookResponse,
  type Webhook,
  type WebhookAccepted,
  type WebhookDelivery,
  webhookTargetLabel,
} from '../../../shared/wire/webhooks.js';
import type { EventLog } from '../../events/log.js';
import { filterCall, parseWebhookFilter } from './filter.js';
import { parseWebhookPayload } from './payload.js';
import { checkCall, signCall } from './schemes.js';
import { callIdentity, handshakeAnswer } from './sender.js';
import { targetAgent, type WebhookRecord, type WebhookStore } from './store.js';
import { renderWebhookMessage } from './template.js';

const WEBHOOK_PATH_PREFIX = '/webhook/hook/';

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export interface WebhookIngressOptions {
  store: WebhookStore;
  events: EventLog;
  logger: Logger;
  isKnownAgent: (agent: string) => boolean;
}

const HookParams = z.object({ id: z.string() });

/** Status and code of an error on its way out, whether legion's or Fastify's own. */
function describeError(error: Error): { status: number; code: string } {
  if (error instanceof LegionError) return { status: error.status, code: error.code };
  const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
  const code = 'code' in error && typeof error.code === 'string' ? error.code : 'error';
  return { status, code: status === 413 ? 'body_too_large' : code };
}

export const webhookIngressRoutes: FastifyPluginAsync<WebhookIngressOptions> = async (
  app,
  { store, events, logger, isKnownAgent },
) => {
  // Signatures cover the exact bytes sent, so in this scope every body stays raw.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_MAX_BODY_BYTES }, (_request, body, done) =>
    done(null, body),
  );
  const hooks = new WeakMap<FastifyRequest, WebhookRecord>();

  app.post(`${WEBHOOK_PATH_PREFIX}:id`, {
    onRequest: async (request) => {
      const hook = store.byId(parseOrThrow(HookParams, request.params, 'path').id);
      if (!hook) throw new LegionError('not_found', 'no such webhook');
      hooks.set(request, hook);
    },
    onError: async (request, _reply, error) => {
      const hook = hooks.get(request);
      const { status, code } = describeError(error);
      // A crash in the mesh is no refusal; the error handler logs it.
      if (!hook || (status >= 500 && !(error instanceof LegionError))) return;
      events.record({
        agent: targetAgent(hook.target),
        kind: 'webhook_refused',
        subject: hook.name,
        detail: { status, code, reason: error.message },
      });
      logger.info(
        { event: 'webhook_refused', webhook: hook.name, target: webhookTargetLabel(hook.target), status, code },
        'webhook call refused',
      );
    },
    handler: async (request, reply): Promise<WebhookAccepted | Record<string, unknown>> => {
      const hook = hooks.get(request);
      if (!hook) throw new LegionError('not_found', 'no such webhook');
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const nowS = nowSeconds();
      const check = checkCall({ scheme: hook.scheme, secret: hook.secret, headers: request.headers, body, nowS });
      if (!check.ok) throw new LegionError(check.code, check.reason);
      const contentType = request.headers['content-type'] ?? null;
      const payload = parseWebhookPayload(contentType ?? undefined, body);
      if (!payload.ok) throw new LegionError(payload.code, payload.reason);
      const sender = callIdentity(hook.scheme, request.headers, payload.value);
      const handshake = handshakeAnswer(hook.scheme, sender, payload.value);
      if (handshake !== null) {
        events.record({
          agent: targetAgent(hook.target),
          kind: 'webhook_handshake',
          subject: hook.name,
          detail: { handshake: handshake.kind },
        });
        return reply.status(200).send(handshake.body);
      }
      const decision = filterCall(hook, { ...sender, payload: payload.value });
      const agent = targetAgent(hook.target);
      if (decision.pass && agent !== null && !isKnownAgent(agent)) {
        throw new LegionError(
          'agent_unavailable',
          `webhook ${hook.name} delivers to agent ${agent}, which is not in the fleet now; try again later`,
        );
      }
      const outcome = store.accept({
        hook,
        replay: check.replay,
        filtered: !decision.pass,
        nowS,
        body: {
          source: `webhook ${hook.name}`,
          title: `${payload.kind} payload`,
          text: renderWebhookMessage(hook.message, payload.value, sender),
        },
        payload: payload.value,
        contentType,
        bytes: body.length,
      });
      if (!outcome.accepted)
        throw new LegionError(
          check.replay?.code ?? 'signature_replayed',
          check.replay?.reason ?? 'this call was already accepted',
        );
      if (!decision.pass) {
        logger.info(
          { event: 'webhook_filtered', webhook: hook.name, delivery: outcome.deliveryId, reason: decision.reason },
          'webhook call filtered',
        );
        return reply.status(202).send({ delivery_id: outcome.deliveryId, filtered: true });
      }
      return reply.status(202).send({ delivery_id: outcome.deliveryId });
    },
  });
};

export interface WebhookAdminOptions {
  store: WebhookStore;
  events: EventLog;
  isKnownAgent: (agent: string) => boolean;
  /** Names the known workflows when `name` is not one; null when it is. */
  unknownWorkflow: (name: string) => string | null;
  /** Where senders reach the hooks: the public listener's address if configured, else the admin API's. */
  baseUrl: () => string;
}

const NameParams = z.object({ name: z.string() });
const DeliveryParams = z.object({ id: z.string() });
const DeliveriesQuery = z.strictObject({ limit: queryInt(z.int().min(1).max(100)).default(10) });

export const webhookAdminRoutes: FastifyPluginAsync<WebhookAdminOptions> = async (
  app,
  { store, events, isKnownAgent, unknownWorkflow, baseUrl },
) => {
  const urlOf = (hook: WebhookRecord): string => `${baseUrl()}${WEBHOOK_PATH_PREFIX}${hook.id}`;
  const view = (hook: WebhookRecord, deliveries: number): Webhook => ({
    name: hook.name,
    id: hook.id,
    target: hook.target,
    url: urlOf(hook),
    has_secret: hook.secret !== null,
    scheme: hook.scheme,
    events: hook.events,
    filter: hook.filter,
    message: hook.message,
    created_at: hook.created_at,
    deliveries,
  });
  const named = (params: unknown): WebhookRecord => {
    const { name } = parseOrThrow(NameParams, params, 'path');
    const hook = store.byName(name);
    if (!hook) throw new LegionError('not_found', `no webhook named "${name}" (see \`legion webhook list\`)`);
    return hook;
  };

  app.post('/api/webhooks', async (request, reply): Promise<Webhook> => {
    const body = parseOrThrow(AddWebhookRequestSchema, request.body, 'body');
    const { target } = body;
    if (target.kind === 'agent' && !isKnownAgent(target.agent))
      throw new LegionError('agent_unknown', `no agent named "${target.agent}" (see \`legion status\`)`);
    const unknown = target.kind === 'workflow' ? unknownWorkflow(target.workflow) : null;
    if (unknown !== null) throw new LegionError('workflow_unknown', unknown);
    if (body.filter !== undefined) parseWebhookFilter(body.filter);
    const hook = store.create({
      name: body.name,
      target,
      secret: body.secret ?? null,
      scheme: body.scheme ?? 'legion',
      events: body.events ?? null,
      filter: body.filter ?? null,
      message: body.message ?? DEFAULT_WEBHOOK_MESSAGE,
    });
    events.record({
      agent: targetAgent(target),
      kind: 'webhook_added',
      subject: hook.name,
      detail: { target: webhookTargetLabel(target), signed: hook.secret !== null, scheme: hook.scheme },
    });
    return reply.status(201).send(view(hook, 0));
  });

  app.get(
    '/api/webhooks',
    async (): Promise<{ webhooks: Webhook[] }> => ({
      webhooks: store.list().map((hook) => view(hook, hook.deliveries)),
    }),
  );

  app.delete('/api/webhooks/:name', async (request): Promise<{ removed: string }> => {
    const hook = named(request.params);
    store.remove(hook.name);
    events.record({ agent: targetAgent(hook.target), kind: 'webhook_removed', subject: hook.name });
    return { removed: hook.name };
  });

  // The CLI's `webhook test` signs through here, in the hook's scheme, so the secret never leaves the mesh.
  app.post('/api/webhooks/:name/sign', async (request): Promise<SignWebhookResponse> => {
    const hook = named(request.params);
    const { body, event } = parseOrThrow(SignWebhookRequestSchema, request.body, 'body');
    if (hook.secret === null) return { url: urlOf(hook), headers: {} };
    // A test names an event the hook listens to unless told otherwise, so it is not filtered out.
    const eventName = event ?? hook.events?.[0] ?? 'test';
    return {
      url: urlOf(hook),
      headers: signCall(hook.scheme, hook.secret, Buffer.from(body, 'utf8'), nowSeconds(), eventName),
    };
  });

  // The dashboard's triggers page: a hook's recent deliveries and how each ended.
  app.get('/api/webhooks/:name/deliveries', async (request): Promise<{ deliveries: WebhookDelivery[] }> => {
    const hook = named(request.params);
    const { limit } = parseOrThrow(DeliveriesQuery, request.query, 'query');
    return { deliveries: store.recentDeliveries(hook.id, limit) };
  });

  app.get('/api/webhooks/deliveries/:id', async (request): Promise<WebhookDelivery> => {
    const { id } = parseOrThrow(DeliveryParams, request.params, 'path');
    const delivery = store.delivery(id);
    if (!delivery) throw new LegionError('not_found', `no webhook delivery ${id}`);
    return delivery;
  });
};
