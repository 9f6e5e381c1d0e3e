// The memory index over real files in a temp data dir: incremental sync by hash,
// indexFile after a save, BM25-only mode, recency decay and snippet markers.
import Database from 'better-sqlite3';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryIndex } from '../../src/agent/memory/index.js';
import { CUT_MARKER } from '../../src/agent/memory/search.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

function dataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'legion-memory-'));
  mkdirSync(path.join(dir, 'workspace', 'memory'), { recursive: true });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function write(dir: string, name: string, content: string): void {
  const file = path.join(dir, 'workspace', name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

function open(dir: string): MemoryIndex {
  const index = MemoryIndex.open(dir);
  cleanups.unshift(() => index.close());
  return index;
}

/** Chunk ids per file, read straight from agent.db: a re-chunked file gets new ids. */
function chunkIds(dir: string): Record<string, number[]> {
  const db = new Database(path.join(dir, 'agent.db'), { readonly: true });
  const rows = db.prepare<[], { path: string; id: number }>('SELECT path, id FROM memory_chunks ORDER BY id').all();
  db.close();
  const byPath: Record<string, number[]> = {};
  for (const row of rows) (byPath[row.path] ??= []).push(row.id);
  return byPath;
}

describe('MemoryIndex sync', () => {
  it('re-chunks only the file whose content changed and drops a deleted file', async () => {
    const dir = dataDir();
    write(dir, 'MEMORY.md', '# Facts\nMy cat is Whiskerino.\n');
    write(dir, 'memory/2025-03-01.md', '# 2025-03-01\n## 10:00\nTalked about the garden.\n');
    write(dir, 'learnings/errors.md', '# Errors\nexec failed once: permission denied.\n');
    const index = open(dir);

    const first = await index.sync();
    expect(first).toMatchObject({
      added: ['MEMORY.md', 'learnings/errors.md', 'memory/2025-03-01.md'],
      updated: [],
      removed: [],
      unchanged: 0,
    });
    expect(first.vectors).toEqual({ status: 'off', reason: 'no embedding model is configured' });
    const before = chunkIds(dir);
    expect(await index.sync()).toMatchObject({ added: [], updated: [], removed: [], unchanged: 3, chunksWritten: 0 });
    expect(chunkIds(dir)).toEqual(before);

    write(dir, 'memory/2025-03-01.md', '# 2025-03-01\n## 10:00\nTalked about the greenhouse.\n');
    const second = await index.sync();
    expect(second).toMatchObject({
      added: [],
      updated: ['memory/2025-03-01.md'],
      removed: [],
      unchanged: 2,
      chunksWritten: 1,
    });
    const after = chunkIds(dir);
    expect(after['MEMORY.md']).toEqual(before['MEMORY.md']);
    expect(after['learnings/errors.md']).toEqual(before['learnings/errors.md']);
    expect(after['memory/2025-03-01.md']).not.toEqual(before['memory/2025-03-01.md']);
    expect((await index.search('garden')).results).toEqual([]);
    expect((await index.search('greenhouse')).results.map((r) => r.path)).toEqual(['memory/2025-03-01.md']);

    unlinkSync(path.join(dir, 'workspace', 'learnings/errors.md'));
    expect(await index.sync()).toMatchObject({ removed: ['learnings/errors.md'], unchanged: 2 });
    expect(chunkIds(dir)['learnings/errors.md']).toBeUndefined();
    expect((await index.search('permission denied')).results).toEqual([]);
  });

  it('does not re-chunk a file that was touched but not changed', async () => {
    const dir = dataDir();
    write(dir, 'MEMORY.md', '# Facts\nMy cat is Whiskerino.\n');
    const index = open(dir);
    await index.sync();
    const before = chunkIds(dir);
    const later = new Date(Date.now() + 60_000);
    utimesSync(path.join(dir, 'workspace', 'MEMORY.md'), later, later);
    expect(await index.sync()).toMatchObject({ updated: [], unchanged: 1 });
    expect(chunkIds(dir)).toEqual(before);
  });

  it('sees an edit that kept size and mtime when the file was indexed right after an earlier write', async () => {
    const dir = dataDir();
    write(dir, 'MEMORY.md', '# Facts\nThe code is 1234.\n');
    const file = path.join(dir, 'workspace', 'MEMORY.md');
    // A whole-second mtime, so restoring it below gives back exactly the indexed value.
    const stamp = new Date(Math.floor(Date.now() / 1000) * 1000);
    utimesSync(file, stamp, stamp);
    const index = open(dir);
    await index.sync();
    writeFileSync(file, '# Facts\nThe code is 9876.\n');
    utimesSync(file, stamp, stamp);
    expect(statSync(file).mtimeMs).toBe(stamp.getTime());
    expect(await index.sync()).toMatchObject({ updated: ['MEMORY.md'] });
    expect((await index.search('9876')).results).toHaveLength(1);
  });

  it('skips dot-directories, node_modules, symlinks (to files or directories) and non-markdown files, in sync and indexFile alike', async () => {
    const dir = dataDir();
    write(dir, 'notes.md', '# Notes\nvisible\n');
    write(dir, '.git/info.md', 'hidden\n');
    write(dir, 'repo/node_modules/pkg/README.md', 'vendored\n');
    write(dir, 'data.txt', 'not markdown\n');
    symlinkSync(path.join(dir, 'workspace', 'notes.md'), path.join(dir, 'workspace', 'link.md'));
    mkdirSync(path.join(dir, 'elsewhere'));
    writeFileSync(path.join(dir, 'elsewhere', 'secret.md'), 'outside the workspace\n');
    symlinkSync(path.join(dir, 'elsewhere'), path.join(dir, 'workspace', 'linked-dir'));
    const index = open(dir);
    expect((await index.sync()).added).toEqual(['notes.md']);
    await expect(index.indexFile('link.md')).resolves.toMatchObject({ outcome: 'skipped' });
    await expect(index.indexFile('linked-dir/secret.md')).resolves.toMatchObject({ outcome: 'skipped' });
    await expect(index.indexFile('.git/info.md')).resolves.toMatchObject({ outcome: 'skipped' });
    await expect(index.indexFile('repo/node_modules/pkg/README.md')).resolves.toMatchObject({ outcome: 'skipped' });
    await expect(index.indexFile('data.txt')).resolves.toMatchObject({ outcome: 'skipped' });
    expect(await index.sync()).toMatchObject({ added: [], removed: [], unchanged: 1 });
  });

  it('indexes one file after a save, and reports removed, absent and outside paths', async () => {
    const dir = dataDir();
    write(dir, 'MEMORY.md', '# Facts\nnothing yet\n');
    const index = open(dir);
    await index.sync();
    const log = 'memory/2025-03-02.md';
    write(dir, log, '# 2025-03-02\n');
    appendFileSync(path.join(dir, 'workspace', log), "\n## 09:15\nMy cat's name is Whiskerino.\n");
    await expect(index.indexFile(log)).resolves.toMatchObject({ path: log, outcome: 'added', chunksWritten: 1 });
    expect((await index.search('cat name')).results[0]).toMatchObject({
      path: log,
      start_line: 3,
      end_line: 4,
      heading: '# 2025-03-02 > ## 09:15',
    });
    await expect(index.indexFile(path.join(dir, 'workspace', log))).resolves.toMatchObject({ outcome: 'unchanged' });

    unlinkSync(path.join(dir, 'workspace', log));
    await expect(index.indexFile(log)).resolves.toMatchObject({ outcome: 'removed' });
    await expect(index.indexFile(log)).resolves.toMatchObject({ outcome: 'absent' });
    await expect(index.indexFile('../agent.db')).rejects.toMatchObject({ code: 'invalid_path' });
    await expect(index.indexFile('/etc/passwd')).rejects.toMatchObject({ code: 'invalid_path' });
  });

  it('keeps the index across reopening the database (a container restart)', async () => {
    const dir = dataDir();
    write(dir, 'MEMORY.md', '# Facts\nMy cat is Whiskerino.\n');
    const first = MemoryIndex.open(dir);
    await first.sync();
    first.close();
    const second = open(dir);
    expect((await second.search('whiskerino')).results).toHaveLength(1);
    expect(await second.sync()).toMatchObject({ added: [], unchanged: 1 });
  });
});

describe('MemoryIndex search', () => {
  it('says it is BM25 only, and why, without an embedder or without sqlite-vec', async () => {
    const dir = dataDir();
    write(dir, 'MEMORY.md', '# Facts\nMy cat is Whiskerino.\n');
    const plain = open(dir);
    await plain.sync();
    expect(plain.mode).toEqual({ mode: 'bm25', reason: 'no embedding model is configured' });
    expect(await plain.search('whiskerino')).toMatchObject({
      mode: 'bm25',
      reason: 'no embedding model is configured',
      results: [{ path: 'MEMORY.md' }],
    });
    plain.close();

    const embedder = { model: 'never-called', embed: () => Promise.reject(new Error('must not be called')) };
    const noVec = MemoryIndex.open(dir, { embedder, loadVectors: false });
    cleanups.unshift(() => noVec.close());
    expect(await noVec.sync()).toMatchObject({ vectors: { status: 'off', reason: 'sqlite-vec disabled' } });
    expect(await noVec.search('whiskerino')).toMatchObject({
      mode: 'bm25',
      reason: 'sqlite-vec disabled',
      results: [{ path: 'MEMORY.md' }],
    });
  });

  it('prefers the newer daily log on a tie when recency decay is on, and only then', async () => {
    const dir = dataDir();
    const entry = '## 10:00\nWatered the tomatoes.\n';
    write(dir, 'memory/2025-01-05.md', `# 2025-01-05\n${entry}`);
    write(dir, 'memory/2025-03-05.md', `# 2025-03-05\n${entry}`);
    const index = open(dir);
    await index.sync();
    const now = new Date('2025-03-06T12:00:00Z');
    const flat = await index.search('tomatoes', { now });
    expect(flat.results.map((r) => r.path)).toEqual(['memory/2025-01-05.md', 'memory/2025-03-05.md']);
    expect(flat.results[0]!.score).toBe(flat.results[1]!.score);
    const decayed = await index.search('tomatoes', { now, recencyHalfLifeDays: 30 });
    expect(decayed.results.map((r) => r.path)).toEqual(['memory/2025-03-05.md', 'memory/2025-01-05.md']);
    expect(decayed.results[1]!.score).toBeLessThan(decayed.results[0]!.score / 2);
  });

  it('returns short snippets marked where they were cut, and honours the limit', async () => {
    const dir = dataDir();
    const words = Array.from({ length: 150 }, (_, i) => (i === 90 ? 'Whiskerino' : `word${i}`));
    write(dir, 'long.md', `# Long\n${words.join(' ')}\n`);
    write(dir, 'short.md', '# Short\nWhiskerino naps.\n');
    for (let i = 0; i < 8; i++) write(dir, `extra${i}.md`, `# Extra ${i}\nWhiskerino again, ${i}.\n`);
    const index = open(dir);
    await index.sync();
    const { results } = await index.search('whiskerino', { limit: 20, snippetChars: 100 });
    const long = results.find((r) => r.path === 'long.md')!;
    expect(long.snippet.startsWith(CUT_MARKER) && long.snippet.endsWith(CUT_MARKER)).toBe(true);
    expect(long.snippet).toContain('Whiskerino');
    expect(long.snippet.length).toBeLessThanOrEqual(100);
    expect(results.find((r) => r.path === 'short.md')!.snippet).toBe('# Short Whiskerino naps.');
    expect((await index.search('whiskerino')).results).toHaveLength(5);
    expect((await index.search('whiskerino', { limit: 3 })).results).toHaveLength(3);
  });
});
