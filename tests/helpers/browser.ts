// A real browser for the dashboard tests: Debian's Chromium (/usr/bin/chromium, apt
// package `chromium`) driven by playwright-core. Without it the tests skip with a loud
// notice, unless CI or LEGION_REQUIRE_BROWSER=1, where a missing browser is a failure.
// Screenshots go to test-results/dashboard/ (gitignored; CI keeps them as artifacts).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from './project.js';

export const CHROMIUM = process.env.LEGION_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(REPO_ROOT, 'test-results', 'dashboard');

const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI || process.env.LEGION_REQUIRE_BROWSER === '1')
    throw new Error(`no Chromium at ${CHROMIUM}: install it with \`apt-get install chromium\` (.ci/run does)`);
  process.stderr.write(
    `\n*** legion dashboard tests: NO CHROMIUM AT ${CHROMIUM}; SKIPPING BROWSER TESTS (apt-get install chromium, or set LEGION_REQUIRE_BROWSER=1 to fail instead) ***\n\n`,
  );
  return false;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Everything the page did that a user would see as broken: uncaught errors, console errors (CSP violations among them), requests leaving the mesh. */
export function watchPage(page: Page, origin: string): string[] {
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${response.status()} for ${response.url()}`);
  });
  page.on('request', (request) => {
    if (!request.url().startsWith(`${origin}/`)) problems.push(`request outside the mesh: ${request.url()}`);
  });
  return problems;
}
