// The dashboard's static files: the page shell, and the compiled client (dist/ui, built
// from src/ui by `npm run build`) with its stylesheet. Everything is shipped in the
// package and served from memory; nothing is fetched from anywhere else.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../shared/paths.js';
import { LegionError } from '../../shared/errors.js';

export interface Asset {
  body: Buffer;
  type: string;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The page shell; every module is preloaded at once, so the imports of main.js cost no extra round trips. */
export function shellHtml(modules: readonly string[]): string {
  const preload = modules.map((name) => `<link rel="modulepreload" href="/ui/assets/${name}">`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>legion</title>
<link rel="icon" href="/ui/assets/icon.svg">
<link rel="stylesheet" href="/ui/assets/style.css">
${preload}
<script type="module" src="/ui/assets/main.js"></script>
</head>
<body>
<header>
<strong>legion</strong>
<nav aria-label="pages"><a href="#/fleet">Fleet</a><a href="#/chat">Chat</a><a href="#/workflows">Workflows</a><a href="#/blackboard">Blackboard</a><a href="#/events">Events</a><a href="#/costs">Costs</a><a href="#/triggers">Triggers</a></nav>
<span id="live" role="status" aria-live="polite"></span>
</header>
<main id="page" tabindex="-1"></main>
</body>
</html>
`;
}

/** A page for a browser that came without a session or with a spent login link. */
export function refusalHtml(message: string): string {
  const text = message.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>legion</title></head><body><h1>legion dashboard</h1><p>${text}</p></body></html>\n`;
}

export class DashboardAssets {
  private files: Map<string, Asset> | null = null;
  private html: string | null = null;
  private readonly dir: string;

  constructor(dir = join(PACKAGE_ROOT, 'dist', 'ui')) {
    this.dir = dir;
  }

  /** The asset of that file name, or null when there is none. */
  get(name: string): Asset | null {
    return this.load().get(name) ?? null;
  }

  /** The page shell, preloading every module there is. */
  shell(): string {
    this.html ??= shellHtml(
      [...this.load().keys()].filter((name) => name.endsWith('.js') && name !== 'main.js').sort(),
    );
    return this.html;
  }

  /** Total bytes the page loads, the shell included (bench/dashboard.ts reports it). */
  totalBytes(): number {
    let total = Buffer.byteLength(this.shell());
    for (const asset of this.load().values()) total += asset.body.length;
    return total;
  }

  private load(): Map<string, Asset> {
    if (this.files) return this.files;
    if (!existsSync(join(this.dir, 'main.js'))) {
      throw new LegionError(
        'dashboard_not_built',
        `the dashboard's files are missing from ${this.dir}: run \`npm run build\``,
      );
    }
    const files = new Map<string, Asset>();
    for (const name of readdirSync(this.dir)) {
      const type = TYPES[name.slice(name.lastIndexOf('.'))];
      if (type) files.set(name, { body: readFileSync(join(this.dir, name)), type });
    }
    this.files = files;
    return files;
  }
}
