// Webhooks on the wire: the admin API bodies behind `legion webhook add|list|remove|test`
// and the answer a sender gets from POST /webhook/hook/<id>.
// Invariants: a hook's secret goes in (add) and never comes back out; a listed hook only
// says whether it has one. Signing happens in the mesh (sign), so the CLI never holds it.
import { z } from 'zod';
import { AgentNameSchema, WorkflowNameSchema } from '../names.js';

export const WEBHOOK_TIMESTAMP_HEADER = 'x-legion-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'x-legion-signature';
/** Largest body a hook accepts; a bigger one is a 413. */
export const WEBHOOK_MAX_BODY_BYTES = 1024 * 1024;
/** Used when a hook is added without --message. */
export const DEFAULT_WEBHOOK_MESSAGE = 'A webhook was called with this payload:\n{payload}';

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

export const AddWebhookRequestSchema = z.strictObject({
  name: WebhookNameSchema,
  target: WebhookTargetSchema,
  /** The sender's shared secret for HMAC-SHA256 signatures; without one the unguessable URL is the only guard. */
  secret: z.string().min(8, 'expected a secret of at least 8 characters').max(512).optional(),
  /** `{payload}` is the whole payload, `{payload.a.b}` one field of it. */
  message: z.string().min(1).max(8192).optional(),
});
export type AddWebhookRequest = z.infer<typeof AddWebhookRequestSchema>;

export const WebhookSchema = z.object({
  name: z.string(),
  id: z.string(),
  target: WebhookTargetSchema,
  url: z.string(),
  has_secret: z.boolean(),
  message: z.string(),
  created_at: z.string(),
  deliveries: z.number().int().nonnegative(),
});
export type Webhook = z.infer<typeof WebhookSchema>;

export const WebhookListSchema = z.object({ webhooks: z.array(WebhookSchema) });
export const WebhookRemovedSchema = z.object({ removed: z.string() });

/** 202 to the sender: the payload is stored on the target's lane, or (a workflow
 *  target) the run it started is stored; delivery_id is then the run id. */
export const WebhookAcceptedSchema = z.object({ delivery_id: z.string() });
export type WebhookAccepted = z.infer<typeof WebhookAcceptedSchema>;

export const WebhookDeliveryStatusSchema = z.enum(['queued', 'inflight', 'done', 'failed']);

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
export const SignWebhookRequestSchema = z.strictObject({ body: z.string().max(WEBHOOK_MAX_BODY_BYTES) });
export const SignWebhookResponseSchema = z.object({
  url: z.string(),
  /** The signature headers; empty for a hook without a secret. */
  headers: z.record(z.string(), z.string()),
});
export type SignWebhookResponse = z.infer<typeof SignWebhookResponseSchema>;
