// File watchers: the mesh polls each configured directory (polling, not inotify, so it
// works on Docker volumes and network filesystems) and wakes the watcher's agent with
// a 'watcher' lane item for every new or changed file (decided by planScan).
// Invariants: handled files (path, mtime, size) and whether a watcher ever scanned are
// rows in mesh.db, so a restart neither repeats a file nor forgets what appeared while
// the mesh was down; a fired file's lane item and its handled row are written in one
// transaction; polls never overlap; an edited config/watchers.yaml is applied at the
// next poll, and an invalid edit keeps the running watchers and says why; one
// watcher's failure (say, an unreadable directory) never stops the others.
import { basename, join } from 'node:path';
import type { Logger } from '../../../shared/logging.js';
import type { Db, Migration } from '../../db.js';
import type { EventLog } from '../../events/log.js';
import type { TriggerBody } from '../../lanes/format.js';
import type { LaneStore } from '../../lanes/store.js';
import {
  loadWatchersConfig,
  watchersFileStamp,
  WATCHERS_FILE,
  type WatcherSpec,
  type WatchersConfig,
} from '../../../shared/config/watchers.js';
import { planScan, scanDirectory, type Snapshot } from './scan.js';

export const watchersMigrations: Migration[] = [
  {
    domain: 'watchers',
    version: 1,
    sql: `CREATE TABLE watcher_scans (
      watcher TEXT PRIMARY KEY,
      first_scan_at TEXT NOT NULL
    );
    CREATE TABLE watcher_files (
      watcher TEXT NOT NULL,
      path TEXT NOT NULL,
      mtime_ms REAL NOT NULL,
      size INTEGER NOT NULL,
      handled_at TEXT NOT NULL,
      delivery_id TEXT,
      PRIMARY KEY (watcher, path)
    );`,
  },
];

/** The message a watcher's agent gets for one file. */
export function renderWatcherMessage(template: string, filePath: string): string {
  return template.replaceAll('{filename}', basename(filePath)).replaceAll('{path}', filePath);
}

export interface FileWatchersOptions {
  db: Db;
  lanes: LaneStore;
  events: EventLog;
  logger: Logger;
  projectDir: string;
  /** As loaded at start (an invalid file fails the start before this exists). */
  config: WatchersConfig;
  knownAgents: () => string[];
  /** Wakes the agent whose lane got an item. */
  onEnqueued: (agent: string) => void;
}

export class FileWatchers {
  private readonly options: FileWatchersOptions;
  private config: WatchersConfig;
  /** A stamp of watchers.yaml that failed to load, so it is reported once, not every poll. */
  private rejectedStamp: string | null = null;
  private readonly settling = new Map<string, Snapshot>();
  /** Problems already logged, so a missing directory is not reported every poll. */
  private readonly reported = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(options: FileWatchersOptions) {
    this.options = options;
    this.config = options.config;
  }

  /** Scans at once (the first scan of a new watcher records what is there), then every interval. */
  start(): void {
    if (this.config.watchers.length > 0) {
      this.options.logger.info(
        { event: 'watchers_started', watchers: this.config.watchers.map((w) => w.name) },
        'file watchers polling',
      );
    }
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.poll()
        .catch((err: unknown) =>
          this.options.logger.error({ event: 'watchers_poll_failed', err }, 'file watchers poll failed'),
        )
        .finally(() => this.schedule(this.config.pollIntervalMs));
    }, ms);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    this.reloadIfEdited();
    for (const watcher of this.config.watchers) {
      if (this.stopped) return;
      try {
        await this.scan(watcher);
        this.reported.delete(`${watcher.key}\nerror`);
      } catch (err) {
        this.reportOnce(
          `${watcher.key}\nerror`,
          { event: 'watcher_failed', watcher: watcher.name, err: err instanceof Error ? err.message : String(err) },
          'file watcher failed; retrying at the next poll',
        );
      }
    }
  }

  private reloadIfEdited(): void {
    const { projectDir, knownAgents, logger, events } = this.options;
    const stamp = watchersFileStamp(projectDir);
    if (stamp === this.config.stamp || stamp === this.rejectedStamp) return;
    try {
      this.config = loadWatchersConfig(projectDir, knownAgents());
      this.rejectedStamp = null;
      logger.info(
        { event: 'watchers_reloaded', watchers: this.config.watchers.map((w) => w.name) },
        `${WATCHERS_FILE} reloaded`,
      );
      events.record({
        agent: null,
        kind: 'watchers_reloaded',
        subject: WATCHERS_FILE,
        detail: { watchers: this.config.watchers.map((w) => w.name) },
      });
    } catch (err) {
      this.rejectedStamp = stamp;
      const reason = err instanceof Error ? err.message : String(err);
      logger.error(
        { event: 'watchers_config_invalid', err: reason },
        `${WATCHERS_FILE} is invalid; the watchers keep running as they were`,
      );
      events.record({
        agent: null,
        kind: 'watchers_config_invalid',
        subject: WATCHERS_FILE,
        detail: { error: reason },
      });
    }
  }

  private reportOnce(key: string, fields: Record<string, unknown>, message: string): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.options.logger.warn(fields, message);
  }

  private handled(watcher: WatcherSpec): Snapshot {
    const rows = this.options.db
      .prepare<[string], { path: string; mtime_ms: number; size: number }>(
        'SELECT path, mtime_ms, size FROM watcher_files WHERE watcher = ?',
      )
      .all(watcher.key);
    return new Map(rows.map((row) => [row.path, { mtimeMs: row.mtime_ms, size: row.size }]));
  }

  private async scan(watcher: WatcherSpec): Promise<void> {
    const { db, lanes, events, knownAgents, onEnqueued } = this.options;
    const scan = await scanDirectory(watcher.root, watcher.pattern, watcher.recursive);
    // close() may have closed the database while the directory was read.
    if (this.stopped) return;
    if (!scan.missing) this.reported.delete(`${watcher.key}\nmissing`);
    if (scan.missing)
      this.reportOnce(
        `${watcher.key}\nmissing`,
        { event: 'watcher_directory_missing', watcher: watcher.name, path: watcher.root },
        'watched directory does not exist (yet); files put there later will fire',
      );
    if (scan.truncated)
      this.reportOnce(
        `${watcher.key}\ntruncated`,
        { event: 'watcher_truncated', watcher: watcher.name, path: watcher.root },
        'watched directory has too many matching files; only the first ones are watched',
      );

    const first =
      db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM watcher_scans WHERE watcher = ?').get(watcher.key)
        ?.n === 0;
    const plan = planScan({
      first,
      handled: this.handled(watcher),
      settling: this.settling.get(watcher.key) ?? new Map(),
      current: scan.files,
    });
    // Files that are due but cannot go out now stay settled, so they fire on a later poll.
    const held: Snapshot = new Map(plan.settling);
    const hold = (paths: string[]) =>
      paths.forEach((path) => held.set(path, scan.files.get(path) ?? { mtimeMs: 0, size: 0 }));
    let fire = plan.fire;
    if (fire.length > 0 && !knownAgents().includes(watcher.agent)) {
      this.reportOnce(
        `${watcher.key}\nagent`,
        { event: 'watcher_agent_missing', watcher: watcher.name, agent: watcher.agent },
        "watcher's agent is not in the fleet; its files wait",
      );
      hold(fire);
      fire = [];
    }
    this.settling.set(watcher.key, held);
    if (!first && fire.length === 0 && plan.forget.length === 0) return;

    const now = new Date().toISOString();
    const upsert = db.prepare(
      'INSERT INTO watcher_files (watcher, path, mtime_ms, size, handled_at, delivery_id) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (watcher, path) DO UPDATE SET mtime_ms = excluded.mtime_ms, size = excluded.size, handled_at = excluded.handled_at, delivery_id = excluded.delivery_id',
    );
    const stamp = (path: string) => scan.files.get(path) ?? { mtimeMs: 0, size: 0 };
    let fired: { file: string; deliveryId: string }[];
    try {
      fired = db.transaction(() => {
        if (first) db.prepare('INSERT INTO watcher_scans (watcher, first_scan_at) VALUES (?, ?)').run(watcher.key, now);
        for (const path of plan.record) upsert.run(watcher.key, path, stamp(path).mtimeMs, stamp(path).size, now, null);
        for (const path of plan.forget)
          db.prepare('DELETE FROM watcher_files WHERE watcher = ? AND path = ?').run(watcher.key, path);
        return fire.map((path) => {
          const file = join(watcher.path, path);
          const body: TriggerBody = {
            source: `watcher ${watcher.name}`,
            title: basename(path),
            text: renderWatcherMessage(watcher.message, file),
          };
          const deliveryId = lanes.enqueue(watcher.agent, 'watcher', body, null);
          upsert.run(watcher.key, path, stamp(path).mtimeMs, stamp(path).size, now, deliveryId);
          return { file, deliveryId };
        });
      })();
    } catch (err) {
      hold(fire);
      this.settling.set(watcher.key, held);
      throw err;
    }
    for (const { file, deliveryId } of fired) {
      events.record({
        agent: watcher.agent,
        kind: 'watcher_fired',
        subject: file,
        detail: { watcher: watcher.name, delivery_id: deliveryId },
        trace: deliveryId,
      });
    }
    if (fired.length > 0) onEnqueued(watcher.agent);
  }
}
