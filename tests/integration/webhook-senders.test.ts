// Webhooks from real senders, signed by each sender's own code: GitHub's
// @octokit/webhooks-methods, the Standard Webhooks reference library, the stripe
// package's test-header helper, and Slack's documented algorithm by hand (Slack ships no
// signer). Each is accepted and renders {event}/{delivery}; a changed body, a wrong
// secret, a stale timestamp and a replay are refused with their reason and wake no one;
// GitHub's ping and Slack's url_verification are answered by the mesh; --events and
// --filter turn calls away as counted, filtered deliveries; the CLI signs in the hook's scheme.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { sign as githubSign } from '@octokit/webhooks-methods';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeshClient } from '../../src/cli/mesh-client.js';
import {
  WebhookDeliverySchema,
  WebhookListSchema,
  WebhookSchema,
  type Webhook,
} from '../../src/shared/wire/webhooks.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';
import { legion } from '../helpers/project.js';
import { turnsFor } from '../helpers/triggers.js';

const AGENT = 'listener';
const GITHUB_SECRET = 'github-hook-secret-1';
const STANDARD_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const STRIPE_SECRET = `whsec_${randomBytes(16).toString('hex')}`;
const SLACK_SECRET = randomBytes(16).toString('hex');
const nowS = (): number => Math.floor(Date.now() / 1000);

interface Answer {
  status: number;
  json: Record<string, unknown>;
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function githubHeaders(
  secret: string,
  body: string,
  event: string,
  delivery: string = randomUUID(),
): Promise<Record<string, string>> {
  return {
    'x-hub-signature-256': await githubSign(secret, body),
    'x-github-event': event,
    'x-github-delivery': delivery,
  };
}

function standardHeaders(
  secret: string,
  body: string,
  id: string = `msg_${randomUUID()}`,
  at: Date = new Date(),
): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new StandardWebhook(secret).sign(id, at, body),
  };
}

function stripeHeaders(secret: string, body: string, timestamp?: number): Record<string, string> {
  return {
    'stripe-signature': Stripe.webhooks.generateTestHeaderString({
      payload: body,
      secret,
      ...(timestamp === undefined ? {} : { timestamp }),
    }),
  };
}

/** As https://api.slack.com/authentication/verifying-requests-from-slack says: v0= hex HMAC-SHA256 of "v0:<ts>:<body>". */
function slackHeaders(secret: string, body: string, timestamp: number = nowS()): Record<string, string> {
  const signature = createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
  return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': `v0=${signature}` };
}

const pushBody = (repo: string, ref = 'refs/heads/main'): string =>
  JSON.stringify({ ref, repository: { full_name: repo }, head_commit: { message: `work on ${repo}` } });

describe('webhooks signed by real senders', () => {
  let h: Harness;
  let client: MeshClient;
  let github: Webhook;
  let standard: Webhook;
  let stripe: Webhook;
  let slack: Webhook;

  const addHook = (body: Record<string, unknown>) => client.requestJson('POST', '/api/webhooks', WebhookSchema, body);
  const deliveryOf = (id: string) => client.requestJson('GET', `/api/webhooks/deliveries/${id}`, WebhookDeliverySchema);
  /** Gives a wrongly accepted call time to reach the agent before asserting it did not. */
  const quietFor = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const turns = (pattern: RegExp) => turnsFor(h.fake.calls, AGENT, pattern);
  const target = { kind: 'agent', agent: AGENT };

  beforeAll(async () => {
    h = await startHarness({ agentsYaml: `agents:\n  ${AGENT}:\n    role: takes webhooks from services\n` });
    client = h.client;
    github = await addHook({
      name: 'gh',
      target,
      secret: GITHUB_SECRET,
      scheme: 'github',
      events: ['push'],
      filter: "payload.ref == 'refs/heads/main'",
      message: 'GitHub {event} to {payload.repository.full_name} (delivery {delivery})',
    });
    standard = await addHook({
      name: 'std',
      target,
      secret: STANDARD_SECRET,
      scheme: 'standard',
      filter: "event in ['invoice.paid', 'invoice.failed']",
      message: 'Standard {event} {delivery}: {payload.data.note}',
    });
    stripe = await addHook({
      name: 'stripe',
      target,
      secret: STRIPE_SECRET,
      scheme: 'stripe',
      events: ['payment_intent.succeeded'],
      message: 'Stripe {event} {delivery}: {payload.data.object.amount}',
    });
    slack = await addHook({
      name: 'slack',
      target,
      secret: SLACK_SECRET,
      scheme: 'slack',
      message: 'Slack {event}: {payload.event.text}',
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('lists each hook with its scheme and filters, never its secret', async () => {
    const { webhooks } = await client.requestJson('GET', '/api/webhooks', WebhookListSchema);
    expect(webhooks.find((w) => w.name === 'gh')).toMatchObject({
      scheme: 'github',
      events: ['push'],
      filter: "payload.ref == 'refs/heads/main'",
      has_secret: true,
    });
    expect(webhooks.find((w) => w.name === 'stripe')).toMatchObject({
      scheme: 'stripe',
      events: ['payment_intent.succeeded'],
      filter: null,
    });
    expect(JSON.stringify(webhooks)).not.toContain(GITHUB_SECRET);
  });

  it('github: accepts a push signed by @octokit/webhooks-methods and renders {event} and {delivery}', async () => {
    const body = pushBody('acme/site');
    const delivery = randomUUID();
    const answer = await post(github.url, body, await githubHeaders(GITHUB_SECRET, body, 'push', delivery));
    expect(answer.status).toBe(202);
    expect(answer.json.filtered).toBeUndefined();
    await h.waitForCall(AGENT, new RegExp(`GitHub push to acme/site \\(delivery ${delivery}\\)`));
  });

  it('github: refuses a changed body, a wrong secret, a missing signature and a replayed delivery id, with the reason', async () => {
    const body = pushBody('evil/forged');
    const signed = await githubHeaders(GITHUB_SECRET, body, 'push');
    const changed = await post(github.url, body.replace('evil', 'evi1'), signed);
    expect(changed).toMatchObject({ status: 401, json: { error: { code: 'signature_invalid' } } });
    const wrongSecret = await post(github.url, body, await githubHeaders('not-the-secret', body, 'push'));
    expect(wrongSecret).toMatchObject({ status: 401, json: { error: { code: 'signature_invalid' } } });
    const unsigned = await post(github.url, body, { 'x-github-event': 'push', 'x-github-delivery': randomUUID() });
    expect(unsigned).toMatchObject({ status: 401, json: { error: { code: 'signature_missing' } } });

    const once = pushBody('acme/once');
    const delivery = randomUUID();
    expect((await post(github.url, once, await githubHeaders(GITHUB_SECRET, once, 'push', delivery))).status).toBe(202);
    const replayed = await post(github.url, once, await githubHeaders(GITHUB_SECRET, once, 'push', delivery));
    expect(replayed).toMatchObject({ status: 409, json: { error: { code: 'delivery_replayed' } } });
    await h.waitForCall(AGENT, /GitHub push to acme\/once/);
    await quietFor(500);
    expect(turns(/acme\/once/)).toHaveLength(1);
    expect(turns(/evil\/forged|evi1/)).toEqual([]);
  });

  it('github: answers ping 200 without waking the agent; other events and other branches are filtered, counted, and wake no one', async () => {
    const ping = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
    const pong = await post(github.url, ping, await githubHeaders(GITHUB_SECRET, ping, 'ping'));
    expect(pong).toEqual({ status: 200, json: { ping: true } });
    const badPing = await post(github.url, ping, await githubHeaders('not-the-secret', ping, 'ping'));
    expect(badPing.status).toBe(401);

    const issue = JSON.stringify({
      action: 'opened',
      issue: { title: 'filtered issue' },
      repository: { full_name: 'acme/issues' },
    });
    const otherEvent = await post(github.url, issue, await githubHeaders(GITHUB_SECRET, issue, 'issues'));
    expect(otherEvent.status).toBe(202);
    expect(otherEvent.json).toMatchObject({ filtered: true });
    const branch = pushBody('acme/feature', 'refs/heads/feature');
    const otherBranch = await post(github.url, branch, await githubHeaders(GITHUB_SECRET, branch, 'push'));
    expect(otherBranch.json).toMatchObject({ filtered: true });
    expect(await deliveryOf(String(otherBranch.json.delivery_id))).toMatchObject({
      webhook: 'gh',
      status: 'filtered',
      attempts: 0,
      reply: null,
    });

    await quietFor(500);
    expect(turns(/Keep it logically awesome|acme\/issues|acme\/feature/)).toEqual([]);
    const { webhooks } = await client.requestJson('GET', '/api/webhooks', WebhookListSchema);
    // The accepted push, the one accepted before its replay, and the two filtered calls.
    expect(webhooks.find((w) => w.name === 'gh')?.deliveries).toBe(4);
  });

  it('standard: accepts a call signed by the standardwebhooks library; refuses stale, replayed, tampered and wrongly keyed ones', async () => {
    const body = JSON.stringify({ type: 'invoice.paid', data: { note: 'invoice 42 paid' } });
    const id = `msg_${randomUUID()}`;
    expect((await post(standard.url, body, standardHeaders(STANDARD_SECRET, body, id))).status).toBe(202);
    await h.waitForCall(AGENT, new RegExp(`Standard invoice\\.paid ${id}: invoice 42 paid`));

    const replayed = await post(standard.url, body, standardHeaders(STANDARD_SECRET, body, id));
    expect(replayed).toMatchObject({ status: 409, json: { error: { code: 'delivery_replayed' } } });
    const staleBody = JSON.stringify({ type: 'invoice.paid', data: { note: 'stale invoice' } });
    const stale = await post(
      standard.url,
      staleBody,
      standardHeaders(STANDARD_SECRET, staleBody, undefined, new Date(Date.now() - 10 * 60_000)),
    );
    expect(stale).toMatchObject({ status: 401, json: { error: { code: 'timestamp_out_of_window' } } });
    const tampered = await post(
      standard.url,
      staleBody.replace('stale', 'other'),
      standardHeaders(STANDARD_SECRET, staleBody),
    );
    expect(tampered).toMatchObject({ status: 401, json: { error: { code: 'signature_invalid' } } });
    const otherKey = `whsec_${randomBytes(24).toString('base64')}`;
    const wrongKey = await post(standard.url, staleBody, standardHeaders(otherKey, staleBody));
    expect(wrongKey).toMatchObject({ status: 401, json: { error: { code: 'signature_invalid' } } });

    const ignored = JSON.stringify({ type: 'customer.created', data: { note: 'not for the agent' } });
    expect((await post(standard.url, ignored, standardHeaders(STANDARD_SECRET, ignored))).json).toMatchObject({
      filtered: true,
    });
    await quietFor(500);
    expect(turns(/invoice 42 paid/)).toHaveLength(1);
    expect(turns(/stale invoice|other invoice|not for the agent/)).toEqual([]);
  });

  it('stripe: accepts a header from stripe.webhooks.generateTestHeaderString; refuses stale, replayed, tampered and wrongly keyed ones', async () => {
    const body = JSON.stringify({
      id: 'evt_test_1',
      type: 'payment_intent.succeeded',
      data: { object: { amount: 4200 } },
    });
    const headers = stripeHeaders(STRIPE_SECRET, body);
    expect((await post(stripe.url, body, headers)).status).toBe(202);
    await h.waitForCall(AGENT, /Stripe payment_intent\.succeeded evt_test_1: 4200/);

    expect(await post(stripe.url, body, headers)).toMatchObject({
      status: 409,
      json: { error: { code: 'signature_replayed' } },
    });
    const stale = await post(stripe.url, body, stripeHeaders(STRIPE_SECRET, body, nowS() - 600));
    expect(stale).toMatchObject({ status: 401, json: { error: { code: 'timestamp_out_of_window' } } });
    const tampered = await post(stripe.url, body.replace('4200', '9999'), stripeHeaders(STRIPE_SECRET, body));
    expect(tampered).toMatchObject({ status: 401, json: { error: { code: 'signature_invalid' } } });
    expect((await post(stripe.url, body, stripeHeaders('whsec_wrong_secret', body))).status).toBe(401);
    expect((await post(stripe.url, body, {})).json).toMatchObject({ error: { code: 'signature_missing' } });

    const refund = JSON.stringify({ id: 'evt_test_2', type: 'charge.refunded', data: { object: { amount: 1 } } });
    expect((await post(stripe.url, refund, stripeHeaders(STRIPE_SECRET, refund))).json).toMatchObject({
      filtered: true,
    });
    await quietFor(500);
    expect(turns(/Stripe payment_intent\.succeeded evt_test_1/)).toHaveLength(1);
    expect(turns(/9999|charge\.refunded/)).toEqual([]);
  });

  it('slack: answers url_verification with the challenge, accepts an event signed as Slack documents, refuses a stale or forged one', async () => {
    const verification = JSON.stringify({
      token: 'legacy',
      challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
      type: 'url_verification',
    });
    expect(await post(slack.url, verification, slackHeaders(SLACK_SECRET, verification))).toEqual({
      status: 200,
      json: { challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' },
    });
    expect((await post(slack.url, verification, slackHeaders('not-the-secret', verification))).status).toBe(401);

    const event = JSON.stringify({
      type: 'event_callback',
      event_id: 'Ev01',
      event: { type: 'app_mention', text: 'deploy the site please' },
    });
    expect((await post(slack.url, event, slackHeaders(SLACK_SECRET, event))).status).toBe(202);
    await h.waitForCall(AGENT, /Slack app_mention: deploy the site please/);
    const staleEvent = event.replace('deploy the site please', 'stale mention');
    const stale = await post(slack.url, staleEvent, slackHeaders(SLACK_SECRET, staleEvent, nowS() - 600));
    expect(stale).toMatchObject({ status: 401, json: { error: { code: 'timestamp_out_of_window' } } });
    const forged = await post(slack.url, event.replace('deploy', 'delete'), slackHeaders(SLACK_SECRET, event));
    expect(forged).toMatchObject({ status: 401, json: { error: { code: 'signature_invalid' } } });
    await quietFor(500);
    expect(turns(/stale mention|delete the site/)).toEqual([]);
  });

  it('refuses an unknown scheme, a bad filter, --events on a legion hook and a malformed whsec_ secret, naming the problem', async () => {
    await expect(addHook({ name: 'bad1', target, secret: 'some-secret-1', scheme: 'gitlab' })).rejects.toThrow(
      /scheme: expected one of "legion", "github", "standard", "stripe", "slack"/,
    );
    await expect(addHook({ name: 'bad2', target, scheme: 'github', filter: "payload.ref = 'main'" })).rejects.toThrow(
      /filter "payload.ref = 'main'": assignment \(=\) and === are not allowed/,
    );
    await expect(addHook({ name: 'bad3', target, scheme: 'github', filter: 'steps.x.result' })).rejects.toThrow(
      /unknown name "steps" \(a webhook filter reads payload/,
    );
    await expect(addHook({ name: 'bad4', target, events: ['push'] })).rejects.toThrow(
      /events: legion-scheme calls carry no event type/,
    );
    await expect(addHook({ name: 'bad5', target, scheme: 'standard', secret: 'not-a-whsec-secret' })).rejects.toThrow(
      /secret: a Standard Webhooks secret is whsec_/,
    );
    const { webhooks } = await client.requestJson('GET', '/api/webhooks', WebhookListSchema);
    expect(webhooks.map((w) => w.name)).not.toContain('bad2');
  });

  it("works from the CLI: add --scheme --events --filter, and webhook test signs in the hook's scheme", async () => {
    const added = await legion(
      [
        'webhook',
        'add',
        'gh-cli',
        '--agent',
        AGENT,
        '--secret',
        'cli-github-secret',
        '--scheme',
        'github',
        '--events',
        'push,pull_request',
        '--filter',
        "payload.note != 'skip'",
        '--message',
        'CLI {event}: {payload.note}',
      ],
      h.project.dir,
    );
    expect(added.stderr).toBe('');
    expect(added.stdout).toContain('calls must carry github signatures made with the secret');
    const tested = await legion(
      ['webhook', 'test', 'gh-cli', '--payload', '{"note":"signed like github"}'],
      h.project.dir,
    );
    expect(tested.stderr).toBe('');
    expect(tested.stdout).toMatch(/^delivery whd_\S+\nstatus: done\nreply: echo: [\s\S]*CLI push: signed like github/);
    const skipped = await legion(['webhook', 'test', 'gh-cli', '--payload', '{"note":"skip"}'], h.project.dir);
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toMatch(/^delivery whd_\S+\nstatus: filtered/);
  });

  it('refuses a bad --scheme or --filter from the CLI, naming the problem', async () => {
    const badScheme = await legion(
      ['webhook', 'add', 'gh-bad', '--agent', AGENT, '--secret', 'cli-github-secret', '--scheme', 'gitlab'],
      h.project.dir,
    );
    expect(badScheme.code).not.toBe(0);
    expect(badScheme.stderr).toMatch(/scheme: expected one of "legion", "github", "standard", "stripe", "slack"/);
    const badFilter = await legion(
      ['webhook', 'add', 'gh-bad', '--agent', AGENT, '--scheme', 'github', '--filter', 'payload.x >'],
      h.project.dir,
    );
    expect(badFilter.code).not.toBe(0);
    expect(badFilter.stderr).toMatch(/filter "payload.x >": /);
  });
});
