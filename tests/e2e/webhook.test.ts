// A webhook in real Docker: a signed call wakes the agent in its container, which
// writes the payload's value to a file in /data; a wrongly signed call is a 401 that
// reaches no one; a push signed by GitHub's own code (@octokit/webhooks-methods) wakes
// the agent with its rendered message; and a call accepted while the agent is frozen
// survives a SIGKILL of the mesh and is delivered exactly once after `legion start -d`.
import { randomUUID } from 'node:crypto';
import { sign as githubSign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  directiveResponder,
  startFakeProvider,
  type FakeCall,
  type FakeProvider,
  type FakeStep,
} from '../fakes/fake-provider.js';
import { freePort, legion, makeProject, type TestProject } from '../helpers/project.js';
import { docker, dockerAvailable, execIn } from '../helpers/docker.js';
import { postHook, turnsFor } from '../helpers/triggers.js';
import { projectId } from '../../src/shared/state.js';
import { MeshClient } from '../../src/cli/mesh-client.js';
import { WebhookDeliverySchema, type WebhookDelivery } from '../../src/shared/wire/webhooks.js';
import { waitFor } from '../helpers/wait.js';
import { tearDownFleet, killMesh } from '../helpers/fleet.js';

const available = await dockerAvailable();
const AGENT = 'hooked';
const SECRET = 'e2e-webhook-secret';
const TEMPLATE = 'call write_file {"path":"/data/hook.txt","content":"{payload.value}"}';
const GITHUB_SECRET = 'e2e-github-secret';
const GITHUB_TEMPLATE =
  'call write_file {"path":"/data/github.txt","content":"{event} to {payload.repository.full_name}"}';

/** The directive responder, but for a `call <tool> <json>` line anywhere in the newest
 *  user message: a lane item's text opens with a header line before the template. */
function lineDirectives(call: FakeCall): FakeStep {
  const last = call.messages.at(-1);
  const line = last?.role === 'user' ? /^call \w+ .*$/m.exec(last.content)?.[0] : undefined;
  if (!last || line === undefined) return directiveResponder(call);
  return directiveResponder({ ...call, messages: [...call.messages.slice(0, -1), { ...last, content: line }] });
}

describe.skipIf(!available)('webhooks with real Docker', () => {
  let fake: FakeProvider;
  let project: TestProject;
  let container: string;
  let hookUrl: string;

  const delivery = (id: string): Promise<WebhookDelivery> =>
    MeshClient.connect(project.dir).requestJson('GET', `/api/webhooks/deliveries/${id}`, WebhookDeliverySchema);
  const hookFile = async () => (await execIn(container, ['cat', '/data/hook.txt'])).output.trim();

  beforeAll(async () => {
    fake = await startFakeProvider({ respond: lineDirectives });
    project = makeProject({
      port: await freePort(),
      openaiBaseUrl: fake.openaiBaseUrl,
      agentsYaml: `agents:\n  ${AGENT}:\n    role: writes webhook payloads to files\n`,
    });
    const started = await legion(['start', '-d'], project.dir);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    container = `legion-${projectId(project.dir)}-${AGENT}`;
    const added = await legion(
      ['webhook', 'add', 'inbox', '--agent', AGENT, '--secret', SECRET, '--message', TEMPLATE],
      project.dir,
    );
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    hookUrl = added.stdout.trim().split('\n').at(-1) ?? '';
  });

  afterAll(async () => {
    await tearDownFleet(project);
    await fake?.close();
    project?.cleanup();
  });

  it("hands a signed call to the agent, which writes the payload's value to /data", async () => {
    expect(hookUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/webhook\/hook\/[A-Za-z0-9_-]{24}$/);
    const answer = await postHook({
      url: hookUrl,
      body: JSON.stringify({ value: 'written-by-webhook' }),
      secret: SECRET,
    });
    expect(answer.status).toBe(202);
    const id = String(answer.json.delivery_id);
    const done = await waitFor(async () => {
      const d = await delivery(id);
      return d.status === 'done' || d.status === 'failed' ? d : null;
    }, 'the delivery to finish');
    expect(done.status).toBe('done');
    expect(done.reply).toContain('tool write_file returned: wrote 18 bytes to /data/hook.txt');
    expect(await hookFile()).toBe('written-by-webhook');
  });

  it('answers a wrong signature with 401, and nothing reaches the agent', async () => {
    const answer = await postHook({
      url: hookUrl,
      body: JSON.stringify({ value: 'forged-value' }),
      secret: 'not-the-secret',
    });
    expect(answer.status).toBe(401);
    expect(answer.json).toMatchObject({ error: { code: 'signature_invalid' } });
    await new Promise((r) => setTimeout(r, 2000));
    expect(turnsFor(fake.calls, AGENT, /forged-value/)).toEqual([]);
    expect(await hookFile()).toBe('written-by-webhook');
    const logs = await legion(['logs', '--agent', AGENT], project.dir);
    expect(logs.stdout).toMatch(/hooked\s+webhook_refused\s+inbox .*"code":"signature_invalid"/);
  });

  it("wakes the agent with the rendered message for a push signed by GitHub's own code", async () => {
    const added = await legion(
      [
        'webhook',
        'add',
        'github',
        '--agent',
        AGENT,
        '--scheme',
        'github',
        '--secret',
        GITHUB_SECRET,
        '--events',
        'push',
        '--message',
        GITHUB_TEMPLATE,
      ],
      project.dir,
    );
    expect(added.stderr).toBe('');
    const url = added.stdout.trim().split('\n').at(-1) ?? '';
    const body = JSON.stringify({
      ref: 'refs/heads/main',
      repository: { full_name: 'acme/site' },
      head_commit: { message: 'fix the header' },
    });
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': await githubSign(GITHUB_SECRET, body),
      },
      body,
    });
    expect(response.status).toBe(202);
    const id = String(((await response.json()) as { delivery_id: string }).delivery_id);
    const done = await waitFor(async () => {
      const d = await delivery(id);
      return d.status === 'done' || d.status === 'failed' ? d : null;
    }, 'the GitHub delivery to finish');
    expect(done.status).toBe('done');
    expect(
      turnsFor(fake.calls, AGENT, /call write_file \{"path":"\/data\/github\.txt","content":"push to acme\/site"\}/),
    ).toHaveLength(1);
    expect((await execIn(container, ['cat', '/data/github.txt'])).output.trim()).toBe('push to acme/site');
  });

  it('delivers a call accepted before a SIGKILL of the mesh exactly once after the restart', async () => {
    // A frozen agent cannot take the delivery: it stays in flight.
    await docker.getContainer(container).pause();
    const answer = await postHook({
      url: hookUrl,
      body: JSON.stringify({ value: 'survived-the-kill' }),
      secret: SECRET,
    });
    expect(answer.status).toBe(202);
    const id = String(answer.json.delivery_id);
    await waitFor(
      async () => ((await delivery(id)).status === 'inflight' ? true : null),
      'the delivery to be in flight',
    );
    expect(turnsFor(fake.calls, AGENT, /survived-the-kill/)).toEqual([]);

    await killMesh(project);

    const restarted = await legion(['start', '-d'], project.dir);
    expect(restarted.code).toBe(0);
    const done = await waitFor(
      async () => {
        const d = await delivery(id);
        return d.status === 'done' || d.status === 'failed' ? d : null;
      },
      'the delivery to finish after the restart',
      90_000,
    );
    expect(done.status).toBe('done');
    expect(await hookFile()).toBe('survived-the-kill');
    // Time for a second copy to show up, were there one.
    await new Promise((r) => setTimeout(r, 3000));
    expect(turnsFor(fake.calls, AGENT, /survived-the-kill/)).toHaveLength(1);
    expect((await legion(['webhook', 'list'], project.dir)).stdout).toMatch(/inbox\s+hooked\s+yes\s+2\s/);
  });
});
