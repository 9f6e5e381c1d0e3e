// What a browser tool hands the model about a page: final URL, HTTP status, title,
// readable text (capped) and the outline with refs; and how refs and selectors turn
// into elements. Errors name what failed (no such ref, element not found, timeout).
import type { Locator, Page } from 'playwright-core';
import { LegionError } from '../../shared/errors.js';
import { formatOutline, REF_ATTRIBUTE, snapshotScript, type PageSnapshot } from './snapshot-script.js';

export const TEXT_MAX_CHARS = 8_000;
const OUTLINE_MAX_LINES = 300;
export const ACTION_TIMEOUT_MS = 10_000;

export async function describePage(page: Page, status: number | null): Promise<string> {
  const snapshot = (await page.evaluate(snapshotScript(TEXT_MAX_CHARS, OUTLINE_MAX_LINES))) as PageSnapshot;
  const lines = [`URL: ${page.url()}`, `Status: ${status ?? 'unknown'}`, `Title: ${await page.title()}`, '', '## Text'];
  lines.push(snapshot.text || '(no text)');
  if (snapshot.textLength > snapshot.text.length)
    lines.push(`[text cut: showing ${snapshot.text.length} of ${snapshot.textLength} characters]`);
  lines.push('', '## Elements (use ref=eN with browser_click, browser_type, browser_select)');
  lines.push(snapshot.lines.length > 0 ? formatOutline(snapshot.lines) : '(no headings or actionable elements)');
  if (snapshot.lines.length >= OUTLINE_MAX_LINES) lines.push(`[outline cut at ${OUTLINE_MAX_LINES} elements]`);
  return lines.join('\n');
}

export interface ElementTarget {
  ref?: string | undefined;
  selector?: string | undefined;
}

/** The one element a ref or selector names; throws element_not_found saying which. */
export async function resolveTarget(page: Page, target: ElementTarget): Promise<Locator> {
  const locator = target.ref ? page.locator(`[${REF_ATTRIBUTE}="${target.ref}"]`) : page.locator(target.selector ?? '');
  const what = target.ref ? `ref ${target.ref}` : `selector ${JSON.stringify(target.selector)}`;
  let count: number;
  try {
    count = await locator.count();
  } catch (err) {
    throw new LegionError(
      'bad_selector',
      `${what} is not a valid selector: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
    );
  }
  if (count === 0) {
    const hint = target.ref
      ? ' (refs come from the latest browser_snapshot or browser_navigate of this page; take a new snapshot)'
      : '';
    throw new LegionError('element_not_found', `element not found: no element has ${what} on ${page.url()}${hint}`);
  }
  return locator.first();
}
