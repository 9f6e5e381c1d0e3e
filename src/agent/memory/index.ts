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
import { createHash } from 'node:crypto';
import type { Dirent, Stats } from 'node:fs';
import { lstat, readdir, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { LegionError } from '../../shared/errors.js';
import { chunkMarkdown, type ChunkOptions } from './chunker.js';
import { openAgentDb, type AgentDb, type Db, type OpenAgentDbOptions } from './db.js';
import { migrate } from '../../shared/sqlite.js';
import { MEMORY_MIGRATIONS } from './schema.js';
import { searchMemory, type SearchOptions, type SearchResponse, type VectorSource } from './search.js';
import { deleteVectors, VectorStore, type EmbedReport, type Embedder } from './vectors.js';

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

interface FileRow {
  path: string;
  sha256: string;
  mtime_ms: number;
  size: number;
  indexed_at_ms: number;
}

type FileChange = { kind: 'unchanged' } | { kind: 'written'; outcome: 'added' | 'updated'; chunks: number };

export class MemoryIndex {
  readonly workspaceDir: string;
  private readonly db: Db;
  private vectors: VectorSource;
  private readonly vectorSupport: AgentDb['vectors'];
  private queue: Promise<unknown> = Promise.resolve();

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

  /** Brings the index in line with the workspace: new and changed files are chunked, deleted ones dropped. */
  sync(): Promise<SyncReport> {
    return this.exclusive(async () => {
      const known = new Map(
        this.db
          .prepare<[], FileRow>('SELECT * FROM memory_files')
          .all()
          .map((row) => [row.path, row]),
      );
      const report: SyncReport = {
        added: [],
        updated: [],
        removed: [],
        unchanged: 0,
        skipped: [],
        chunksWritten: 0,
        vectors: { status: 'ok', embedded: 0 },
      };
      const seen = new Set<string>();
      for (const relative of await this.listMarkdown()) {
        const stats = await lstatOrNull(this.absolute(relative));
        if (!stats?.isFile()) continue; // gone (or replaced) since the listing: dropped below like any deleted file
        if (stats.size > MAX_INDEXED_FILE_BYTES) {
          report.skipped.push(relative);
          continue;
        }
        seen.add(relative);
        const change = await this.refreshFile(relative, stats, known.get(relative));
        if (change.kind === 'unchanged') report.unchanged += 1;
        else {
          report[change.outcome].push(relative);
          report.chunksWritten += change.chunks;
        }
      }
      for (const relative of known.keys()) {
        if (seen.has(relative)) continue;
        this.removeFile(relative);
        report.removed.push(relative);
      }
      report.vectors = await this.embedPending();
      return report;
    });
  }

  /** Re-indexes one file (workspace-relative or absolute inside the workspace), e.g. right after memory_save wrote it. */
  indexFile(file: string): Promise<IndexFileReport> {
    return this.exclusive(async () => {
      const relative = this.relativePath(file);
      const known = this.db.prepare<[string], FileRow>('SELECT * FROM memory_files WHERE path = ?').get(relative);
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
    const racy = known !== undefined && known.mtime_ms + RACY_WINDOW_MS >= known.indexed_at_ms;
    if (known && !racy && known.size === stats.size && known.mtime_ms === stats.mtimeMs) return { kind: 'unchanged' };
    const content = await readFile(this.absolute(relative));
    const sha256 = createHash('sha256').update(content).digest('hex');
    if (known?.sha256 === sha256) {
      this.db
        .prepare('UPDATE memory_files SET mtime_ms = ?, size = ?, indexed_at_ms = ? WHERE path = ?')
        .run(stats.mtimeMs, stats.size, now, relative);
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
    return { kind: 'written', outcome: known ? 'updated' : 'added', chunks: chunks.length };
  }

  private removeFile(relative: string): void {
    this.db.transaction(() => {
      this.deleteChunks(relative);
      this.db.prepare('DELETE FROM memory_files WHERE path = ?').run(relative);
    })();
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

  private async listMarkdown(): Promise<string[]> {
    const found: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        // A workspace not scaffolded yet is an empty one.
        if (isMissing(err)) return;
        throw err;
      }
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory() && isIndexableDir(entry.name)) await walk(full);
        else if (entry.isFile() && isIndexablePath(entry.name)) found.push(this.relativePath(full));
      }
    };
    await walk(this.workspaceDir);
    return found.sort();
  }

  private relativePath(file: string): string {
    const relative = path.relative(this.workspaceDir, path.resolve(this.workspaceDir, file));
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

/** What sync would index, by name: a .md file not under a dot-directory or node_modules. indexFile applies the same rule. */
function isIndexablePath(relative: string): boolean {
  const parts = relative.split('/');
  const name = parts.pop() ?? '';
  return parts.every(isIndexableDir) && !name.startsWith('.') && name.toLowerCase().endsWith('.md');
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
