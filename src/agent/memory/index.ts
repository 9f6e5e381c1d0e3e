// The memory index: every *.md under <dataDir>/workspace, chunked into agent.db.
// Invariants: index operations run one at a time (queued), so a memory_save during a
// sync cannot interleave with it; a file's chunks are replaced in one transaction, so a
// search sees the old chunks or the new ones, never a mix; a file is re-chunked only
// when its sha256 changed (size and mtime only decide whether to hash it, and a file
// modified within RACY_WINDOW_MS of being indexed is always hashed, as git does);
// symlinks, dot-entries and node_modules are not followed, so the index stays inside
// the workspace and out of cloned repositories; paths are workspace-relative, with /;
// the embedder can be switched at run time (setEmbedder), also queued, so a running sync
// finishes with the embedder it started with.
//
// No change is lost, even one made while the agent was stopped, yet a start does not
// walk the tree. agent.db keeps the index's view of the workspace (workspace-view.ts):
// every indexed file's size, mtime and hash, and every directory's mtime, taken BEFORE
// the directory was read. Adding, removing or renaming an entry changes its directory's
// mtime, so sync() reads only the directories whose mtime moved (or that were checked
// within RACY_WINDOW_MS of a change, since mtimes are coarse), plus the new directories
// found there; editing a file in place leaves its directory alone, so sync() also stats
// every indexed file (no read, no hash unless size or mtime moved). While the agent
// runs, file events (watcher.ts) and the tools' own writes call applyChanges, which
// never advances a directory's stored mtime without reading it, so a change whose event
// was lost in a crash is still found by the next sync. A view without directories (a
// first start, or an index from before they were kept) is filled by one full walk.
// The agent's start splits sync() in two so that neither blocks it nor walks the tree:
// syncDirectories() (O(directories): adds, removes, renames) and then, in the
// background, verifyFiles() (the stats, in slices, between which saves and file events
// run); a start cut short before verifyFiles ends runs it again, so an edit made while
// the agent was stopped is found, just not before the agent answers.
import { createHash } from 'node:crypto';
import { lstatSync, type Dirent, type Stats } from 'node:fs';
import { lstat, readdir, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { LegionError } from '../../shared/errors.js';
import { chunkMarkdown, type ChunkOptions } from './chunker.js';
import { openAgentDb, type AgentDb, type Db, type OpenAgentDbOptions } from './db.js';
import { migrate } from '../../shared/sqlite.js';
import { MEMORY_MIGRATIONS } from './schema.js';
import { searchMemory, type SearchOptions, type SearchResponse, type VectorSource } from './search.js';
import { deleteVectors, VectorStore, type EmbedReport, type Embedder } from './vectors.js';
import { childPath, WorkspaceView, type DirRow, type FileRow } from './workspace-view.js';

export interface MemoryIndexOptions {
  embedder?: Embedder;
  chunking?: ChunkOptions;
}

export interface SyncReport {
  added: string[];
  updated: string[];
  removed: string[];
  unchanged: number;
  /** Files left out for their size (larger than MAX_INDEXED_FILE_BYTES). */
  skipped: string[];
  chunksWritten: number;
  vectors: EmbedReport;
}

export type FileOutcome = 'added' | 'updated' | 'unchanged' | 'removed' | 'absent' | 'skipped';

export interface IndexFileReport {
  path: string;
  outcome: FileOutcome;
  chunksWritten: number;
  vectors: EmbedReport;
}

// A markdown file this large is data, not notes; indexing it would crowd out the rest.
export const MAX_INDEXED_FILE_BYTES = 5 * 1024 * 1024;
const RACY_WINDOW_MS = 2_000;

/** Told which directories the index reads, so a watcher can follow exactly those. */
export interface DirectoryObserver {
  /** Called before the directory is read, so a change made after the read still raises an event. */
  watch(relative: string): void;
  /** Called when the directory left the view (deleted, or no longer a directory). */
  unwatch(relative: string): void;
}

/** One reconciliation run: what it found, and the indexed files it has checked already. */
interface Pass {
  report: SyncReport;
  checked: Set<string>;
}

// Indexed files stat'ed in one queued step of verifyFiles.
const STAT_BATCH = 1_000;

type FileChange = { kind: 'unchanged' } | { kind: 'written'; outcome: 'added' | 'updated'; chunks: number };

export class MemoryIndex {
  readonly workspaceDir: string;
  private readonly db: Db;
  private vectors: VectorSource;
  private readonly vectorSupport: AgentDb['vectors'];
  private queue: Promise<unknown> = Promise.resolve();
  private view: WorkspaceView | undefined;
  private observer: DirectoryObserver | null = null;

  constructor(
    agentDb: AgentDb,
    workspaceDir: string,
    private readonly options: MemoryIndexOptions = {},
    private readonly ownsDb = false,
  ) {
    this.db = agentDb.db;
    this.workspaceDir = path.resolve(workspaceDir);
    this.vectorSupport = agentDb.vectors;
    migrate(this.db, MEMORY_MIGRATIONS);
    this.vectors = this.vectorSource(options.embedder ?? null);
  }

  /** Opens <dataDir>/agent.db for this index alone; close() closes it. */
  static open(
    dataDir: string,
    options: MemoryIndexOptions & Pick<OpenAgentDbOptions, 'loadVectors'> = {},
  ): MemoryIndex {
    const { loadVectors, ...indexOptions } = options;
    const agentDb = openAgentDb(dataDir, {
      migrations: MEMORY_MIGRATIONS,
      ...(loadVectors === undefined ? {} : { loadVectors }),
    });
    return new MemoryIndex(agentDb, path.join(dataDir, 'workspace'), indexOptions, true);
  }

  /** Uses `embedder` (null: none) from the next index operation on. Chunks of another
   *  model than the stored vectors' become pending; the next sync or indexFile embeds them. */
  setEmbedder(embedder: Embedder | null): Promise<void> {
    return this.exclusive(async () => {
      this.vectors = this.vectorSource(embedder);
    });
  }

  /** 'hybrid' when vectors are in use; otherwise 'bm25' and why. */
  get mode(): { mode: 'hybrid' } | { mode: 'bm25'; reason: string } {
    return 'store' in this.vectors ? { mode: 'hybrid' } : { mode: 'bm25', reason: this.vectors.off };
  }

  /** Brings the index in line with the workspace: new and changed files are chunked, deleted ones dropped.
   *  Reads only the directories whose entries changed since the view was stored, and stats every indexed file. */
  sync(): Promise<SyncReport> {
    return this.exclusive(async () => {
      const pass = newPass();
      await this.directoryPass(pass);
      await this.checkStats(pass, [...this.loadView().files.keys()]);
      return this.finish(pass);
    });
  }

  /** The start's part of sync(): files added, removed or replaced in directories whose mtime moved
   *  (O(directories), reading only the changed ones). Edits in place are verifyFiles' part. */
  syncDirectories(): Promise<SyncReport> {
    return this.exclusive(async () => {
      const pass = newPass();
      await this.directoryPass(pass);
      return this.finish(pass);
    });
  }

  /** The rest of sync(), for the background: stats every indexed file, in slices queued one by
   *  one so saves and file events are applied between them; re-indexes those edited in place. */
  async verifyFiles(): Promise<SyncReport> {
    const pass = newPass();
    const paths = [...this.loadView().files.keys()];
    for (let at = 0; at < paths.length; at += STAT_BATCH) {
      const slice = paths.slice(at, at + STAT_BATCH);
      await this.exclusive(() => this.checkStats(pass, slice));
    }
    return this.exclusive(() => this.finish(pass));
  }

  /** Brings the given paths (workspace-relative or absolute, files or directories; e.g. from file
   *  events) in line with the disk; a directory is re-read, with any new directory under it. */
  applyChanges(paths: Iterable<string>): Promise<SyncReport> {
    return this.exclusive(async () => {
      const pass = newPass();
      const view = this.loadView();
      for (const relative of new Set([...paths].map((file) => this.relativePath(file, true)))) {
        if (relative !== '' && !isIndexableDirPath(relative)) continue;
        const stats = await lstatOrNull(this.absolute(relative));
        if (stats?.isDirectory()) await this.scanDir(relative, pass);
        else if (view.dirs.has(relative)) this.dropDir(relative, pass);
        else if (view.files.has(relative) || isIndexablePath(relative)) await this.checkFile(relative, pass, stats);
      }
      return this.finish(pass);
    });
  }

  /** The directories of the stored view, for a watcher to follow without walking the tree. */
  directories(): string[] {
    return [...this.loadView().dirs.keys()];
  }

  /** From now on, `observer` is told before a directory is read and when one leaves the view. */
  observe(observer: DirectoryObserver | null): void {
    this.observer = observer;
  }

  /** Re-indexes one file (workspace-relative or absolute inside the workspace), e.g. right after memory_save wrote it. */
  indexFile(file: string): Promise<IndexFileReport> {
    return this.exclusive(async () => {
      const relative = this.relativePath(file);
      const known = this.loadView().files.get(relative);
      const report = (outcome: FileOutcome, chunksWritten = 0): IndexFileReport => ({
        path: relative,
        outcome,
        chunksWritten,
        vectors: { status: 'ok', embedded: 0 },
      });
      const stats = await lstatOrNull(this.absolute(relative));
      const indexable =
        stats?.isFile() === true &&
        stats.size <= MAX_INDEXED_FILE_BYTES &&
        isIndexablePath(relative) &&
        (await this.reachedDirectly(relative));
      if (!indexable) {
        if (known) this.removeFile(relative);
        return report(known ? 'removed' : stats ? 'skipped' : 'absent');
      }
      const change = await this.refreshFile(relative, stats, known);
      const result = change.kind === 'unchanged' ? report('unchanged') : report(change.outcome, change.chunks);
      // Also picks up chunks left pending by an earlier embedding failure.
      result.vectors = await this.embedPending();
      return result;
    });
  }

  search(query: string, options: SearchOptions = {}): Promise<SearchResponse> {
    return searchMemory(this.db, this.vectors, query, options);
  }

  /** Closes the database when this index opened it (MemoryIndex.open); a shared one stays open. */
  close(): void {
    if (this.ownsDb) this.db.close();
  }

  private async refreshFile(relative: string, stats: Stats, known: FileRow | undefined): Promise<FileChange> {
    const now = Date.now();
    if (known && unchangedOnDisk(known, stats)) return { kind: 'unchanged' };
    const content = await readFile(this.absolute(relative));
    const sha256 = createHash('sha256').update(content).digest('hex');
    const row: FileRow = { path: relative, sha256, mtime_ms: stats.mtimeMs, size: stats.size, indexed_at_ms: now };
    if (known?.sha256 === sha256) {
      this.db
        .prepare('UPDATE memory_files SET mtime_ms = ?, size = ?, indexed_at_ms = ? WHERE path = ?')
        .run(stats.mtimeMs, stats.size, now, relative);
      this.loadView().setFile(row);
      return { kind: 'unchanged' };
    }
    const chunks = chunkMarkdown(relative, content.toString('utf8'), this.options.chunking);
    const insert = this.db.prepare(
      'INSERT INTO memory_chunks (path, start_line, end_line, heading, text) VALUES (?, ?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      this.deleteChunks(relative);
      this.db
        .prepare(
          'INSERT OR REPLACE INTO memory_files (path, sha256, mtime_ms, size, indexed_at_ms) VALUES (?, ?, ?, ?, ?)',
        )
        .run(relative, sha256, stats.mtimeMs, stats.size, now);
      for (const chunk of chunks) insert.run(relative, chunk.startLine, chunk.endLine, chunk.heading, chunk.text);
    })();
    this.loadView().setFile(row);
    return { kind: 'written', outcome: known ? 'updated' : 'added', chunks: chunks.length };
  }

  private removeFile(relative: string): void {
    this.db.transaction(() => {
      this.deleteChunks(relative);
      this.db.prepare('DELETE FROM memory_files WHERE path = ?').run(relative);
    })();
    this.loadView().deleteFile(relative);
  }

  /** Compares each directory of the view with its mtime on disk and reads those that moved. */
  private async directoryPass(pass: Pass): Promise<void> {
    const view = this.loadView();
    if (view.dirs.size === 0) {
      await this.scanDir('', pass);
      return;
    }
    for (const row of [...view.dirs.values()].sort((a, b) => a.path.localeCompare(b.path))) {
      if (!view.dirs.has(row.path)) continue; // dropped with a parent earlier in this pass
      const stats = lstatSyncOrNull(this.absolute(row.path));
      if (!stats?.isDirectory()) this.dropDir(row.path, pass);
      else if (stats.mtimeMs !== row.mtime_ms || row.mtime_ms + RACY_WINDOW_MS >= row.checked_at_ms)
        await this.scanDir(row.path, pass);
      else this.observer?.watch(row.path);
    }
  }

  /** Stats the given indexed files not checked yet in this pass: synchronously, since a promise
   *  per file would cost more than the stat; only a file whose size or mtime moved is read. */
  private async checkStats(pass: Pass, paths: readonly string[]): Promise<void> {
    const view = this.loadView();
    for (const relative of paths) {
      const known = view.files.get(relative);
      if (!known || pass.checked.has(relative)) continue;
      const stats = lstatSyncOrNull(this.absolute(relative));
      if (stats && unchangedOnDisk(known, stats)) {
        pass.checked.add(relative);
        pass.report.unchanged += 1;
      } else await this.checkFile(relative, pass, stats);
    }
  }

  /** Checks one file against the view (stats: its lstat, null when it is gone) and re-indexes or drops it. */
  private async checkFile(relative: string, pass: Pass, stats: Stats | null): Promise<void> {
    pass.checked.add(relative);
    const known = this.loadView().files.get(relative);
    const fits = stats?.isFile() === true && stats.size <= MAX_INDEXED_FILE_BYTES;
    if (stats?.isFile() && !fits) pass.report.skipped.push(relative);
    if (!stats || !fits) {
      if (known) {
        this.removeFile(relative);
        pass.report.removed.push(relative);
      }
      return;
    }
    const change = await this.refreshFile(relative, stats, known);
    if (change.kind === 'unchanged') pass.report.unchanged += 1;
    else {
      pass.report[change.outcome].push(relative);
      pass.report.chunksWritten += change.chunks;
    }
  }

  /** Reads one directory and reconciles its entries with the view; directories new to the view are read in turn. */
  private async scanDir(relative: string, pass: Pass): Promise<void> {
    const view = this.loadView();
    this.observer?.watch(relative);
    // A file that became a directory: its chunks go.
    if (view.files.has(relative)) await this.checkFile(relative, pass, null);
    // The mtime is taken before reading: a change after it moves the mtime again, so it is never stored as seen.
    const stats = await lstatOrNull(this.absolute(relative));
    let entries: Dirent[] | null = null;
    try {
      if (stats?.isDirectory()) entries = await readdir(this.absolute(relative), { withFileTypes: true });
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    if (!stats || !entries) {
      // Gone, or not a directory (a workspace not scaffolded yet is an empty one).
      this.dropDir(relative, pass);
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const present = new Set<string>();
    for (const entry of entries) {
      const child = childPath(relative, entry.name);
      if (entry.isDirectory() && isIndexableDir(entry.name)) {
        present.add(child);
        if (!view.dirs.has(child)) await this.scanDir(child, pass);
      } else if (entry.isFile() && isIndexablePath(entry.name)) {
        present.add(child);
        if (view.dirs.has(child)) this.dropDir(child, pass);
        await this.checkFile(child, pass, await lstatOrNull(this.absolute(child)));
      }
    }
    for (const child of view.childrenOf(relative)) {
      if (present.has(child)) continue;
      if (view.dirs.has(child)) this.dropDir(child, pass);
      else if (view.files.has(child)) await this.checkFile(child, pass, null);
    }
    const row: DirRow = { path: relative, mtime_ms: stats.mtimeMs, checked_at_ms: Date.now() };
    this.db
      .prepare('INSERT OR REPLACE INTO memory_dirs (path, mtime_ms, checked_at_ms) VALUES (?, ?, ?)')
      .run(row.path, row.mtime_ms, row.checked_at_ms);
    view.setDir(row);
  }

  /** Drops a directory and everything under it from the view and the index. */
  private dropDir(relative: string, pass: Pass): void {
    const view = this.loadView();
    const { files, dirs } = view.subtree(relative);
    for (const file of files) {
      pass.checked.add(file);
      this.removeFile(file);
      pass.report.removed.push(file);
    }
    const remove = this.db.prepare('DELETE FROM memory_dirs WHERE path = ?');
    for (const dir of dirs) {
      remove.run(dir);
      view.deleteDir(dir);
      this.observer?.unwatch(dir);
    }
  }

  private async finish(pass: Pass): Promise<SyncReport> {
    const { report } = pass;
    for (const list of [report.added, report.updated, report.removed, report.skipped]) list.sort();
    report.vectors = await this.embedPending();
    return report;
  }

  /** The view, read from agent.db once; every later table write updates it in step. */
  private loadView(): WorkspaceView {
    this.view ??= new WorkspaceView(
      this.db.prepare<[], FileRow>('SELECT * FROM memory_files').all(),
      this.db.prepare<[], DirRow>('SELECT * FROM memory_dirs').all(),
    );
    return this.view;
  }

  private deleteChunks(relative: string): void {
    if (this.vectorSupport.available) {
      const ids = this.db
        .prepare<[string], { id: number }>('SELECT id FROM memory_chunks WHERE path = ?')
        .all(relative);
      deleteVectors(
        this.db,
        ids.map((row) => row.id),
      );
    }
    this.db.prepare('DELETE FROM memory_chunks WHERE path = ?').run(relative);
  }

  private vectorSource(embedder: Embedder | null): VectorSource {
    if (!embedder) return { off: 'no embedding model is configured' };
    if (!this.vectorSupport.available) return { off: this.vectorSupport.reason };
    return { store: new VectorStore(this.db, embedder) };
  }

  private embedPending(): Promise<EmbedReport> {
    if ('off' in this.vectors) return Promise.resolve({ status: 'off', reason: this.vectors.off });
    return this.vectors.store.embedPending();
  }

  /** The workspace-relative path of `file`; '' (the workspace itself) only when `allowRoot`. */
  private relativePath(file: string, allowRoot = false): string {
    const relative = path.relative(this.workspaceDir, path.resolve(this.workspaceDir, file));
    if (relative === '' && allowRoot) return '';
    if (relative === '' || relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
      throw new LegionError('invalid_path', `"${file}" is not a file inside the workspace ${this.workspaceDir}`);
    }
    return relative.split(path.sep).join('/');
  }

  /** False when a directory on the way is a symlink: sync would not follow it, so neither does indexFile. */
  private async reachedDirectly(relative: string): Promise<boolean> {
    return (
      (await realpath(this.absolute(relative))) === path.join(await realpath(this.workspaceDir), ...relative.split('/'))
    );
  }

  private absolute(relative: string): string {
    return path.join(this.workspaceDir, ...relative.split('/'));
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function isIndexableDir(name: string): boolean {
  return !name.startsWith('.') && name !== 'node_modules';
}

/** Whether sync would enter this directory (or reach this path's parent): no dot-directory or node_modules on the way. */
function isIndexableDirPath(relative: string): boolean {
  return relative.split('/').every(isIndexableDir);
}

/** What sync would index, by name: a .md file not under a dot-directory or node_modules. indexFile applies the same rule. */
function isIndexablePath(relative: string): boolean {
  const parts = relative.split('/');
  const name = parts.pop() ?? '';
  return parts.every(isIndexableDir) && !name.startsWith('.') && name.toLowerCase().endsWith('.md');
}

/** Same size and mtime as indexed, and not modified so close to its indexing that an edit could hide in the same mtime. */
function unchangedOnDisk(known: FileRow, stats: Stats): boolean {
  const racy = known.mtime_ms + RACY_WINDOW_MS >= known.indexed_at_ms;
  return !racy && known.size === stats.size && known.mtime_ms === stats.mtimeMs;
}

function lstatSyncOrNull(target: string): Stats | null {
  try {
    return lstatSync(target, { throwIfNoEntry: false }) ?? null;
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

async function lstatOrNull(target: string): Promise<Stats | null> {
  try {
    return await lstat(target);
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

function isMissing(err: unknown): boolean {
  const code = err instanceof Error && 'code' in err ? err.code : undefined;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function newPass(): Pass {
  return {
    report: {
      added: [],
      updated: [],
      removed: [],
      unchanged: 0,
      skipped: [],
      chunksWritten: 0,
      vectors: { status: 'ok', embedded: 0 },
    },
    checked: new Set(),
  };
}
