// legion webhook add|list|remove|test over the admin API. A hook wakes an agent
// (--agent) or starts a workflow run (--workflow), exactly one; --scheme names whose
// signatures it checks, --events and --filter which calls it lets through. `add` prints
// the hook's URL as its last line, so a script can capture it. `test` has the mesh sign
// the body in the hook's scheme (the secret never reaches the CLI), sends it to the
// hook's URL exactly as an outside sender would, then waits for the delivery's outcome.
// Arguments are checked against the mesh's own wire schemas, so a typo fails before any
// request (a filter's syntax is checked by the mesh, which owns the language).
import { InvalidArgumentError, type Command } from 'commander';
import { LegionError } from '../../shared/errors.js';
import { ErrorResponseSchema } from '../../shared/wire/error.js';
import { parseOrThrow } from '../../shared/validate.js';
import {
  AddWebhookRequestSchema,
  SignWebhookRequestSchema,
  SignWebhookResponseSchema,
  WebhookAcceptedSchema,
  WebhookDeliverySchema,
  WebhookListSchema,
  WebhookNameSchema,
  WebhookRemovedSchema,
  WebhookSchema,
  WEBHOOK_SCHEMES,
  type Webhook,
  type WebhookAccepted,
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
  if (hooks.length === 0)
    return 'no webhooks (add one with `legion webhook add <name> --agent <agent>` or `--workflow <workflow>`)';
  return formatTable([
    ['NAME', 'TARGET', 'SECRET', 'DELIVERIES', 'URL'],
    ...hooks.map((hook) => [
      hook.name,
      targetName(hook),
      hook.has_secret ? 'yes' : 'no',
      String(hook.deliveries),
      hook.url,
    ]),
  ]);
}

/** Exactly one of --agent and --workflow. */
function targetOption(options: { agent?: string; workflow?: string }): WebhookTarget {
  if (options.agent !== undefined && options.workflow === undefined) return { kind: 'agent', agent: options.agent };
  if (options.workflow !== undefined && options.agent === undefined)
    return { kind: 'workflow', workflow: options.workflow };
  throw new InvalidArgumentError(
    'give exactly one of --agent <agent> (the agent each call wakes) and --workflow <workflow> (the workflow each call starts)',
  );
}

function jsonText(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`--payload expects JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  return text;
}

function eventList(text: string): string[] {
  return text
    .split(',')
    .map((event) => event.trim())
    .filter((event) => event !== '');
}

/** How a hook's calls must be signed, as `add` reports it. */
function signingNote(hook: Webhook): string {
  if (!hook.has_secret) return 'unsigned: anyone with the URL can call it';
  if (hook.scheme === 'legion') return 'calls must be signed (x-legion-timestamp, x-legion-signature)';
  return `calls must carry ${hook.scheme} signatures made with the secret`;
}

function seconds(text: string): number {
  if (!/^\d{1,6}$/.test(text)) throw new InvalidArgumentError(`--wait expects whole seconds, got "${text}"`);
  return Number(text);
}

/** Sends `body` to the hook as an outside sender would; resolves with the 202's answer. */
async function callHook(url: string, headers: Record<string, string>, body: string): Promise<WebhookAccepted> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
  } catch (err) {
    throw new LegionError(
      'webhook_unreachable',
      `could not reach ${url}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: reported below as text
  }
  if (response.status === 202) return WebhookAcceptedSchema.parse(parsed);
  const error = ErrorResponseSchema.safeParse(parsed);
  const reason = error.success ? error.data.error.message : text.slice(0, 300);
  throw new LegionError('webhook_refused', `the webhook answered ${response.status}: ${reason}`);
}

async function waitForOutcome(client: MeshClient, deliveryId: string, waitS: number): Promise<WebhookDelivery> {
  const deadline = Date.now() + waitS * 1000;
  for (;;) {
    const delivery = await client.requestJson(
      'GET',
      `/api/webhooks/deliveries/${encodeURIComponent(deliveryId)}`,
      WebhookDeliverySchema,
    );
    if (delivery.status === 'done' || delivery.status === 'failed' || Date.now() >= deadline) return delivery;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export function registerWebhook(program: Command): void {
  const webhook = program
    .command('webhook')
    .description('URLs that wake an agent, or start a workflow run, with what is POSTed to them (JSON, form or text)');

  webhook
    .command('add <name>')
    .description('add a webhook; prints its URL as the last line')
    .option('--agent <agent>', 'the agent each call wakes (give this or --workflow)')
    .option(
      '--workflow <workflow>',
      'the workflow each call starts, with the payload as trigger.payload (give this or --agent)',
    )
    .option(
      '--secret <secret>',
      'shared secret the sender signs with (legion scheme: HMAC-SHA256 of "<timestamp>.<body>" in x-legion-timestamp, x-legion-signature: sha256=<hex>)',
    )
    .option('--scheme <scheme>', `whose signatures to check: ${WEBHOOK_SCHEMES.join('|')} (default legion)`)
    .option(
      '--events <types>',
      'only these comma-separated event types wake the target, e.g. push,pull_request (other calls are answered 202 filtered)',
      eventList,
    )
    .option(
      '--filter <condition>',
      'only calls this condition holds for wake the target, e.g. "payload.ref == \'refs/heads/main\'" (reads payload…, event, delivery)',
    )
    .option(
      '--message <template>',
      "what the agent is told: {payload} is the whole payload, {payload.a.b} one field, {event} and {delivery} the sender's (agents only)",
    )
    .action(
      commandAction(
        async (
          name: string,
          options: {
            agent?: string;
            workflow?: string;
            secret?: string;
            scheme?: string;
            events?: string[];
            filter?: string;
            message?: string;
          },
        ) => {
          const body = parseOrThrow(
            AddWebhookRequestSchema,
            {
              name,
              target: targetOption(options),
              secret: options.secret,
              scheme: options.scheme,
              events: options.events,
              filter: options.filter,
              message: options.message,
            },
            'arguments',
          );
          const hook = await MeshClient.connect(projectDir()).requestJson('POST', '/api/webhooks', WebhookSchema, body);
          const action =
            hook.target.kind === 'agent'
              ? `wakes ${hook.target.agent}`
              : `starts a run of workflow ${hook.target.workflow}`;
          process.stdout.write(`webhook ${hook.name} ${action}; ${signingNote(hook)}\n${hook.url}\n`);
        },
      ),
    );

  webhook
    .command('list')
    .description(
      'list webhooks with their target (agent or workflow), URL, whether they are signed and how many calls they took',
    )
    .option('--json', 'print the list as JSON')
    .action(
      commandAction(async (options: { json?: boolean }) => {
        const { webhooks } = await MeshClient.connect(projectDir()).requestJson(
          'GET',
          '/api/webhooks',
          WebhookListSchema,
        );
        process.stdout.write(`${options.json ? JSON.stringify(webhooks, null, 2) : formatWebhooks(webhooks)}\n`);
      }),
    );

  webhook
    .command('remove <name>')
    .description('remove a webhook; its URL stops working at once (past deliveries stay readable)')
    .action(
      commandAction(async (name: string) => {
        const checked = parseOrThrow(WebhookNameSchema, name, 'name');
        const result = await MeshClient.connect(projectDir()).requestJson(
          'DELETE',
          `/api/webhooks/${encodeURIComponent(checked)}`,
          WebhookRemovedSchema,
        );
        process.stdout.write(`removed webhook ${result.removed}\n`);
      }),
    );

  webhook
    .command('test <name>')
    .description(
      'send the webhook a call signed in its own scheme, then wait for the agent (or the workflow run) and print the outcome',
    )
    .option('--payload <json>', 'the JSON body to send (default: a small test object)', jsonText)
    .option(
      '--event <type>',
      "the event type a github-scheme call names (default: the first of the hook's --events, else test)",
    )
    .option('--wait <seconds>', `how long to wait for the agent (default ${DEFAULT_WAIT_S}; 0: do not wait)`, seconds)
    .action(
      commandAction(async (name: string, options: { payload?: string; event?: string; wait?: number }) => {
        const checked = parseOrThrow(WebhookNameSchema, name, 'name');
        const client = MeshClient.connect(projectDir());
        const body =
          options.payload ?? JSON.stringify({ test: true, webhook: checked, sent_at: new Date().toISOString() });
        const signRequest = parseOrThrow(SignWebhookRequestSchema, { body, event: options.event }, 'arguments');
        const signed = await client.requestJson(
          'POST',
          `/api/webhooks/${encodeURIComponent(checked)}/sign`,
          SignWebhookResponseSchema,
          signRequest,
        );
        const accepted = await callHook(signed.url, signed.headers, body);
        process.stdout.write(`delivery ${accepted.delivery_id}\n`);
        if (accepted.filtered) {
          process.stdout.write(
            "status: filtered (the hook's --events or --filter turned the call away; nothing was woken)\n",
          );
          return;
        }
        const deliveryId = accepted.delivery_id;
        const waitS = options.wait ?? DEFAULT_WAIT_S;
        if (waitS === 0) return;
        const delivery = await waitForOutcome(client, deliveryId, waitS);
        process.stdout.write(`status: ${delivery.status}\n`);
        if (delivery.reply !== null) process.stdout.write(`reply: ${delivery.reply}\n`);
        if (delivery.status === 'failed')
          throw new LegionError('delivery_failed', `the delivery failed: ${delivery.error ?? 'no reason recorded'}`);
        if (delivery.status !== 'done')
          throw new LegionError(
            'delivery_pending',
            `the delivery is still ${delivery.status} after ${waitS} s; check later with \`legion logs\``,
          );
      }),
    );
}
