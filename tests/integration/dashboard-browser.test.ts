// The dashboard in a real browser against a real mesh (agents as local processes, the
// fake provider): log in with the link of the real `legion dashboard`, see the fleet
// with health and spend, watch a chat's cost and events arrive without a reload, reach
// every page by keyboard, read it in a narrow window, and restart an agent by its button.
// Nothing is fetched from outside the mesh and the page logs no error (CSP included).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';
import { legion } from '../helpers/project.js';
import { loginLink } from '../helpers/dashboard.js';
import { CostReportSchema } from '../../src/shared/wire/costs.js';
import { EventListSchema } from '../../src/shared/wire/events.js';
import { formatUsd } from '../../src/shared/money.js';
import { browserAvailable, launchBrowser, screenshot, watchPage } from '../helpers/browser.js';

const AGENTS =
  'agents:\n  scout:\n    role: looks around\n    budget: { daily_usd: 0.5 }\n  scribe:\n    role: writes things down\n';
const NO_DESKTOP = { CI: '1', DISPLAY: '', WAYLAND_DISPLAY: '' };

describe.skipIf(!browserAvailable())('dashboard in Chromium', () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let origin: string;

  const row = (agent: string) => page.locator(`tr[data-agent="${agent}"]`);
  const cell = (agent: string, label: string) => row(agent).locator(`td[data-label="${label}"]`);

  beforeAll(async () => {
    h = await startHarness({ agentsYaml: AGENTS });
    origin = new URL(h.mesh.adminUrl).origin;
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    problems = watchPage(page, origin);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('logs in with the link of `legion dashboard` and lists the fleet with its health', async () => {
    const printed = await legion(['dashboard'], h.project.dir, NO_DESKTOP);
    await page.goto(loginLink(printed.stdout).href);
    expect(page.url()).toBe(`${origin}/ui/`);
    await expect.poll(() => row('scout').count()).toBe(1);
    await expect.poll(() => cell('scout', 'Health').locator('.badge').textContent()).toBe('healthy');
    await expect.poll(() => cell('scribe', 'Health').locator('.badge').textContent()).toBe('healthy');
    expect(await cell('scout', 'Model').textContent()).toBe('openai/gpt-4o-mini');
    expect(await cell('scout', 'Spent today').textContent()).toBe('$0.00');
    expect(await page.locator('#live').textContent()).toBe('live');
    // The cookie is invisible to the page's scripts and nothing is kept in its storage.
    // (Page scripts are strings: this project's type-check has no DOM library.)
    expect(await page.evaluate('[document.cookie, localStorage.length, sessionStorage.length]')).toEqual(['', 0, 0]);
    await screenshot(page, 'fleet');
  });

  it("shows a chat's spend and events as they happen, without a reload", async () => {
    await page.evaluate("window.marker = 'same page'");
    await h.say('scout', 'hello there');
    await expect.poll(() => cell('scout', 'Spent today').textContent(), { timeout: 15_000 }).not.toBe('$0.00');
    // The same figure `legion costs` prints.
    const report = CostReportSchema.parse(JSON.parse((await legion(['costs', '--json'], h.project.dir)).stdout));
    const spent = report.rows.filter((r) => r.agent === 'scout').reduce((total, r) => total + r.cost_usd, 0);
    await expect.poll(() => cell('scout', 'Spent today').textContent()).toBe(formatUsd(spent));

    await page.keyboard.press('Tab');
    const events = page.locator('nav a[href="#/events"]');
    await events.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#events-title').count()).toBe(1);
    await expect.poll(() => page.locator('tr[data-kind="chat"]').count()).toBeGreaterThan(0);
    const before = await page.locator('tbody tr').count();
    await h.say('scribe', 'note this');
    await expect.poll(() => page.locator('tbody tr').count(), { timeout: 15_000 }).toBeGreaterThan(before);

    await page.locator('#filter-agent').fill('scribe');
    const agents = await page.locator('tbody td[data-label="Agent"]').allTextContents();
    expect(agents.length).toBeGreaterThan(0);
    expect(new Set(agents)).toEqual(new Set(['scribe']));
    await screenshot(page, 'events');
    await page.locator('#filter-agent').fill('');
    expect(await page.evaluate('window.marker')).toBe('same page');
  });

  it("draws the month's spend per agent and day with budget lines, with the figures of `legion costs`", async () => {
    await page.goto(`${origin}/ui/#/costs`);
    await expect.poll(() => page.locator('figure[data-chart="scout"] rect.bar').count()).toBeGreaterThanOrEqual(28);
    const report = CostReportSchema.parse(
      JSON.parse((await legion(['costs', '--period', 'month', '--json'], h.project.dir)).stdout),
    );
    expect(report.totals.cost_usd).toBeGreaterThan(0);
    // Each agent/model row and the total read as the CLI prints them.
    const rows = await page
      .locator('table.cost-rows tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    expect(rows).toEqual([
      ...report.rows.map((r) => [
        r.agent,
        r.model,
        String(r.calls),
        String(r.failed),
        String(r.prompt_tokens),
        String(r.completion_tokens),
        formatUsd(r.cost_usd),
      ]),
      [
        'total',
        '',
        String(report.totals.calls),
        String(report.totals.failed),
        String(report.totals.prompt_tokens),
        String(report.totals.completion_tokens),
        formatUsd(report.totals.cost_usd),
      ],
    ]);
    // scout's one chat this month is one bar of the day it happened, of what the CLI says; scout's chart has its daily budget line.
    const scoutMonth = report.rows.filter((r) => r.agent === 'scout').reduce((total, r) => total + r.cost_usd, 0);
    const bars = await page.locator('figure[data-chart="scout"] rect.bar title').allTextContents();
    const spentBars = bars.filter((title) => !title.endsWith(': $0.00'));
    expect(spentBars).toHaveLength(1);
    const [day, amount] = (spentBars[0] ?? '').split(': ');
    expect(day?.slice(0, 8)).toBe(report.first_day.slice(0, 8));
    expect(amount).toBe(formatUsd(scoutMonth));
    expect(await page.locator('figure[data-chart="scout"] line.budget').count()).toBe(1);
    expect(await page.locator('figure[data-chart="scout"] .budget-label').textContent()).toBe('daily budget $0.50');
    expect(await page.locator('figure[data-chart="scribe"] line.budget').count()).toBe(0);
    await screenshot(page, 'costs');
  });

  it('reads in a narrow window and restarts an agent by its button', async () => {
    await page.goto(`${origin}/ui/#/fleet`);
    await page.setViewportSize({ width: 380, height: 800 });
    await expect.poll(() => cell('scribe', 'Health').locator('.badge').textContent()).toBe('healthy');
    const width = await page.evaluate('document.documentElement.scrollWidth');
    expect(width).toBeLessThanOrEqual(380);
    await screenshot(page, 'fleet-narrow');

    page.once('dialog', (dialog) => void dialog.accept());
    await row('scribe').getByRole('button', { name: 'Restart' }).click();
    await expect.poll(() => page.locator('.note').textContent(), { timeout: 30_000 }).toBe('scribe restarted');
    await expect.poll(() => cell('scribe', 'Health').locator('.badge').textContent()).toBe('healthy');
    const restarts = await h.client.requestJson('GET', '/api/events?limit=50', EventListSchema);
    expect(restarts.events.some((e) => e.kind === 'agent_restart' && e.agent === 'scribe')).toBe(true);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('loaded nothing from outside the mesh and logged no error', () => {
    expect(problems).toEqual([]);
  });
});
