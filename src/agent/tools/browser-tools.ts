// The browser tools (names and arguments are a contract): navigate, snapshot, click,
// type, select, back, tabs, screenshot, evaluate. They act on the agent's one
// BrowserSession; each action has a timeout, and every failure is a tool error that
// says what failed: element not found, navigation timeout, or blocked by egress with
// the egress proxy's reason (the rule that refused it). Screenshots are PNG files under
// /data/artifacts/screenshots, and the picture goes to the model on its next call.
// browser_evaluate asks the mesh first (can_browser_evaluate).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Page, Response } from 'playwright-core';
import { LegionError } from '../../shared/errors.js';
import { BrowserEvaluateGrantSchema } from '../../shared/wire/browser.js';
import { ACTION_TIMEOUT_MS, describePage, resolveTarget } from '../browser/page-state.js';
import { tunnelRefusal, type BrowserProxy } from '../browser/proxy.js';
import type { BrowserSession } from '../browser/session.js';
import type { MeshRpc } from './mesh-rpc.js';
import { defineTool, type Tool } from './registry.js';

const NAVIGATION_TIMEOUT_MS = 30_000;
const LOAD_STATES = ['load', 'domcontentloaded', 'networkidle'] as const;
const EVALUATE_MAX_CHARS = 16_000;
/** Screenshots larger than this are saved but not shown to the model (the agent API takes 8 MB bodies, base64 grows by a third). */
const PICTURE_MAX_BYTES = 3 * 1024 * 1024;

const TargetShape = {
  ref: z
    .string()
    .regex(/^e\d+$/, 'expected a ref such as e12 from the latest snapshot')
    .optional()
    .describe('ref from the latest snapshot, e.g. e12'),
  selector: z.string().min(1).optional().describe('a CSS or Playwright selector, when there is no ref'),
};
const oneTarget = (value: { ref?: string | undefined; selector?: string | undefined }) =>
  (value.ref === undefined) !== (value.selector === undefined);
const ONE_TARGET_MESSAGE = { message: 'give exactly one of ref or selector' };

function firstLine(err: unknown): string {
  return err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
}

/** The egress proxy's refusal of a plain-HTTP navigation, from its 403 answer. */
async function httpRefusal(response: Response | null): Promise<string | null> {
  if (response?.status() !== 403 || response.headers()['x-legion-error'] !== 'egress_refused') return null;
  return (await response.text().catch(() => '')).trim() || 'egress_refused';
}

/** Back to the page before a failed navigation (Chromium's error page, or the proxy's
 *  refusal at `refusedUrl`); a tab with nothing to go back to is left blank. */
async function leaveErrorPage(page: Page, refusedUrl?: string): Promise<void> {
  // Chromium commits its error page a moment after goto() has failed.
  if (refusedUrl === undefined)
    await page.waitForURL((u) => u.protocol === 'chrome-error:', { timeout: 2_000 }).catch(() => undefined);
  const stuck = () => page.url().startsWith('chrome-error:') || (refusedUrl !== undefined && page.url() === refusedUrl);
  if (!stuck()) return;
  await page.goBack({ timeout: ACTION_TIMEOUT_MS }).catch(() => undefined);
  if (stuck()) await page.goto('about:blank').catch(() => undefined);
}

async function settle(page: Page): Promise<void> {
  // A click or submit may start a navigation; wait for it briefly, a page that stays is fine too.
  await page.waitForLoadState('domcontentloaded', { timeout: ACTION_TIMEOUT_MS }).catch(() => undefined);
}

export function createBrowserTools(session: BrowserSession, mesh: MeshRpc, proxy: BrowserProxy | null): Tool[] {
  return browserTools(session, mesh, proxy).map((tool) => ({
    ...tool,
    run: async (args, ctx) => {
      try {
        return await tool.run(args, ctx);
      } finally {
        await session.saveCookies();
      }
    },
  }));
}

function browserTools(session: BrowserSession, mesh: MeshRpc, proxy: BrowserProxy | null): Tool[] {
  const status = (page: Page) => session.statuses.get(page) ?? null;
  const show = async (page: Page) => ({ ok: true, output: await describePage(page, status(page)) });

  const navigate = async (page: Page, url: string, waitFor: string | undefined): Promise<void> => {
    const waitUntil = LOAD_STATES.find((s) => s === waitFor) ?? 'load';
    let response: Response | null;
    try {
      response = await page.goto(url, { waitUntil, timeout: NAVIGATION_TIMEOUT_MS });
    } catch (err) {
      const message = firstLine(err);
      if (/ERR_TUNNEL_CONNECTION_FAILED|ERR_PROXY_CONNECTION_FAILED|ERR_PROXY_AUTH/.test(message) && proxy) {
        const target = new URL(url);
        const reason = await tunnelRefusal(
          proxy,
          target.hostname.replace(/^\[(.*)\]$/, '$1'),
          Number(target.port || (target.protocol === 'https:' ? 443 : 80)),
        );
        if (reason) {
          // Chromium shows its error page in the tab; the model is better served by the page it was on.
          await leaveErrorPage(page);
          throw new LegionError('egress_refused', `navigation to ${url} blocked by egress: ${reason}`);
        }
      }
      await leaveErrorPage(page);
      if (/Timeout .*exceeded/i.test(message))
        throw new LegionError(
          'navigation_timeout',
          `navigation to ${url} timed out after ${NAVIGATION_TIMEOUT_MS / 1000} s`,
        );
      throw new LegionError('navigation_failed', `navigation to ${url} failed: ${message}`);
    }
    const refusal = await httpRefusal(response);
    if (refusal) {
      await leaveErrorPage(page, response?.url() ?? url);
      throw new LegionError('egress_refused', `navigation to ${url} blocked by egress: ${refusal}`);
    }
    session.statuses.set(page, response?.status() ?? null);
    if (waitFor && !LOAD_STATES.some((s) => s === waitFor)) {
      await page
        .getByText(waitFor)
        .first()
        .waitFor({ timeout: ACTION_TIMEOUT_MS })
        .catch(() => {
          throw new LegionError(
            'wait_timeout',
            `the page loaded, but the text ${JSON.stringify(waitFor)} did not appear within ${ACTION_TIMEOUT_MS / 1000} s`,
          );
        });
    }
  };

  return [
    defineTool({
      name: 'browser_navigate',
      description:
        'Open a URL in your browser. Returns the final URL, HTTP status, title, the page text and its elements, each actionable one with a ref (e12) for browser_click/type/select. wait_for: load (default), domcontentloaded, networkidle, or a text to wait for. Only hosts your allowlist permits can be reached.',
      schema: z.strictObject({
        url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
        wait_for: z.string().min(1).optional(),
      }),
      run: async ({ url, wait_for }) => {
        const page = await session.page();
        await navigate(page, url, wait_for);
        return show(page);
      },
    }),
    defineTool({
      name: 'browser_snapshot',
      description: 'The current page again (URL, status, title, text, elements with refs), after it changed.',
      schema: z.strictObject({}),
      run: async () => show(await session.page()),
    }),
    defineTool({
      name: 'browser_click',
      description: 'Click an element by its ref from the latest snapshot (or a selector). Returns the page afterwards.',
      schema: z.strictObject(TargetShape).refine(oneTarget, ONE_TARGET_MESSAGE),
      run: async (target) => {
        const page = await session.page();
        const element = await resolveTarget(page, target);
        const navigation = page.waitForNavigation({ timeout: ACTION_TIMEOUT_MS }).then(
          (r) => session.statuses.set(page, r?.status() ?? null),
          () => undefined,
        );
        await element.click({ timeout: ACTION_TIMEOUT_MS });
        await Promise.race([navigation, new Promise((r) => setTimeout(r, 500))]);
        await settle(page);
        return show(page);
      },
    }),
    defineTool({
      name: 'browser_type',
      description:
        'Type text into a field by ref (or selector), replacing what it held; submit: true presses Enter afterwards. Returns the page afterwards.',
      schema: z
        .strictObject({ ...TargetShape, text: z.string(), submit: z.boolean().default(false) })
        .refine(oneTarget, ONE_TARGET_MESSAGE),
      run: async ({ ref, selector, text, submit }) => {
        const page = await session.page();
        const element = await resolveTarget(page, { ref, selector });
        await element.fill(text, { timeout: ACTION_TIMEOUT_MS });
        if (submit) {
          const navigation = page.waitForNavigation({ timeout: ACTION_TIMEOUT_MS }).then(
            (r) => session.statuses.set(page, r?.status() ?? null),
            () => undefined,
          );
          await element.press('Enter', { timeout: ACTION_TIMEOUT_MS });
          await navigation;
          await settle(page);
        }
        return show(page);
      },
    }),
    defineTool({
      name: 'browser_select',
      description:
        "Choose an option of a select element by ref (or selector); value is the option's value or its visible label.",
      schema: z.strictObject({ ...TargetShape, value: z.string() }).refine(oneTarget, ONE_TARGET_MESSAGE),
      run: async ({ ref, selector, value }) => {
        const page = await session.page();
        const element = await resolveTarget(page, { ref, selector });
        const byValue = await element
          .selectOption({ value }, { timeout: ACTION_TIMEOUT_MS })
          .catch(() => [] as string[]);
        if (byValue.length === 0) {
          await element.selectOption({ label: value }, { timeout: ACTION_TIMEOUT_MS }).catch((err: unknown) => {
            throw new LegionError(
              'element_not_found',
              `no option with value or label ${JSON.stringify(value)}: ${firstLine(err)}`,
            );
          });
        }
        await settle(page);
        return show(page);
      },
    }),
    defineTool({
      name: 'browser_back',
      description: 'Go back one page in the current tab. Returns that page.',
      schema: z.strictObject({}),
      run: async () => {
        const page = await session.page();
        const response = await page.goBack({ timeout: NAVIGATION_TIMEOUT_MS });
        if (!response && page.url() === 'about:blank')
          return { ok: false, output: 'there is no earlier page in this tab' };
        if (response) session.statuses.set(page, response.status());
        return show(page);
      },
    }),
    defineTool({
      name: 'browser_tabs',
      description:
        'Tabs: action list, new (opens a blank tab and switches to it), select (index), close (index, default the current one).',
      schema: z.strictObject({
        action: z.enum(['list', 'new', 'select', 'close']),
        index: z.number().int().min(0).optional(),
      }),
      run: async ({ action, index }) => {
        if (action === 'new') await session.newPage();
        const pages = await session.pages();
        const current = session.currentPage();
        if (action === 'select' || action === 'close') {
          const chosen = index === undefined ? (action === 'close' ? current : undefined) : pages[index];
          if (!chosen)
            throw new LegionError(
              'tab_not_found',
              index === undefined
                ? 'select needs an index (see browser_tabs list)'
                : `there is no tab ${index}: ${pages.length} tab(s) open, numbered from 0`,
            );
          if (action === 'select') session.select(chosen);
          else {
            await chosen.close();
            const left = pages.filter((p) => p !== chosen);
            if (left[0]) session.select(left.at(-1) ?? left[0]);
          }
        }
        const open = (await session.pages()).filter((p) => !p.isClosed());
        const active = session.currentPage();
        const lines = await Promise.all(
          open.map(async (p, i) => `${p === active ? '*' : ' '} ${i}: ${await p.title().catch(() => '')} (${p.url()})`),
        );
        return { ok: true, output: [`${open.length} tab(s); * is the current one`, ...lines].join('\n') };
      },
    }),
    defineTool({
      name: 'browser_screenshot',
      description:
        'Save a PNG screenshot of the current page (full_page: the whole page; ref: one element) under /data/artifacts/screenshots and return its path.',
      schema: z.strictObject({ full_page: z.boolean().default(false), ref: TargetShape.ref }),
      run: async ({ full_page, ref }, ctx) => {
        const page = await session.page();
        const dir = join(ctx.dataDir, 'artifacts', 'screenshots');
        await mkdir(dir, { recursive: true });
        const path = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.png`);
        const image = ref
          ? await (await resolveTarget(page, { ref })).screenshot({ path, timeout: ACTION_TIMEOUT_MS })
          : await page.screenshot({ path, fullPage: full_page, timeout: ACTION_TIMEOUT_MS });
        const width = image.readUInt32BE(16);
        const height = image.readUInt32BE(20);
        const output = `saved ${path} (PNG, ${width}x${height}, ${image.length} bytes) of ${page.url()}`;
        // The model sees the picture on its next call, when it takes images (the mesh decides).
        if (image.length > PICTURE_MAX_BYTES)
          return { ok: true, output: `${output}\n[too large to show you: over ${PICTURE_MAX_BYTES / 1024 / 1024} MB]` };
        return { ok: true, output, image: { media_type: 'image/png', data: image.toString('base64') } };
      },
    }),
    defineTool({
      name: 'browser_evaluate',
      description:
        'Run a JavaScript expression in the current page and return its JSON result (needs can_browser_evaluate in your permissions).',
      schema: z.strictObject({ expression: z.string().min(1) }),
      run: async ({ expression }, ctx) => {
        const page = await session.page();
        await mesh.call(
          '/mesh/browser/evaluate',
          { url: page.url(), expression_chars: expression.length },
          BrowserEvaluateGrantSchema,
          ctx.trace,
        );
        let value: unknown;
        try {
          value = await page.evaluate(expression);
        } catch (err) {
          return { ok: false, output: `the expression threw in the page: ${firstLine(err)}` };
        }
        const json = JSON.stringify(value ?? null, null, 2) ?? 'null';
        return {
          ok: true,
          output:
            json.length > EVALUATE_MAX_CHARS
              ? `${json.slice(0, EVALUATE_MAX_CHARS)}\n[cut at ${EVALUATE_MAX_CHARS} characters]`
              : json,
        };
      },
    }),
  ];
}
