// Keeps the memory index in step with the workspace while the agent runs, so a file
// written by exec or copied in is searchable within a second: one non-recursive
// fs.watch (inotify) per directory of the index's view, taken from agent.db at start
// (no walk) and then from the index as it reads directories (MemoryIndex.observe).
// Why not fs.watch({ recursive: true }): on Linux, Node 20 emulates it in JavaScript,
// walking the whole tree at start (node_modules and .git included, with no way to skip
// them) and holding one watcher per file (measured: 3,000 files, 3,005 handles, 0.29 s),
// which is the walk this index exists to avoid; chokidar walks the same way.
// Invariants: events are batched (DEBOUNCE_MS after the last one, MAX_DELAY_MS after the
// first at most); names the index never holds (dot-entries, node_modules, agent.db and
// its journal files, content changes of non-markdown files) are dropped before they
// cost anything, so the index's own writes never feed back; at most MAX_PENDING paths
// wait (past that, one sync() replaces the batch); settle() applies what waits at once,
// so a search right after a write sees it. A directory that cannot be watched (inotify
// limit, MAX_WATCHED_DIRS) turns on a sync() every FALLBACK_SYNC_MS, so nothing stays
// unseen for long; a change whose event is lost (a crash) is found by the next sync().
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../shared/logging.js';
import { AGENT_DB_FILE } from './db.js';
import type { DirectoryObserver, MemoryIndex } from './index.js';
import { childPath } from './workspace-view.js';

const DEBOUNCE_MS = 100;
const MAX_DELAY_MS = 500;
const MAX_PENDING = 5_000;
const MAX_WATCHED_DIRS = 8_192;
const FALLBACK_SYNC_MS = 30_000;
const DB_FILES = new Set(['', '-wal', '-shm', '-journal'].map((suffix) => `${AGENT_DB_FILE}${suffix}`));

/** Whether an event about `name` (an entry of a watched directory) can matter to the index. */
export function isRelevantEvent(event: 'rename' | 'change', name: string): boolean {
  if (name.startsWith('.') || name === 'node_modules' || DB_FILES.has(name)) return false;
  // 'change' is a content or attribute change; only a markdown file's content is indexed.
  // 'rename' (created, deleted, moved) may also be a directory, whatever its name.
  return event === 'rename' || name.toLowerCase().endsWith('.md');
}

export class WorkspaceWatcher implements DirectoryObserver {
  private readonly watchers = new Map<string, FSWatcher>();
  private pending = new Set<string>();
  private overflow = false;
  private timer: NodeJS.Timeout | null = null;
  private firstPendingAt = 0;
  private applying: Promise<void> = Promise.resolve();
  private fallback: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly index: MemoryIndex,
    private readonly logger: Logger,
  ) {}

  /** Watches the directories of the index's stored view, and those the index reads from now on. */
  start(): void {
    this.index.observe(this);
    for (const dir of this.index.directories()) this.watch(dir);
  }

  watch(relative: string): void {
    if (this.closed || this.watchers.has(relative)) return;
    if (this.watchers.size >= MAX_WATCHED_DIRS) {
      this.degrade(relative, `more than ${MAX_WATCHED_DIRS} directories`);
      return;
    }
    const absolute = path.join(this.index.workspaceDir, ...relative.split('/').filter(Boolean));
    try {
      const watcher = watch(absolute, { persistent: false }, (event, name) => this.onEvent(relative, event, name));
      // Raised when the directory goes away under the watch: re-reading it drops it from the view.
      watcher.on('error', () => {
        this.unwatch(relative);
        this.enqueue(relative);
      });
      this.watchers.set(relative, watcher);
    } catch (err) {
      const code = err instanceof Error && 'code' in err ? err.code : undefined;
      // Already gone: the read that follows drops it from the view.
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      this.degrade(relative, err instanceof Error ? err.message : String(err));
    }
  }

  unwatch(relative: string): void {
    this.watchers.get(relative)?.close();
    this.watchers.delete(relative);
  }

  /** Applies every change received so far; resolves when the index holds them. */
  settle(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const paths = [...this.pending];
    const full = this.overflow;
    this.pending = new Set();
    this.overflow = false;
    if (!full && paths.length === 0) return this.applying;
    this.applying = this.applying
      .then(() => (full ? this.index.sync() : this.index.applyChanges(paths)))
      .then(
        () => undefined,
        (err: unknown) =>
          this.logger.warn(
            { event: 'memory_watch_apply_failed', err },
            'could not index changed files; the next sync will',
          ),
      );
    return this.applying;
  }

  /** The directories watched now (for tests and the log). */
  get watchedCount(): number {
    return this.watchers.size;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.fallback) clearInterval(this.fallback);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    this.index.observe(null);
  }

  private onEvent(dir: string, event: 'rename' | 'change', name: string | null): void {
    if (name === null) this.enqueue(dir);
    else if (isRelevantEvent(event, name)) this.enqueue(childPath(dir, name));
  }

  private enqueue(relative: string): void {
    if (this.closed) return;
    if (this.overflow || this.pending.size >= MAX_PENDING) {
      this.overflow = true;
      this.pending.clear();
    } else this.pending.add(relative);
    const now = Date.now();
    if (this.timer) clearTimeout(this.timer);
    else this.firstPendingAt = now;
    const wait = Math.max(0, Math.min(DEBOUNCE_MS, this.firstPendingAt + MAX_DELAY_MS - now));
    this.timer = setTimeout(() => void this.settle(), wait);
    this.timer.unref();
  }

  private degrade(relative: string, reason: string): void {
    if (this.fallback) return;
    this.logger.warn(
      { event: 'memory_watch_limited', dir: relative, reason },
      `cannot watch every workspace directory (${reason}); the memory index also re-syncs every ${FALLBACK_SYNC_MS / 1000} s`,
    );
    this.fallback = setInterval(() => {
      this.overflow = true;
      void this.settle();
    }, FALLBACK_SYNC_MS);
    this.fallback.unref();
  }
}
