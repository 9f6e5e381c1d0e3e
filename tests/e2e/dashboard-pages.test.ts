// The dashboard's chat, workflows, blackboard and triggers pages over a real Docker
// fleet, in Chromium: a chat reply drawn as it streams (the fake provider pauses between
// frames) with its tool call shown; a three-step workflow with a condition started from
// the page, whose DAG nodes go queued → running → done (and one skipped) on the same
// page as the mesh moves them; a blackboard edit with compare-and-set that loses a race
// to the CLI, shows the conflict, keeps the edit and then saves it; the triggers page
// listing a cron job with its next run. Screenshots: test-results/dashboard/e2e-*.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { freePort, legion, makeProject, type TestProject } from '../helpers/project.js';
import { dockerAvailable } from '../helpers/docker.js';
import { tearDownFleet } from '../helpers/fleet.js';
import { loginLink } from '../helpers/dashboard.js';
import { workflowResponder } from '../helpers/workflows.js';
import { MeshClient } from '../../src/cli/mesh-client.js';
import { CronJobListSchema } from '../../src/shared/wire/cron.js';
import { browserAvailable, launchBrowser, screenshot, watchPage } from '../helpers/browser.js';

const available = (await dockerAvailable()) && browserAvailable();

// first answers {"score": 7} after sleeping in its container; second's condition holds, third's does not.
const GATED = `name: gated
description: a step, then one of two branches by its score
steps:
  - id: first
    agent: worker
    task_type: 'sleep 2 {"score": 7}'
  - id: second
    agent: worker
    task_type: sleep 2 passed
    depends_on: [first]
    condition: "steps.first.result.score >= 5"
  - id: third
    agent: worker
    task_type: answer never
    depends_on: [first]
    condition: "steps.first.result.score > 100"
`;

describe.skipIf(!available)('dashboard pages over a Docker fleet', () => {
  let fake: FakeProvider;
  let project: TestProject;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let origin: string;

  beforeAll(async () => {
    // A pause between stream frames: a reply arrives in several pieces, as from a real model.
    fake = await startFakeProvider({ respond: workflowResponder, chunkDelayMs: 40 });
    project = makeProject({
      port: await freePort(),
      openaiBaseUrl: fake.openaiBaseUrl,
      agentsYaml: 'agents:\n  worker:\n    role: does the work\n',
    });
    mkdirSync(join(project.dir, 'config', 'workflows'), { recursive: true });
    writeFileSync(join(project.dir, 'config', 'workflows', 'gated.yaml'), GATED);
    const started = await legion(['start', '-d'], project.dir);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    origin = `http://127.0.0.1:${project.port}`;
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    problems = watchPage(page, origin);
  });

  afterAll(async () => {
    await browser?.close();
    await tearDownFleet(project);
    await fake?.close();
    project?.cleanup();
  });

  it('streams a chat reply as it arrives and shows its tool call', async () => {
    const printed = await legion(['dashboard'], project.dir, { CI: '1', DISPLAY: '', WAYLAND_DISPLAY: '' });
    await page.goto(loginLink(printed.stdout).href);
    await expect
      .poll(() => page.locator('tr[data-agent="worker"] .badge').textContent(), { timeout: 60_000 })
      .toBe('healthy');
    await page.locator('nav a[href="#/chat"]').click();
    await expect.poll(() => page.locator('#chat-agent').inputValue()).toBe('worker');
    // Every text the streaming reply showed, in order (page scripts are strings: no DOM types here).
    await page.evaluate(`
      window.replyTexts = [];
      new MutationObserver(() => {
        const text = document.querySelector('.turn.live .msg.agent[data-state="streaming"] .text');
        if (text && text.textContent && window.replyTexts.at(-1) !== text.textContent) window.replyTexts.push(text.textContent);
      }).observe(document.querySelector('.chat-log'), { subtree: true, childList: true, characterData: true });
    `);
    await page.locator('#chat-message').fill('call exec {"command": "echo from the dashboard"}');
    await page.keyboard.press('Enter');
    const answer = page.locator('.chat-log .msg.agent[data-state]').last();
    await expect.poll(() => answer.getAttribute('data-state'), { timeout: 60_000 }).toBe('done');
    const reply = (await answer.locator('.text').textContent()) ?? '';
    expect(reply).toContain('tool exec returned:');
    expect(reply).toContain('from the dashboard');
    const seen = (await page.evaluate('window.replyTexts')) as string[];
    // More than one partial text was on screen before the reply was complete.
    expect(seen.filter((text) => text.length < reply.length).length).toBeGreaterThan(1);
    const tool = answer.locator('details.tool[data-tool="exec"]');
    expect(await tool.count()).toBe(1);
    await tool.locator('summary').click();
    expect(await tool.locator('pre').first().textContent()).toContain('echo from the dashboard');
    expect(await tool.locator('pre.result').textContent()).toContain('from the dashboard');
    await screenshot(page, 'e2e-chat');
    // The turn is the agent's history, as `legion chat --history` reads it.
    const history = await legion(['chat', 'worker', '--history', '--json'], project.dir);
    expect(history.stdout).toContain('call exec');
  });

  it('starts a three-step workflow with a condition and shows each step change live on its DAG', async () => {
    await page.locator('nav a[href="#/workflows"]').click();
    await expect.poll(() => page.locator('tr[data-workflow="gated"]').count()).toBe(1);
    await page.locator('#run-workflow').selectOption('gated');
    // A payload that is not JSON is named and nothing starts.
    await page.locator('#run-payload').fill('{"topic": oops}');
    await page.getByRole('button', { name: 'Start run' }).click();
    await expect.poll(() => page.locator('#run-payload-error').textContent()).toContain('not JSON');
    expect(await page.locator('#run-payload').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('tr[data-run]').count()).toBe(0);

    // Record every status each node shows, from the moment it is drawn.
    await page.evaluate(`
      window.stepStates = {};
      const note = (node) => {
        const step = node.getAttribute('data-step');
        const list = (window.stepStates[step] ??= []);
        if (list.at(-1) !== node.getAttribute('data-status')) list.push(node.getAttribute('data-status'));
      };
      new MutationObserver((records) => {
        for (const r of records) {
          if (r.type === 'attributes') note(r.target);
          for (const added of r.addedNodes ?? []) if (added.querySelectorAll) added.querySelectorAll('g.node').forEach(note);
        }
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
    `);
    await page.locator('#run-payload').fill('{"topic": "dashboards"}');
    await page.getByRole('button', { name: 'Start run' }).click();
    const node = (step: string) => page.locator(`g.node[data-step="${step}"]`);
    await expect.poll(() => node('first').getAttribute('data-status'), { timeout: 30_000 }).toBe('running');
    await screenshot(page, 'e2e-workflow-running');
    await expect.poll(() => node('second').getAttribute('data-status'), { timeout: 90_000 }).toBe('done');
    await expect.poll(() => node('third').getAttribute('data-status')).toBe('skipped');
    await expect.poll(() => page.locator('.run-status').textContent()).toContain('gated: done');

    const states = (await page.evaluate('window.stepStates')) as Record<string, string[]>;
    // Each executed step was seen queued, then running, then done; the false condition's step went to skipped.
    for (const step of ['first', 'second']) {
      const seen = states[step] ?? [];
      expect(seen.indexOf('queued'), `${step}: ${seen.join(' → ')}`).toBeGreaterThan(-1);
      expect(seen.indexOf('running')).toBeGreaterThan(seen.indexOf('queued'));
      expect(seen.indexOf('done')).toBeGreaterThan(seen.indexOf('running'));
    }
    expect(states.third?.at(-1)).toBe('skipped');
    expect(states.third).not.toContain('running');

    // A step's detail on keyboard: its input, result, attempts and transitions.
    await node('first').focus();
    await page.keyboard.press('Enter');
    const detail = page.locator('.step-detail dl[data-step="first"]');
    await expect.poll(() => detail.count()).toBe(1);
    const text = (await detail.textContent()) ?? '';
    expect(text).toContain('dashboards');
    expect(text).toContain('"score": 7');
    expect(text).toContain('Attempts1');
    await node('third').click();
    await expect
      .poll(() => page.locator('.step-detail dl[data-step="third"]').textContent())
      .toContain('condition false');
    await screenshot(page, 'e2e-workflow-done');
  });

  it('edits a blackboard key with compare-and-set, shows a conflict and keeps the edit', async () => {
    expect((await legion(['blackboard', 'set', 'notes/plan', '"draft one"'], project.dir)).code).toBe(0);
    await page.locator('nav a[href="#/blackboard"]').click();
    await page.locator('#bb-prefix').fill('notes/');
    await expect.poll(() => page.locator('tr[data-key="notes/plan"]').count()).toBe(1);
    await page.locator('tr[data-key="notes/plan"] button').click();
    await expect.poll(() => page.locator('#bb-editor').inputValue()).toBe('"draft one"');

    // Someone else writes between opening and saving.
    await page.locator('#bb-editor').fill('"my edit"');
    expect((await legion(['blackboard', 'set', 'notes/plan', '"their edit"'], project.dir)).code).toBe(0);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => page.locator('#bb-status').textContent()).toContain('Conflict');
    expect(await page.locator('#bb-editor').inputValue()).toBe('"my edit"');
    await expect.poll(() => page.locator('.bb-stored').textContent()).toBe('"their edit"');
    const stored = await legion(['blackboard', 'get', 'notes/plan'], project.dir);
    expect(stored.stdout).toContain('their edit');
    await screenshot(page, 'e2e-blackboard-conflict');

    await page.getByRole('button', { name: 'Keep mine (save over it)' }).click();
    await expect.poll(() => page.locator('#bb-status').textContent()).toContain('Saved as version 3');
    const after = await legion(['blackboard', 'get', 'notes/plan', '--json'], project.dir);
    expect(JSON.parse(after.stdout)).toMatchObject({ value: 'my edit', version: 3, writer: 'operator' });
    await expect.poll(() => page.locator('.bb-history li').count()).toBe(3);
    await screenshot(page, 'e2e-blackboard');
  });

  it('lists a cron job with its next run and a webhook with its deliveries', async () => {
    const added = await legion(['cron', 'add', 'worker', 'every 1h', 'check the dashboard'], project.dir);
    expect(added.code).toBe(0);
    const id = added.stdout.trim().split('\n').at(-1);
    const { jobs } = await MeshClient.connect(project.dir).requestJson('GET', '/api/cron/jobs', CronJobListSchema);
    const job = jobs.find((j) => j.id === id);
    if (!job?.next_run) throw new Error(`no job ${id} with a next run in ${JSON.stringify(jobs)}`);
    await page.locator('nav a[href="#/triggers"]').click();
    const row = page.locator(`tr[data-job="${job.id}"]`);
    // Added after the page loaded: it arrives with the cron_added event.
    await expect.poll(() => row.count(), { timeout: 15_000 }).toBe(1);
    expect(await row.locator('td[data-label="Next run"] time').getAttribute('datetime')).toBe(job.next_run);
    expect(await row.locator('td[data-label="Next run"]').textContent()).toContain('in 60 min');
    expect(await row.locator('td[data-label="Last run"]').textContent()).toBe('never');

    // A webhook's delivery shows up and goes on to its outcome, live.
    expect((await legion(['webhook', 'add', 'inbox', '--agent', 'worker'], project.dir)).code).toBe(0);
    const sent = await legion(['webhook', 'test', 'inbox'], project.dir);
    expect(sent.code).toBe(0);
    const delivery = /delivery (\S+)/.exec(sent.stdout)?.[1] ?? '';
    const shown = page.locator(`tr[data-hook="inbox"] li[data-delivery="${delivery}"] .badge`);
    await expect.poll(() => shown.textContent(), { timeout: 60_000 }).toBe('done');
    expect(await page.locator('tr[data-hook="inbox"] td[data-label="Target"]').textContent()).toBe('worker');
    await screenshot(page, 'e2e-triggers');
  });

  it('reads in a narrow window and logged no error', async () => {
    await page.setViewportSize({ width: 380, height: 800 });
    for (const name of ['chat', 'workflows', 'blackboard', 'triggers']) {
      await page.locator(`nav a[href="#/${name}"]`).click();
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(380);
    }
    await screenshot(page, 'e2e-triggers-narrow');
    // The one refusal the test provoked (the lost compare-and-set, which Chromium logs as a failed request) and nothing else.
    const conflict = (line: string) => line.includes('409');
    expect(problems.filter(conflict)).toHaveLength(2);
    expect(problems.filter((line) => !conflict(line))).toEqual([]);
  });
});
