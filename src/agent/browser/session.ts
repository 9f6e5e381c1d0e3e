// One browser per agent: Debian's Chromium driven by playwright-core, started on first
// use, closed after `idleMs` without a browser tool call, started again after a crash
// or an idle close (the next call finds it gone and launches it). Its profile is
// <dataDir>/browser/profile on the agent's volume, so cookies and logins survive
// container restarts (its cookies are also saved to <dataDir>/browser/cookies.json
// after every tool call and put back at launch). Every request goes through the mesh egress proxy with the
// agent's credentials (Playwright answers the proxy's 407 with them); loopback is
// proxied too (Playwright adds <-loopback>), so nothing bypasses the allowlist.
// Sandbox: the container is the sandbox (no capabilities, no-new-privileges, seccomp,
// read-only root, non-root user), which leaves Chromium no way to build its own
// (user namespaces or a setuid helper), so it runs with --no-sandbox (Playwright's
// default); see docs/browser.md.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BrowserContext, Cookie, Page } from 'playwright-core';
import { LegionError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logging.js';
import type { BrowserProxy } from './proxy.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const VIEWPORT = { width: 1280, height: 800 } as const;

/** Flags this environment needs: no GPU, no background traffic of Chromium's own (it
 *  would only be refused by the egress proxy), no QUIC (the proxy speaks TCP). */
export const CHROMIUM_FLAGS = [
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

const PROFILE_LOCKS = ['SingletonLock', 'SingletonSocket', 'SingletonCookie'];

export interface BrowserSessionOptions {
  dataDir: string;
  proxy: BrowserProxy | null;
  idleMs: number;
  logger: Logger;
  executablePath?: string;
  launchTimeoutMs?: number;
}

export class BrowserSession {
  private readonly options: BrowserSessionOptions;
  private context: BrowserContext | null = null;
  private launching: Promise<BrowserContext> | null = null;
  private current: Page | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  /** The HTTP status of the last navigation of each page. */
  readonly statuses = new WeakMap<Page, number | null>();

  constructor(options: BrowserSessionOptions) {
    this.options = options;
  }

  get running(): boolean {
    return this.context !== null;
  }

  /** The page tools act on, launching the browser when needed; resets the idle clock. */
  async page(): Promise<Page> {
    const context = await this.ensure();
    this.touch();
    if (this.current && !this.current.isClosed()) return this.current;
    this.current = context.pages().find((p) => !p.isClosed()) ?? (await context.newPage());
    return this.current;
  }

  async pages(): Promise<Page[]> {
    const context = await this.ensure();
    this.touch();
    return context.pages();
  }

  async newPage(): Promise<Page> {
    const context = await this.ensure();
    this.touch();
    this.current = await context.newPage();
    return this.current;
  }

  select(page: Page): void {
    this.current = page;
  }

  currentPage(): Page | null {
    return this.current;
  }

  private touch(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.options.logger.info(
        { event: 'browser_idle_close', idle_ms: this.options.idleMs },
        'closing the idle browser',
      );
      void this.close();
    }, this.options.idleMs);
    this.idleTimer.unref();
  }

  private async ensure(): Promise<BrowserContext> {
    if (this.context) return this.context;
    this.launching ??= this.launch().finally(() => (this.launching = null));
    return this.launching;
  }

  private async launch(): Promise<BrowserContext> {
    const { dataDir, proxy, logger } = this.options;
    if (!proxy)
      throw new LegionError(
        'browser_no_proxy',
        'the browser needs the egress proxy (HTTP_PROXY is not set in this container), and has no other way out',
      );
    const profile = join(dataDir, 'browser', 'profile');
    const home = join(dataDir, 'browser', 'home');
    await mkdir(profile, { recursive: true });
    await mkdir(home, { recursive: true });
    // Chromium's profile lock names the host and pid that held it; after a container
    // restart that is another host, and Chromium would refuse the profile. This agent's
    // one browser is the only user of its volume, so a lock found now is stale.
    await Promise.all(PROFILE_LOCKS.map((name) => rm(join(profile, name), { force: true })));
    const { chromium } = await import('playwright-core');
    const started = Date.now();
    let context: BrowserContext;
    try {
      context = await chromium.launchPersistentContext(profile, {
        executablePath: this.options.executablePath ?? CHROMIUM_PATH,
        headless: true,
        args: CHROMIUM_FLAGS,
        proxy,
        viewport: VIEWPORT,
        timeout: this.options.launchTimeoutMs ?? 30_000,
        // The root file system is read-only: Chromium's home-directory state goes to the volume.
        env: {
          ...process.env,
          HOME: home,
          XDG_CONFIG_HOME: join(home, '.config'),
          XDG_CACHE_HOME: join(home, '.cache'),
        },
      });
    } catch (err) {
      const reason = err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
      const hint = /ENOENT|Failed to launch|executable/i.test(reason)
        ? ' (this agent image has no Chromium: set browser: true for the agent in config/agents.yaml and can_use_browser in config/permissions.yaml)'
        : '';
      throw new LegionError('browser_launch_failed', `the browser did not start: ${reason}${hint}`);
    }
    await this.restoreCookies(context);
    logger.info({ event: 'browser_started', ms: Date.now() - started }, 'browser started');
    context.on('close', () => {
      if (this.context === context) {
        this.context = null;
        this.current = null;
        logger.info({ event: 'browser_closed' }, 'browser closed; the next browser tool call starts it again');
      }
    });
    this.context = context;
    return context;
  }

  private cookieFile(): string {
    return join(this.options.dataDir, 'browser', 'cookies.json');
  }

  /** Writes the browser's persistent cookies to the volume, after every browser tool
   *  call: Chromium itself writes its cookie store only every 30 s or at a clean exit,
   *  and a container killed in between would lose the logins. Never throws. */
  async saveCookies(): Promise<void> {
    const context = this.context;
    if (!context) return;
    try {
      const cookies = (await context.cookies()).filter((cookie) => cookie.expires > 0);
      const file = this.cookieFile();
      await writeFile(`${file}.tmp`, JSON.stringify(cookies), { mode: 0o600 });
      await rename(`${file}.tmp`, file);
    } catch (err) {
      this.options.logger.warn(
        { event: 'browser_cookies_not_saved', err: err instanceof Error ? err.message : String(err) },
        'could not save the browser cookies',
      );
    }
  }

  private async restoreCookies(context: BrowserContext): Promise<void> {
    let saved: Cookie[];
    try {
      saved = JSON.parse(await readFile(this.cookieFile(), 'utf8')) as Cookie[];
    } catch {
      return;
    }
    const now = Date.now() / 1000;
    await context.addCookies(saved.filter((cookie) => cookie.expires > now)).catch((err: unknown) => {
      this.options.logger.warn(
        { event: 'browser_cookies_not_restored', err: err instanceof Error ? err.message : String(err) },
        'could not restore the saved browser cookies',
      );
    });
  }

  /** Closes the browser (idle, shutdown); the next call starts it again. Never throws. */
  async close(): Promise<void> {
    await this.saveCookies();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const context = this.context;
    this.context = null;
    this.current = null;
    if (context) await context.close().catch(() => undefined);
  }
}
