// Webhooks on the wire: the admin API bodies behind `legion webhook add|list|remove|test`
// and the answer a sender gets from POST /webhook/hook/<id>.
// Invariants: a hook's secret goes in (add) and never comes back out; a listed hook only
// says whether it has one. Signing happens in the mesh (sign), so the CLI never holds it.
// A hook's scheme names the sender whose signature convention it checks.
import { z } from 'zod';
import { AgentNameSchema, WorkflowNameSchema } from '../names.js';

export const WEBHOOK_TIMESTAMP_HEADER = 'x-legion-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'x-legion-signature';
/** Largest body a hook accepts; a bigger one is a 413. */
export const WEBHOOK_MAX_BODY_BYTES = 1024 * 1024;
/** Used when a hook is added without --message. */
export const DEFAULT_WEBHOOK_MESSAGE = 'A webhook was called with this payload:\n{payload}';

/** Signature conventions a hook can check: legion's own, or a sender's as it documents it. */
export const WEBHOOK_SCHEMES = ['legion', 'github', 'standard', 'stripe', 'slack'] as const;
export const WebhookSchemeSchema = z.enum(WEBHOOK_SCHEMES);
export type WebhookScheme = z.infer<typeof WebhookSchemeSchema>;

/** Standard Webhooks secrets are `whsec_` and the base64 of the key bytes. */
const STANDARD_SECRET = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

export const WebhookEventNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9_.:-]{1,100}$/,
    'expected event types of letters, digits, _ . : and - (e.g. push, pull_request, invoice.paid)',
  );

export const WebhookNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'expected a webhook name of lowercase letters, digits, _ and - (at most 64)');

/** What a call of the hook starts: a turn of an agent (the rendered message on its
 *  lane), or a run of a workflow (the parsed payload as its trigger.payload). */
export const WebhookTargetSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('agent'), agent: AgentNameSchema }),
  z.strictObject({ kind: z.literal('workflow'), workflow: WorkflowNameSchema }),
]);
export type WebhookTarget = z.infer<typeof WebhookTargetSchema>;

/** How a target reads in lists and messages: the agent's name, or workflow:<name>. */
export function webhookTargetLabel(target: WebhookTarget): string {
  return target.kind === 'agent' ? target.agent : `workflow:${target.workflow}`;
}

export const AddWebhookRequestSchema = z
  .strictObject({
    name: WebhookNameSchema,
    target: WebhookTargetSchema,
    /** The sender's shared secret for HMAC-SHA256 signatures; without one the unguessable URL is the only guard. */
    secret: z.string().min(8, 'expected a secret of at least 8 characters').max(512).optional(),
    /** Whose signature convention calls are checked against; default legion. */
    scheme: WebhookSchemeSchema.optional(),
    /** Only calls of these event types wake the target; the others are answered 202 filtered. */
    events: z.array(WebhookEventNameSchema).min(1, 'expected at least one event type').max(100).optional(),
    /** A condition (the workflows' language) over payload, event and delivery; calls it is false for are filtered. */
    filter: z.string().min(1, 'expected a condition').max(2000).optional(),
    /** `{payload}` is the whole payload, `{payload.a.b}` one field of it, `{event}` and `{delivery}` the sender's. */
    message: z.string().min(1).max(8192).optional(),
  })
  .superRefine((hook, ctx) => {
    if (hook.scheme === 'standard' && hook.secret !== undefined && !STANDARD_SECRET.test(hook.secret)) {
      ctx.addIssue({
        code: 'custom',
        path: ['secret'],
        message: 'a Standard Webhooks secret is whsec_ followed by base64 (copy it whole from the sender)',
      });
    }
    if (hook.events !== undefined && (hook.scheme ?? 'legion') === 'legion') {
      ctx.addIssue({
        code: 'custom',
        path: ['events'],
        message:
          'legion-scheme calls carry no event type: give --scheme github|standard|stripe|slack, or filter on the payload with --filter',
      });
    }
  });

export const WebhookSchema = z.object({
  name: z.string(),
  id: z.string(),
  target: WebhookTargetSchema,
  url: z.string(),
  has_secret: z.boolean(),
  scheme: WebhookSchemeSchema,
  /** null: every event type. */
  events: z.array(z.string()).nullable(),
  filter: z.string().nullable(),
  message: z.string(),
  created_at: z.string(),
  deliveries: z.number().int().nonnegative(),
});
export type Webhook = z.infer<typeof WebhookSchema>;

export const WebhookListSchema = z.object({ webhooks: z.array(WebhookSchema) });
export const WebhookRemovedSchema = z.object({ removed: z.string() });

/** 202 to the sender: the payload is stored on the target's lane, or (a workflow
 *  target) the run it started is stored; delivery_id is then the run id. A call the
 *  hook's events or filter turned away is still a delivery, `filtered`, that woke no one. */
export const WebhookAcceptedSchema = z.object({ delivery_id: z.string(), filtered: z.literal(true).optional() });
export type WebhookAccepted = z.infer<typeof WebhookAcceptedSchema>;

export const WebhookDeliveryStatusSchema = z.enum(['queued', 'inflight', 'done', 'failed', 'filtered']);

export const WebhookDeliverySchema = z.object({
  delivery_id: z.string(),
  webhook: z.string(),
  target: WebhookTargetSchema,
  received_at: z.string(),
  status: WebhookDeliveryStatusSchema,
  attempts: z.number().int().nonnegative(),
  reply: z.string().nullable(),
  error: z.string().nullable(),
});
export type WebhookDelivery = z.infer<typeof WebhookDeliverySchema>;

/** Asks the mesh to sign a body for `legion webhook test`, as a sender holding the secret would. */
export const SignWebhookRequestSchema = z.strictObject({
  body: z.string().max(WEBHOOK_MAX_BODY_BYTES),
  /** The event type a github-scheme call names in X-GitHub-Event. */
  event: WebhookEventNameSchema.optional(),
});
export const SignWebhookResponseSchema = z.object({
  url: z.string(),
  /** The signature headers; empty for a hook without a secret. */
  headers: z.record(z.string(), z.string()),
});
export type SignWebhookResponse = z.infer<typeof SignWebhookResponseSchema>;
