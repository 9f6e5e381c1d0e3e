// legion webhook add|list|remove|test over the admin API. A hook wakes an agent
// (--agent) or starts a workflow run (--workflow), exactly one. `add` prints the hook's
// URL as its last line, so a script can capture it. `test` has the mesh sign the body (the
// secret never reaches the CLI), sends it to the hook's URL exactly as an outside
// sender would, then waits for the delivery's outcome. Arguments are checked against
// the mesh's own wire schemas, so a typo fails before any request.
import { InvalidArgumentError, type Command } from 'commander';
import { ErrorResponseSchema, LegionError } from '../../shared/errors.js';
import { parseOrThrow } from '../../shared/validate.js';
import {
  AddWebhookRequestSchema,
  SignWebhookResponseSchema,
  WebhookAcceptedSchema,
  WebhookDeliverySchema,
  WebhookListSchema,
  WebhookNameSchema,
  WebhookRemovedSchema,
  WebhookSchema,
  type Webhook,
  type WebhookDelivery,
  type WebhookTarget,
  webhookTargetLabel,
} from '../../shared/wire/webhooks.js';
import { MeshClient } from '../mesh-client.js';
import { formatTable } from '../render.js';
import { commandAction, projectDir } from '../run.js';

const POLL_MS = 500;
const DEFAULT_WAIT_S = 120;

function targetName(hook: Webhook): string {
  return webhookTargetLabel(hook.target);
}

export function formatWebhooks(hooks: Webhook[]): string {
  if (hooks.length === 0) return 'no webhooks (add one with `legion webhook add <name> --agent <agent>` or `--workflow <workflow>`)';
  return formatTable([
    ['NAME', 'TARGET', 'SECRET', 'DELIVERIES', 'URL'],
    ...hooks.map((hook) => [hook.name, targetName(hook), hook.has_secret ? 'yes' : 'no', String(hook.deliveries), hook.url]),
  ]);
}

/** Exactly one of --agent and --workflow. */
function targetOption(options: { agent?: string; workflow?: string }): WebhookTarget {
  if (options.agent !== undefined && options.workflow === undefined) return { kind: 'agent', agent: options.agent };
  if (options.workflow !== undefined && options.agent === undefined) return { kind: 'workflow', workflow: options.workflow };
  throw new InvalidArgumentError('give exactly one of --agent <agent> (the agent each call wakes) and --workflow <workflow> (the workflow each call starts)');
}

function jsonText(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`--payload expects JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  return text;
}

function seconds(text: string): number {
  if (!/^\d{1,6}$/.test(text)) throw new InvalidArgumentError(`--wait expects whole seconds, got "${text}"`);
  return Number(text);
}

/** Sends `body` to the hook as an outside sender would; resolves with the delivery id. */
async function callHook(url: string, headers: Record<string, string>, body: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
  } catch (err) {
    throw new LegionError('webhook_unreachable', `could not reach ${url}: ${err instanceof Error ? err.message : String(err)}`, 502);
  }
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: reported below as text
  }
  if (response.status === 202) return WebhookAcceptedSchema.parse(parsed).delivery_id;
  const error = ErrorResponseSchema.safeParse(parsed);
  const reason = error.success ? error.data.error.message : text.slice(0, 300);
  throw new LegionError('webhook_refused', `the webhook answered ${response.status}: ${reason}`, response.status);
}

async function waitForOutcome(client: MeshClient, deliveryId: string, waitS: number): Promise<WebhookDelivery> {
  const deadline = Date.now() + waitS * 1000;
  for (;;) {
    const delivery = await client.requestJson('GET', `/api/webhooks/deliveries/${encodeURIComponent(deliveryId)}`, WebhookDeliverySchema);
    if (delivery.status === 'done' || delivery.status === 'failed' || Date.now() >= deadline) return delivery;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export function registerWebhook(program: Command): void {
  const webhook = program.command('webhook').description('URLs that wake an agent, or start a workflow run, with what is POSTed to them (JSON, form or text)');

  webhook
    .command('add <name>')
    .description('add a webhook; prints its URL as the last line')
    .option('--agent <agent>', 'the agent each call wakes (give this or --workflow)')
    .option('--workflow <workflow>', 'the workflow each call starts, with the payload as trigger.payload (give this or --agent)')
    .option('--secret <secret>', 'shared secret: callers must sign "<timestamp>.<body>" with HMAC-SHA256 (x-legion-timestamp, x-legion-signature: sha256=<hex>)')
    .option('--message <template>', 'what the agent is told: {payload} is the whole payload, {payload.a.b} one field (agents only)')
    .action(
      commandAction(async (name: string, options: { agent?: string; workflow?: string; secret?: string; message?: string }) => {
        const body = parseOrThrow(AddWebhookRequestSchema, { name, target: targetOption(options), secret: options.secret, message: options.message }, 'arguments');
        const hook = await MeshClient.connect(projectDir()).requestJson('POST', '/api/webhooks', WebhookSchema, body);
        const signing = hook.has_secret ? 'calls must be signed (x-legion-timestamp, x-legion-signature)' : 'unsigned: anyone with the URL can call it';
        const action = hook.target.kind === 'agent' ? `wakes ${hook.target.agent}` : `starts a run of workflow ${hook.target.workflow}`;
        process.stdout.write(`webhook ${hook.name} ${action}; ${signing}\n${hook.url}\n`);
      }),
    );

  webhook
    .command('list')
    .description('list webhooks with their target (agent or workflow), URL, whether they are signed and how many calls they took')
    .option('--json', 'print the list as JSON')
    .action(
      commandAction(async (options: { json?: boolean }) => {
        const { webhooks } = await MeshClient.connect(projectDir()).requestJson('GET', '/api/webhooks', WebhookListSchema);
        process.stdout.write(`${options.json ? JSON.stringify(webhooks, null, 2) : formatWebhooks(webhooks)}\n`);
      }),
    );

  webhook
    .command('remove <name>')
    .description('remove a webhook; its URL stops working at once (past deliveries stay readable)')
    .action(
      commandAction(async (name: string) => {
        const checked = parseOrThrow(WebhookNameSchema, name, 'name');
        const result = await MeshClient.connect(projectDir()).requestJson('DELETE', `/api/webhooks/${encodeURIComponent(checked)}`, WebhookRemovedSchema);
        process.stdout.write(`removed webhook ${result.removed}\n`);
      }),
    );

  webhook
    .command('test <name>')
    .description('send the webhook a correctly signed call, then wait for the agent (or the workflow run) and print the outcome')
    .option('--payload <json>', 'the JSON body to send (default: a small test object)', jsonText)
    .option('--wait <seconds>', `how long to wait for the agent (default ${DEFAULT_WAIT_S}; 0: do not wait)`, seconds)
    .action(
      commandAction(async (name: string, options: { payload?: string; wait?: number }) => {
        const checked = parseOrThrow(WebhookNameSchema, name, 'name');
        const client = MeshClient.connect(projectDir());
        const body = options.payload ?? JSON.stringify({ test: true, webhook: checked, sent_at: new Date().toISOString() });
        const signed = await client.requestJson('POST', `/api/webhooks/${encodeURIComponent(checked)}/sign`, SignWebhookResponseSchema, { body });
        const deliveryId = await callHook(signed.url, signed.headers, body);
        process.stdout.write(`delivery ${deliveryId}\n`);
        const waitS = options.wait ?? DEFAULT_WAIT_S;
        if (waitS === 0) return;
        const delivery = await waitForOutcome(client, deliveryId, waitS);
        process.stdout.write(`status: ${delivery.status}\n`);
        if (delivery.reply !== null) process.stdout.write(`reply: ${delivery.reply}\n`);
        if (delivery.status === 'failed') throw new LegionError('delivery_failed', `the delivery failed: ${delivery.error ?? 'no reason recorded'}`, 502);
        if (delivery.status !== 'done') throw new LegionError('delivery_pending', `the delivery is still ${delivery.status} after ${waitS} s; check later with \`legion logs\``, 504);
      }),
    );
}
