// Webhooks through the real mesh, agent processes and the fake provider: a signed call
// reaches the agent with its rendered payload and its delivery goes to done; bad,
// stale, replayed and oversized calls are refused and reach no one; form and text
// bodies; the CLI; the public listener configured in mesh.yaml.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventListSchema } from '../../src/shared/wire/events.js';
import {
  WebhookDeliverySchema,
  WebhookListSchema,
  WebhookSchema,
  type Webhook,
} from '../../src/shared/wire/webhooks.js';
import type { Mesh } from '../../src/mesh/server.js';
import type { MeshClient } from '../../src/cli/mesh-client.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';
import { freePort, legion } from '../helpers/project.js';
import { eventually, hmacSignature, postHook, restartMesh, turnsFor } from '../helpers/triggers.js';

const SECRET = 'integration-hook-secret';

describe('webhooks', () => {
  let h: Harness;
  let mesh: Mesh;
  let client: MeshClient;
  let signed: Webhook;

  const addHook = (body: Record<string, unknown>) => client.requestJson('POST', '/api/webhooks', WebhookSchema, body);
  const deliveryOf = (id: string) => client.requestJson('GET', `/api/webhooks/deliveries/${id}`, WebhookDeliverySchema);
  const settled = (id: string) =>
    eventually(async () => {
      const delivery = await deliveryOf(id);
      return delivery.status === 'done' || delivery.status === 'failed' ? delivery : null;
    }, `delivery ${id} to finish`);
  /** Gives a wrongly accepted call time to reach the agent before asserting it did not. */
  const quietFor = (ms: number) => new Promise((r) => setTimeout(r, ms));

  beforeAll(async () => {
    h = await startHarness({
      agentsYaml: 'agents:\n  hooked:\n    role: takes webhooks\n  other:\n    role: bystander\n',
    });
    mesh = h.mesh;
    client = h.client;
    signed = await addHook({
      name: 'github',
      target: { kind: 'agent', agent: 'hooked' },
      secret: SECRET,
      message: 'Push to {payload.repo}: {payload.commit.message}',
    });
  });
  afterAll(async () => {
    if (mesh !== h?.mesh) await mesh?.stop();
    await h?.close();
  });

  it('delivers a signed JSON call to the agent with the rendered payload, and reports the delivery done', async () => {
    expect(signed.url).toMatch(new RegExp(`^${client.baseUrl}/webhook/hook/[A-Za-z0-9_-]{24}$`));
    const body = JSON.stringify({ repo: 'acme/site', commit: { message: 'fix the header' } });
    const answer = await postHook({ url: signed.url, body, secret: SECRET });
    expect(answer.status).toBe(202);
    const deliveryId = String(answer.json.delivery_id);
    expect(deliveryId).toMatch(/^whd_/);
    const call = await h.waitForCall('hooked', /Push to acme\/site: fix the header/);
    expect(call.messages.at(-1)?.content).toMatch(
      new RegExp(
        `^\\[webhook json payload · id ${deliveryId} · from webhook github\\]\\nPush to acme/site: fix the header\\n`,
      ),
    );
    const delivery = await settled(deliveryId);
    expect(delivery).toMatchObject({
      delivery_id: deliveryId,
      webhook: 'github',
      target: { kind: 'agent', agent: 'hooked' },
      status: 'done',
      attempts: 1,
    });
    expect(delivery.reply).toContain('echo: [webhook json payload');
    const events = await client.requestJson('GET', '/api/events?agent=hooked&limit=200', EventListSchema);
    expect(events.events).toContainEqual(
      expect.objectContaining({
        kind: 'webhook_accepted',
        subject: 'github',
        detail: expect.objectContaining({ delivery_id: deliveryId }),
      }),
    );
  });

  it('refuses a wrong or missing signature with 401, and nothing reaches the agent', async () => {
    const body = JSON.stringify({ repo: 'evil/forged', commit: { message: 'forged call' } });
    const wrong = await postHook({ url: signed.url, body, secret: 'not-the-secret' });
    expect(wrong.status).toBe(401);
    expect(wrong.json).toMatchObject({ error: { code: 'signature_invalid' } });
    const missing = await postHook({ url: signed.url, body });
    expect(missing.status).toBe(401);
    expect(missing.json).toMatchObject({ error: { code: 'signature_missing' } });
    const tampered = await postHook({
      url: signed.url,
      body,
      secret: SECRET,
      signature: hmacSignature(SECRET, Math.floor(Date.now() / 1000), `${body} `),
    });
    expect(tampered.status).toBe(401);
    await quietFor(500);
    expect(turnsFor(h.fake.calls, 'hooked', /forged call/)).toEqual([]);
    const events = await client.requestJson('GET', '/api/events?agent=hooked&limit=200', EventListSchema);
    const refusals = events.events.filter((e) => e.kind === 'webhook_refused');
    expect(refusals.map((e) => (e.detail as { code: string }).code)).toEqual(
      expect.arrayContaining(['signature_invalid', 'signature_missing']),
    );
    expect(JSON.stringify(events.events)).not.toContain(SECRET);
  });

  it('refuses a replayed signature with 409: the agent is woken once', async () => {
    const body = JSON.stringify({ repo: 'acme/replay', commit: { message: 'only once please' } });
    const timestamp = Math.floor(Date.now() / 1000);
    const first = await postHook({ url: signed.url, body, secret: SECRET, timestamp });
    expect(first.status).toBe(202);
    const again = await postHook({ url: signed.url, body, secret: SECRET, timestamp });
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ error: { code: 'signature_replayed' } });
    await settled(String(first.json.delivery_id));
    expect(turnsFor(h.fake.calls, 'hooked', /only once please/)).toHaveLength(1);
  });

  it('refuses a timestamp outside ±5 minutes with the reason', async () => {
    const body = JSON.stringify({ repo: 'acme/old', commit: { message: 'stale call' } });
    const stale = await postHook({
      url: signed.url,
      body,
      secret: SECRET,
      timestamp: Math.floor(Date.now() / 1000) - 600,
    });
    expect(stale.status).toBe(401);
    expect(stale.json).toMatchObject({ error: { code: 'timestamp_out_of_window' } });
    expect(JSON.stringify(stale.json)).toMatch(/in the past; the mesh accepts ±300 s/);
    const future = await postHook({
      url: signed.url,
      body,
      secret: SECRET,
      timestamp: Math.floor(Date.now() / 1000) + 600,
    });
    expect(future.status).toBe(401);
    await quietFor(300);
    expect(turnsFor(h.fake.calls, 'hooked', /stale call/)).toEqual([]);
  });

  it('refuses a body over 1 MB with 413 and records the refusal', async () => {
    const huge = JSON.stringify({ blob: 'x'.repeat(1024 * 1024) });
    const answer = await postHook({ url: signed.url, body: huge, secret: SECRET });
    expect(answer.status).toBe(413);
    const events = await client.requestJson('GET', '/api/events?agent=hooked&limit=500', EventListSchema);
    expect(events.events).toContainEqual(
      expect.objectContaining({
        kind: 'webhook_refused',
        subject: 'github',
        detail: expect.objectContaining({ status: 413, code: 'body_too_large' }),
      }),
    );
    const exactly = JSON.stringify({ b: 'y'.repeat(1024 * 1024 - 8) });
    expect(Buffer.byteLength(exactly)).toBe(1024 * 1024);
    expect((await postHook({ url: signed.url, body: exactly, secret: SECRET })).status).toBe(202);
  });

  it('accepts form and text bodies; the payload is the parsed form or the text', async () => {
    const form = await addHook({
      name: 'form-hook',
      target: { kind: 'agent', agent: 'hooked' },
      message: 'Form from {payload.name} tagged {payload.tag}',
    });
    const formAnswer = await postHook({
      url: form.url,
      body: 'name=Ada+Lovelace&tag=a&tag=b',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(formAnswer.status).toBe(202);
    await h.waitForCall(
      'hooked',
      /\[webhook form payload[^\n]*\nForm from Ada Lovelace tagged \[\n {2}"a",\n {2}"b"\n\]/,
    );
    const text = await addHook({
      name: 'text-hook',
      target: { kind: 'agent', agent: 'hooked' },
      message: 'Alert text: {payload}',
    });
    const textAnswer = await postHook({ url: text.url, body: 'disk almost full on db-1', contentType: 'text/plain' });
    expect(textAnswer.status).toBe(202);
    await h.waitForCall('hooked', /\[webhook text payload[^\n]*\nAlert text: disk almost full on db-1/);
    const binary = await postHook({ url: text.url, body: 'x', contentType: 'application/octet-stream' });
    expect(binary.status).toBe(415);
  });

  it('serves hooks without the admin token but keeps /api behind it; an unknown hook is a 404', async () => {
    expect((await fetch(`${client.baseUrl}/api/webhooks`)).status).toBe(401);
    expect((await postHook({ url: `${client.baseUrl}/webhook/hook/not-a-real-id`, body: '{}' })).status).toBe(404);
    const adminToken = readFileSync(join(h.project.dir, '.legion', 'admin.token'), 'utf8').trim();
    const withToken = await fetch(`${client.baseUrl}/api/webhooks`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(WebhookListSchema.parse(await withToken.json()).webhooks.map((w) => w.name)).toEqual([
      'form-hook',
      'github',
      'text-hook',
    ]);
  });

  it('refuses a hook for an agent that does not exist, and a second hook of one name', async () => {
    await expect(addHook({ name: 'ghostly', target: { kind: 'agent', agent: 'ghost' } })).rejects.toThrow(
      /no agent named "ghost"/,
    );
    await expect(addHook({ name: 'github', target: { kind: 'agent', agent: 'hooked' } })).rejects.toThrow(
      /a webhook named "github" exists/,
    );
    await expect(
      addHook({ name: 'short', target: { kind: 'agent', agent: 'hooked' }, secret: 'short' }),
    ).rejects.toThrow(/body: secret: expected a secret of at least 8 characters/);
  });

  it('works from the CLI: add prints the URL last, list, test waits for the reply, remove', async () => {
    const added = await legion(
      [
        'webhook',
        'add',
        'cli-hook',
        '--agent',
        'hooked',
        '--secret',
        'cli-secret-1234',
        '--message',
        'CLI test payload {payload.note}',
      ],
      h.project.dir,
    );
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const url = added.stdout.trim().split('\n').at(-1) ?? '';
    expect(url).toMatch(new RegExp(`^${client.baseUrl}/webhook/hook/[A-Za-z0-9_-]{24}$`));

    const list = await legion(['webhook', 'list'], h.project.dir);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/NAME\s+TARGET\s+SECRET\s+DELIVERIES\s+URL/);
    expect(list.stdout).toMatch(new RegExp(`cli-hook\\s+hooked\\s+yes\\s+0\\s+${url}`));
    expect(list.stdout).toMatch(/form-hook\s+hooked\s+no\s+1\s/);
    expect(list.stdout).not.toContain('cli-secret-1234');

    const tested = await legion(['webhook', 'test', 'cli-hook', '--payload', '{"note":"from the cli"}'], h.project.dir);
    expect(tested.stderr).toBe('');
    expect(tested.code).toBe(0);
    expect(tested.stdout).toMatch(
      /^delivery whd_\S+\nstatus: done\nreply: echo: \[webhook json payload[\s\S]*CLI test payload from the cli/,
    );
    expect(turnsFor(h.fake.calls, 'hooked', /CLI test payload from the cli/)).toHaveLength(1);

    const removed = await legion(['webhook', 'remove', 'cli-hook'], h.project.dir);
    expect(removed.stdout).toBe('removed webhook cli-hook\n');
    expect((await postHook({ url, body: '{}', secret: 'cli-secret-1234' })).status).toBe(404);
    const gone = await legion(['webhook', 'test', 'cli-hook'], h.project.dir);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('no webhook named "cli-hook"');
  });

  it('binds the public listener from mesh.yaml: only /webhook/* there, hooks kept across the restart', async () => {
    const publicPort = await freePort();
    const meshYamlPath = join(h.project.dir, 'config', 'mesh.yaml');
    writeFileSync(
      meshYamlPath,
      `${readFileSync(meshYamlPath, 'utf8')}webhooks: { host: 127.0.0.1, port: ${publicPort} }\n`,
    );
    ({ mesh, client } = await restartMesh(h, mesh));
    const publicBase = `http://127.0.0.1:${publicPort}`;

    const listed = await client.requestJson('GET', '/api/webhooks', WebhookListSchema);
    const github = listed.webhooks.find((w) => w.name === 'github');
    expect(github?.id).toBe(signed.id);
    expect(github?.url).toBe(`${publicBase}/webhook/hook/${signed.id}`);

    const body = JSON.stringify({ repo: 'acme/public', commit: { message: 'through the public door' } });
    const answer = await postHook({ url: `${publicBase}/webhook/hook/${signed.id}`, body, secret: SECRET });
    expect(answer.status).toBe(202);
    await h.waitForCall('hooked', /Push to acme\/public: through the public door/);
    expect(
      (
        await postHook({
          url: signed.url,
          body: JSON.stringify({ repo: 'acme/admin', commit: { message: 'admin door too' } }),
          secret: SECRET,
        })
      ).status,
    ).toBe(202);

    const adminToken = readFileSync(join(h.project.dir, '.legion', 'admin.token'), 'utf8').trim();
    const api = await fetch(`${publicBase}/api/status`, { headers: { authorization: `Bearer ${adminToken}` } });
    expect(api.status).toBe(404);
    expect(
      (await fetch(`${publicBase}/api/webhooks`, { headers: { authorization: `Bearer ${adminToken}` } })).status,
    ).toBe(404);
  });
});
