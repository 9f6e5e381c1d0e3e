// The memory index's stored view of the workspace, over real files in a temp dir: a
// restart finds what changed while the agent was stopped (added, edited in place with
// its directory untouched, deleted, whole directories added and removed), and while it
// runs the watcher brings in files written by another process (as exec does) without a
// sync, follows new directories, and never reacts to the index's own database.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openAgentDb } from '../../src/agent/memory/db.js';
import { MemoryIndex } from '../../src/agent/memory/index.js';
import { isRelevantEvent, WorkspaceWatcher } from '../../src/agent/memory/watcher.js';
import { createLogger } from '../../src/shared/logging.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));
const logger = createLogger({}, { write: () => undefined });

function dataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'legion-reconcile-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function write(dir: string, name: string, content: string): string {
  const file = path.join(dir, 'workspace', name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

function open(dir: string): MemoryIndex {
  const index = MemoryIndex.open(dir);
  cleanups.unshift(() => index.close());
  return index;
}

function watched(index: MemoryIndex): WorkspaceWatcher {
  const watcher = new WorkspaceWatcher(index, logger);
  watcher.start();
  cleanups.unshift(() => watcher.close());
  return watcher;
}

const paths = async (index: MemoryIndex, query: string) =>
  (await index.search(query, { limit: 10 })).results.map((r) => r.path);

describe('MemoryIndex: changes made while the agent was stopped', () => {
  it('finds files added, edited in place and deleted, and directories added and removed', async () => {
    const dir = dataDir();
    write(dir, 'MEMORY.md', '# Facts\nThe boat is blue.\n');
    write(dir, 'notes/garden.md', '# Garden\nPlant tulips in autumn.\n');
    write(dir, 'notes/deep/old.md', '# Old\nThe attic key is under the mat.\n');
    write(dir, 'trash/gone.md', '# Gone\nobsolete pelican note\n');
    const first = open(dir);
    expect((await first.sync()).added).toHaveLength(4);
    first.close();

    // While stopped: an edit in place keeps the directory's mtime (restored here to be sure).
    const notes = path.join(dir, 'workspace', 'notes');
    const { atime, mtime } = statSync(notes);
    appendFileSync(path.join(notes, 'garden.md'), 'Also daffodils.\n');
    utimesSync(notes, atime, mtime);
    write(dir, 'notes/deep/new.md', '# New\nThe kayak paddle is in the shed.\n');
    write(dir, 'projects/alpha/plan.md', '# Plan\nLaunch the zeppelin on Friday.\n');
    rmSync(path.join(dir, 'workspace', 'trash'), { recursive: true });
    rmSync(path.join(dir, 'workspace', 'notes', 'deep', 'old.md'));

    const second = open(dir);
    expect(await second.sync()).toMatchObject({
      added: ['notes/deep/new.md', 'projects/alpha/plan.md'],
      updated: ['notes/garden.md'],
      removed: ['notes/deep/old.md', 'trash/gone.md'],
      unchanged: 1,
    });
    expect(await paths(second, 'daffodils')).toEqual(['notes/garden.md']);
    expect(await paths(second, 'zeppelin')).toEqual(['projects/alpha/plan.md']);
    expect(await paths(second, 'pelican')).toEqual([]);
    expect(second.directories().sort()).toEqual(['', 'notes', 'notes/deep', 'projects', 'projects/alpha']);
    // Nothing changed since: a third start re-indexes nothing.
    expect(await second.sync()).toMatchObject({ added: [], updated: [], removed: [], unchanged: 4 });
  });

  it("finds them at the agent's start too: directories first, then edits in place in the background", async () => {
    const dir = dataDir();
    write(dir, 'notes/a.md', '# A\nfirst version\n');
    write(dir, 'notes/b.md', '# B\nstays\n');
    // Changed an hour ago, so no check of it falls in the window where an mtime cannot be trusted.
    const notes = path.join(dir, 'workspace', 'notes');
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(notes, hourAgo, hourAgo);
    const first = open(dir);
    await first.sync();
    first.close();
    const { atime, mtime } = statSync(notes);
    appendFileSync(path.join(notes, 'a.md'), 'an ibis was here\n');
    utimesSync(notes, atime, mtime);
    write(dir, 'other/c.md', '# C\na toucan\n');

    const second = open(dir);
    expect(await second.syncDirectories()).toMatchObject({ added: ['other/c.md'], updated: [] });
    expect(await second.verifyFiles()).toMatchObject({ updated: ['notes/a.md'], unchanged: 2 });
    expect(await paths(second, 'ibis')).toEqual(['notes/a.md']);
  });

  it('drops everything when the workspace itself is gone, and picks it up again when it is back', async () => {
    const dir = dataDir();
    write(dir, 'a/b.md', '# B\nquokka\n');
    const index = open(dir);
    await index.sync();
    rmSync(path.join(dir, 'workspace'), { recursive: true });
    expect(await index.sync()).toMatchObject({ removed: ['a/b.md'] });
    write(dir, 'a/b.md', '# B\nquokka again\n');
    expect(await index.sync()).toMatchObject({ added: ['a/b.md'] });
  });
});

describe('WorkspaceWatcher', () => {
  it('makes a file written by another process searchable without a sync, in a new directory too', async () => {
    const dir = dataDir();
    write(dir, 'MEMORY.md', '# Facts\nnothing yet\n');
    const index = open(dir);
    await index.sync();
    watched(index);
    const workspace = path.join(dir, 'workspace');
    // As the exec tool does: a shell in the workspace writes the files.
    execFileSync(
      'sh',
      ['-c', 'echo "# Log\nthe flamingo migrated" > log.md && mkdir -p a/b && echo "# Deep\nwombat" > a/b/c.md'],
      {
        cwd: workspace,
      },
    );
    await waitFor(async () => ((await paths(index, 'flamingo')).length > 0 ? true : null), 'log.md indexed', 5_000);
    await waitFor(async () => ((await paths(index, 'wombat')).length > 0 ? true : null), 'a/b/c.md indexed', 5_000);
    // The new directory is watched now: a later file in it is found as well.
    execFileSync('sh', ['-c', 'echo "# More\nplatypus" > a/b/d.md && rm log.md'], { cwd: workspace });
    await waitFor(async () => ((await paths(index, 'platypus')).length > 0 ? true : null), 'a/b/d.md indexed', 5_000);
    await waitFor(async () => ((await paths(index, 'flamingo')).length === 0 ? true : null), 'log.md dropped', 5_000);
  });

  it('applies what it has received when asked to settle, so a search right after a write sees it', async () => {
    const dir = dataDir();
    write(dir, 'MEMORY.md', '# Facts\n');
    const index = open(dir);
    await index.sync();
    const watcher = watched(index);
    const file = path.join(dir, 'workspace', 'MEMORY.md');
    appendFileSync(file, 'The narwhal is called Nils.\n');
    await waitFor(async () => {
      await watcher.settle();
      return (await paths(index, 'narwhal')).length > 0 ? true : null;
    }, 'the append indexed');
  });

  it('ignores the index database and its journals, even inside the watched tree', async () => {
    const dir = dataDir();
    // The workspace is the data dir itself, so agent.db and its -wal/-shm files sit in a watched directory.
    const index = new MemoryIndex(openAgentDb(dir), dir);
    cleanups.unshift(() => index.close());
    writeFileSync(path.join(dir, 'first.md'), '# First\nalpha\n');
    await index.sync();
    const applied: string[] = [];
    const apply = index.applyChanges.bind(index);
    index.applyChanges = (changed) => {
      applied.push(...changed);
      return apply(changed);
    };
    const watcher = watched(index);
    for (let i = 0; i < 20; i++) {
      writeFileSync(path.join(dir, `n${i}.md`), `# N\nbeta ${i}\n`);
      await index.indexFile(`n${i}.md`);
    }
    writeFileSync(path.join(dir, 'sentinel.md'), '# Sentinel\n');
    await waitFor(() => (applied.includes('sentinel.md') ? true : null), 'the sentinel event', 5_000);
    await watcher.settle();
    expect(applied.filter((p) => p.startsWith('agent.db'))).toEqual([]);
    expect(['agent.db', 'agent.db-wal', 'agent.db-shm'].some((name) => isRelevantEvent('rename', name))).toBe(false);
    expect(isRelevantEvent('change', 'build.log')).toBe(false);
    expect(isRelevantEvent('rename', 'new-dir')).toBe(true);
  });
});
