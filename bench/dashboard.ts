// The web dashboard: first load of the fleet page (a fresh browser context with a
// session each time: the shell, the scripts, the stylesheet and the first live fleet
// snapshot, until every agent's row shows its health), median of 20 in Debian's
// Chromium; and the total size of what the page loads. Over a real mesh with agents as
// local processes (no Docker needed); skipped without Chromium.
import { existsSync } from 'node:fs';
import { startHarness } from '../tests/helpers/mesh-harness.js';
import { legion } from '../tests/helpers/project.js';
import { loginLink, rawRequest, sessionFrom } from '../tests/helpers/dashboard.js';
import { CHROMIUM, launchBrowser } from '../tests/helpers/browser.js';
import { DashboardAssets } from '../src/mesh/dashboard/assets.js';
import { median, type BenchRow } from './table.js';

const LOADS = 20;
const LOAD_TARGET_MS = 1000;
const SIZE_TARGET_KB = 100;

export async function dashboardBench(): Promise<BenchRow[]> {
  const kb = new DashboardAssets().totalBytes() / 1024;
  const rows: BenchRow[] = [
    ['dashboard: total asset size', `${kb.toFixed(1)} KB`, `< ${SIZE_TARGET_KB} KB`, kb < SIZE_TARGET_KB],
  ];
  if (!existsSync(CHROMIUM)) {
    process.stderr.write(`dashboard bench: no Chromium at ${CHROMIUM}; first-load time skipped\n`);
    return rows;
  }
  const h = await startHarness({
    agentsYaml: 'agents:\n  one: { role: first }\n  two: { role: second }\n  three: { role: third }\n',
  });
  const browser = await launchBrowser();
  try {
    const origin = new URL(h.mesh.adminUrl).origin;
    const port = Number(new URL(origin).port);
    const times: number[] = [];
    for (let i = 0; i < LOADS; i += 1) {
      const link = loginLink((await legion(['dashboard'], h.project.dir, { CI: '1' })).stdout);
      const cookie = sessionFrom(await rawRequest(port, 'GET', `${link.pathname}${link.search}`));
      const [name = '', value = ''] = cookie.split('=');
      const context = await browser.newContext();
      await context.addCookies([{ name, value, url: `${origin}/ui/` }]);
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
  } finally {
    await browser.close();
    await h.close();
  }
  return rows;
}
