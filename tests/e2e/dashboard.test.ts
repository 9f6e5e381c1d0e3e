// The dashboard over a real Docker fleet: log in in Chromium with the link of the real
// `legion dashboard`, see every agent healthy, `docker kill` one agent's container and
// watch its row leave healthy and come back (restarted once, its last error saying
// why) on the same page, without a reload. Screenshots: test-results/dashboard/e2e-*.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { freePort, legion, makeProject, type TestProject } from '../helpers/project.js';
import { docker, dockerAvailable } from '../helpers/docker.js';
import { tearDownFleet } from '../helpers/fleet.js';
import { loginLink } from '../helpers/dashboard.js';
import { browserAvailable, launchBrowser, screenshot, watchPage } from '../helpers/browser.js';
import { projectId } from '../../src/shared/state.js';

const available = (await dockerAvailable()) && browserAvailable();

describe.skipIf(!available)('dashboard over a Docker fleet', () => {
  let fake: FakeProvider;
  let project: TestProject;
  let browser: Browser;
  let page: Page;
  let problems: string[];

  const badge = (agent: string) => page.locator(`tr[data-agent="${agent}"] td[data-label="Health"] .badge`);

  beforeAll(async () => {
    fake = await startFakeProvider();
    project = makeProject({
      port: await freePort(),
      openaiBaseUrl: fake.openaiBaseUrl,
      agentsYaml: 'agents:\n  sentinel:\n    role: keeps watch\n  keeper:\n    role: keeps records\n',
    });
    const started = await legion(['start', '-d'], project.dir);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    problems = watchPage(page, `http://127.0.0.1:${project.port}`);
  });

  afterAll(async () => {
    await browser?.close();
    await tearDownFleet(project);
    await fake?.close();
    project?.cleanup();
  });

  it('shows a killed container go unhealthy and come back, live', async () => {
    const printed = await legion(['dashboard'], project.dir, { CI: '1', DISPLAY: '', WAYLAND_DISPLAY: '' });
    expect(printed.code).toBe(0);
    await page.goto(loginLink(printed.stdout).href);
    await expect.poll(() => badge('sentinel').textContent()).toBe('healthy');
    await expect.poll(() => badge('keeper').textContent()).toBe('healthy');
    await screenshot(page, 'e2e-fleet');

    // Every health the row shows from now on, in order, as the page changes it.
    // (Page scripts are strings: this project's type-check has no DOM library.)
    await page.evaluate(`
      window.seen = [];
      const row = document.querySelector('tr[data-agent="sentinel"]');
      new MutationObserver(() => {
        const health = row.getAttribute('data-health');
        if (window.seen.at(-1) !== health) window.seen.push(health);
      }).observe(row, { attributes: true, attributeFilter: ['data-health'] });
    `);

    await docker.getContainer(`legion-${projectId(project.dir)}-sentinel`).kill();
    await expect.poll(() => badge('sentinel').textContent(), { timeout: 30_000 }).not.toBe('healthy');
    await screenshot(page, 'e2e-fleet-killed');
    await expect.poll(() => badge('sentinel').textContent(), { timeout: 60_000 }).toBe('healthy');
    await expect
      .poll(() => page.locator('tr[data-agent="sentinel"] td[data-label="Restarts (1 h)"]').textContent())
      .toBe('1');
    expect(await page.locator('tr[data-agent="sentinel"] td[data-label="Health"]').textContent()).toContain(
      'restarted: its container is exited',
    );
    await screenshot(page, 'e2e-fleet-back');

    const seen = (await page.evaluate('window.seen')) as string[];
    // The observer lives on the same page: no reload happened. Its record went from a
    // state that is not healthy (unhealthy while the container lay dead, starting while
    // the new one came up, whichever the live snapshot caught) back to healthy.
    expect(seen.at(-1)).toBe('healthy');
    expect(seen.some((health) => health === 'unhealthy' || health === 'starting')).toBe(true);
    expect(await badge('keeper').textContent()).toBe('healthy');
    expect(problems).toEqual([]);
  });
});
