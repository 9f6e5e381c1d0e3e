// Webhook routes. Ingress (POST /webhook/hook/<id>) answers to the hook's own secret,
// never to the admin token, and is registered outside the admin scope on the admin
// listener and alone on the optional public one. Admin routes (/api/webhooks*) manage
// hooks and report deliveries. Invariants: bodies are read raw (signatures cover the
// exact bytes) and capped at 1 MB before anything else reads them; an unknown hook id is
// a 404 before its body is read; every refusal of a known hook is recorded as an event
// with its reason (never a secret or a signature); an accepted call is on the target's
// lane (or its workflow run is stored) before the 202 goes out.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { LegionError } from '../../../shared/errors.js';
import type { Logger } from '../../../shared/logging.js';
import { parseOrThrow } from '../../../shared/validate.js';
import {
  AddWebhookRequestSchema,
  DEFAULT_WEBHOOK_MESSAGE,
  SignWebhookRequestSchema,
  WEBHOOK_MAX_BODY_BYTES,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
  type SignWebhookResponse,
  type Webhook,
  type WebhookAccepted,
  type WebhookDelivery,
  webhookTargetLabel,
} from '../../../shared/wire/webhooks.js';
import type { EventLog } from '../../events/log.js';
import { parseWebhookPayload } from './payload.js';
import { signWebhook, verifyWebhookSignature } from './signature.js';
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

export const webhookIngressRoutes: FastifyPluginAsync<WebhookIngressOptions> = async (app, { store, events, logger, isKnownAgent }) => {
  // Signatures cover the exact bytes sent, so in this scope every body stays raw.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_MAX_BODY_BYTES }, (_request, body, done) => done(null, body));
  const hooks = new WeakMap<FastifyRequest, WebhookRecord>();

  app.post(`${WEBHOOK_PATH_PREFIX}:id`, {
    onRequest: async (request) => {
      const hook = store.byId(parseOrThrow(HookParams, request.params, 'path').id);
      if (!hook) throw new LegionError('not_found', 'no such webhook', 404);
      hooks.set(request, hook);
    },
    onError: async (request, _reply, error) => {
      const hook = hooks.get(request);
      const { status, code } = describeError(error);
      // A crash in the mesh is no refusal; the error handler logs it.
      if (!hook || (status >= 500 && !(error instanceof LegionError))) return;
      events.record({ agent: targetAgent(hook.target), kind: 'webhook_refused', subject: hook.name, detail: { status, code, reason: error.message } });
      logger.info({ event: 'webhook_refused', webhook: hook.name, target: webhookTargetLabel(hook.target), status, code }, 'webhook call refused');
    },
    handler: async (request, reply): Promise<WebhookAccepted> => {
      const hook = hooks.get(request);
      if (!hook) throw new LegionError('not_found', 'no such webhook', 404);
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const nowS = nowSeconds();
      let signature: { hex: string; timestamp: number } | null = null;
      if (hook.secret !== null) {
        const check = verifyWebhookSignature({
          secret: hook.secret,
          timestamp: request.headers[WEBHOOK_TIMESTAMP_HEADER],
          signature: request.headers[WEBHOOK_SIGNATURE_HEADER],
          body,
          nowS,
        });
        if (!check.ok) throw new LegionError(check.code, check.reason, check.status);
        signature = { hex: check.signature, timestamp: check.timestamp };
      }
      const contentType = request.headers['content-type'] ?? null;
      const payload = parseWebhookPayload(contentType ?? undefined, body);
      if (!payload.ok) throw new LegionError(payload.code, payload.reason, payload.status);
      const agent = targetAgent(hook.target);
      if (agent !== null && !isKnownAgent(agent)) {
        throw new LegionError('agent_unknown', `webhook ${hook.name} delivers to agent ${agent}, which is not in the fleet now; try again later`, 503);
      }
      const outcome = store.accept({
        hook,
        signature,
        nowS,
        body: { source: `webhook ${hook.name}`, title: `${payload.kind} payload`, text: renderWebhookMessage(hook.message, payload.value) },
        payload: payload.value,
        contentType,
        bytes: body.length,
      });
      if (!outcome.accepted) {
        throw new LegionError(outcome.code, 'this signature was already used: sign each call with its own timestamp', 409);
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

export const webhookAdminRoutes: FastifyPluginAsync<WebhookAdminOptions> = async (app, { store, events, isKnownAgent, unknownWorkflow, baseUrl }) => {
  const urlOf = (hook: WebhookRecord): string => `${baseUrl()}${WEBHOOK_PATH_PREFIX}${hook.id}`;
  const view = (hook: WebhookRecord, deliveries: number): Webhook => ({
    name: hook.name,
    id: hook.id,
    target: hook.target,
    url: urlOf(hook),
    has_secret: hook.secret !== null,
    message: hook.message,
    created_at: hook.created_at,
    deliveries,
  });
  const named = (params: unknown): WebhookRecord => {
    const { name } = parseOrThrow(NameParams, params, 'path');
    const hook = store.byName(name);
    if (!hook) throw new LegionError('not_found', `no webhook named "${name}" (see \`legion webhook list\`)`, 404);
    return hook;
  };

  app.post('/api/webhooks', async (request, reply): Promise<Webhook> => {
    const body = parseOrThrow(AddWebhookRequestSchema, request.body, 'body');
    const { target } = body;
    if (target.kind === 'agent' && !isKnownAgent(target.agent)) throw new LegionError('agent_unknown', `no agent named "${target.agent}" (see \`legion status\`)`, 404);
    const unknown = target.kind === 'workflow' ? unknownWorkflow(target.workflow) : null;
    if (unknown !== null) throw new LegionError('workflow_unknown', unknown, 404);
    const hook = store.create({ name: body.name, target, secret: body.secret ?? null, message: body.message ?? DEFAULT_WEBHOOK_MESSAGE });
    events.record({ agent: targetAgent(target), kind: 'webhook_added', subject: hook.name, detail: { target: webhookTargetLabel(target), signed: hook.secret !== null } });
    return reply.status(201).send(view(hook, 0));
  });

  app.get('/api/webhooks', async (): Promise<{ webhooks: Webhook[] }> => ({ webhooks: store.list().map((hook) => view(hook, hook.deliveries)) }));

  app.delete('/api/webhooks/:name', async (request): Promise<{ removed: string }> => {
    const hook = named(request.params);
    store.remove(hook.name);
    events.record({ agent: targetAgent(hook.target), kind: 'webhook_removed', subject: hook.name });
    return { removed: hook.name };
  });

  // The CLI's `webhook test` signs through here, so the secret never leaves the mesh.
  app.post('/api/webhooks/:name/sign', async (request): Promise<SignWebhookResponse> => {
    const hook = named(request.params);
    const { body } = parseOrThrow(SignWebhookRequestSchema, request.body, 'body');
    if (hook.secret === null) return { url: urlOf(hook), headers: {} };
    const timestamp = nowSeconds();
    return {
      url: urlOf(hook),
      headers: { [WEBHOOK_TIMESTAMP_HEADER]: String(timestamp), [WEBHOOK_SIGNATURE_HEADER]: signWebhook(hook.secret, timestamp, Buffer.from(body, 'utf8')) },
    };
  });

  app.get('/api/webhooks/deliveries/:id', async (request): Promise<WebhookDelivery> => {
    const { id } = parseOrThrow(DeliveryParams, request.params, 'path');
    const delivery = store.delivery(id);
    if (!delivery) throw new LegionError('not_found', `no webhook delivery ${id}`, 404);
    return delivery;
  });
};
