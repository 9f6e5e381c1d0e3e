// The web dashboard: first load of the fleet page (a fresh browser context with a
// session each time: the shell, the scripts, the stylesheet and the first live fleet
// snapshot, until every agent's row shows its health), median of 20 in Debian's
// Chromium; the total size of what the page loads; and the delay from a workflow step's
// transition in the mesh (its row in workflow_transitions) to the change of its DAG node
// on screen (a MutationObserver's clock in the page; same machine, same clock), over
// runs of a six-step chain started from the page. Over a real mesh with agents as local
// processes (no Docker needed); skipped without Chromium.
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { startHarness, type Harness } from '../tests/helpers/mesh-harness.js';
import { legion } from '../tests/helpers/project.js';
import { loginLink, rawRequest, sessionFrom } from '../tests/helpers/dashboard.js';
import { CHROMIUM, launchBrowser } from '../tests/helpers/browser.js';
import { workflowResponder } from '../tests/helpers/workflows.js';
import { DashboardAssets } from '../src/mesh/dashboard/assets.js';
import { median, percentile, type BenchRow } from './table.js';

const LOADS = 20;
const LOAD_TARGET_MS = 1000;
const SIZE_TARGET_KB = 100;
const RUNS = 8;
const STEP_DELAY_TARGET_MS = 250;

const CHAIN = `name: chain
steps:
${[1, 2, 3, 4, 5, 6]
  .map(
    (n) => `  - id: s${n}\n    agent: one\n    task_type: answer ${n}\n${n > 1 ? `    depends_on: [s${n - 1}]\n` : ''}`,
  )
  .join('')}`;

export async function dashboardBench(): Promise<BenchRow[]> {
  const kb = new DashboardAssets().totalBytes() / 1024;
  const rows: BenchRow[] = [
    ['dashboard: total asset size', `${kb.toFixed(1)} KB`, `< ${SIZE_TARGET_KB} KB`, kb < SIZE_TARGET_KB],
  ];
  if (!existsSync(CHROMIUM)) {
    process.stderr.write(`dashboard bench: no Chromium at ${CHROMIUM}; first-load time and step delay skipped\n`);
    return rows;
  }
  const h = await startHarness({
    agentsYaml: 'agents:\n  one: { role: first }\n  two: { role: second }\n  three: { role: third }\n',
    workflows: { 'chain.yaml': CHAIN },
    fake: { respond: workflowResponder },
  });
  const browser = await launchBrowser();
  try {
    const origin = new URL(h.mesh.adminUrl).origin;
    const port = Number(new URL(origin).port);
    const session = async () => {
      const link = loginLink((await legion(['dashboard'], h.project.dir, { CI: '1' })).stdout);
      const cookie = sessionFrom(await rawRequest(port, 'GET', `${link.pathname}${link.search}`));
      const [name = '', value = ''] = cookie.split('=');
      const context = await browser.newContext();
      await context.addCookies([{ name, value, url: `${origin}/ui/` }]);
      return context;
    };
    const times: number[] = [];
    for (let i = 0; i < LOADS; i += 1) {
      const context = await session();
      const page = await context.newPage();
      const begin = performance.now();
      await page.goto(`${origin}/ui/`);
      await page.locator('tr[data-agent] .badge.healthy').nth(2).waitFor();
      times.push(performance.now() - begin);
      await context.close();
    }
    const loadMs = median(times);
    rows.push([
      'dashboard: fleet page first load (median of 20)',
      `${loadMs.toFixed(0)} ms`,
      `< ${LOAD_TARGET_MS} ms`,
      loadMs < LOAD_TARGET_MS,
    ]);

    const context = await session();
    const delays = await stepDelays(h, await context.newPage(), origin);
    await context.close();
    const mid = median(delays);
    const p99 = percentile(delays, 99);
    rows.push([
      `dashboard: step transition in the mesh → DAG on screen (median, p99 of ${delays.length})`,
      `${mid.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms`,
      `median < ${STEP_DELAY_TARGET_MS} ms`,
      mid < STEP_DELAY_TARGET_MS,
    ]);
  } finally {
    await browser.close();
    await h.close();
  }
  return rows;
}

/** Starts RUNS runs of the chain from the workflows page; pairs each step transition the page showed with the mesh's record of it. */
async function stepDelays(h: Harness, page: Page, origin: string): Promise<number[]> {
  await page.goto(`${origin}/ui/#/workflows`);
  await page.locator('#run-workflow option[value="chain"]').waitFor({ state: 'attached' });
  // Each node's changes, on the page's own clock (epoch ms, sub-millisecond), and when the node was drawn.
  await page.evaluate(`
    window.changes = [];
    window.drawn = {};
    const now = () => performance.timeOrigin + performance.now();
    new MutationObserver((records) => {
      for (const r of records) {
        if (r.type === 'attributes') {
          const run = r.target.closest('svg').getAttribute('aria-label').replace('steps of run ', '');
          window.changes.push({ run, step: r.target.getAttribute('data-step'), status: r.target.getAttribute('data-status'), at: now() });
        }
        for (const added of r.addedNodes) if (added.querySelector && added.querySelector('svg.dag'))
          window.drawn[added.querySelector('svg.dag').getAttribute('aria-label').replace('steps of run ', '')] = now();
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
  `);
  const delays: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.locator('.run-status', { hasText: 'chain: done' }).waitFor({ timeout: 60_000 });
    const changes = (await page.evaluate('window.changes')) as {
      run: string;
      step: string;
      status: string;
      at: number;
    }[];
    const drawn = (await page.evaluate('window.drawn')) as Record<string, number>;
    const run = changes.at(-1)?.run ?? '';
    const { transitions } = await h.client.workflowTransitions(run, 0);
    for (const t of transitions) {
      const at = Date.parse(t.at);
      // A transition before the DAG was drawn (the first step queued with the run) is shown by the first read, not live.
      if (t.step === null || at < (drawn[run] ?? Infinity)) continue;
      const shown = changes.find((c) => c.run === run && c.step === t.step && c.status === t.status);
      if (shown) delays.push(Math.max(0, shown.at - at));
    }
  }
  return delays;
}
