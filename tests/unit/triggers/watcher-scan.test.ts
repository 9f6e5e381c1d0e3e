// The watcher's pure decision (first scan, settling, changes, forgetting) and its
// directory scan over a real temp dir.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planScan, scanDirectory, type FileStamp, type Snapshot } from '../../../src/mesh/triggers/watchers/scan.js';
import { renderWatcherMessage } from '../../../src/mesh/triggers/watchers/watchers.js';

const snap = (entries: Record<string, [number, number]>): Snapshot =>
  new Map(Object.entries(entries).map(([path, [mtimeMs, size]]): [string, FileStamp] => [path, { mtimeMs, size }]));

describe('planScan', () => {
  it("records what is there at a watcher's first scan and fires nothing", () => {
    const plan = planScan({
      first: true,
      handled: new Map(),
      settling: new Map(),
      current: snap({ 'a.csv': [1, 10], 'b.csv': [2, 20] }),
    });
    expect(plan).toEqual({ fire: [], record: ['a.csv', 'b.csv'], forget: [], settling: new Map() });
  });

  it('waits for a new file to look the same on two scans, then fires it once', () => {
    const handled = snap({ 'old.csv': [1, 10] });
    const seen = planScan({
      first: false,
      handled,
      settling: new Map(),
      current: snap({ 'old.csv': [1, 10], 'new.csv': [5, 50] }),
    });
    expect(seen.fire).toEqual([]);
    expect(seen.settling).toEqual(snap({ 'new.csv': [5, 50] }));
    const settled = planScan({
      first: false,
      handled,
      settling: seen.settling,
      current: snap({ 'old.csv': [1, 10], 'new.csv': [5, 50] }),
    });
    expect(settled.fire).toEqual(['new.csv']);
    expect(settled.settling.size).toBe(0);
    const after = planScan({
      first: false,
      handled: snap({ 'old.csv': [1, 10], 'new.csv': [5, 50] }),
      settling: settled.settling,
      current: snap({ 'old.csv': [1, 10], 'new.csv': [5, 50] }),
    });
    expect(after).toEqual({ fire: [], record: [], forget: [], settling: new Map() });
  });

  it('does not fire a file that is still growing, and fires it once it stops', () => {
    const handled = new Map();
    const first = planScan({ first: false, handled, settling: new Map(), current: snap({ 'big.bin': [5, 100] }) });
    const growing = planScan({
      first: false,
      handled,
      settling: first.settling,
      current: snap({ 'big.bin': [6, 200] }),
    });
    expect(growing.fire).toEqual([]);
    const done = planScan({
      first: false,
      handled,
      settling: growing.settling,
      current: snap({ 'big.bin': [6, 200] }),
    });
    expect(done.fire).toEqual(['big.bin']);
  });

  it('fires a handled file again when its mtime or size changed', () => {
    const handled = snap({ 'a.csv': [1, 10], 'b.csv': [1, 10] });
    const current = snap({ 'a.csv': [2, 10], 'b.csv': [1, 11] });
    const seen = planScan({ first: false, handled, settling: new Map(), current });
    expect(planScan({ first: false, handled, settling: seen.settling, current }).fire).toEqual(['a.csv', 'b.csv']);
  });

  it('forgets handled files that are gone, so one put back fires', () => {
    const plan = planScan({
      first: false,
      handled: snap({ 'a.csv': [1, 10] }),
      settling: new Map(),
      current: new Map(),
    });
    expect(plan.forget).toEqual(['a.csv']);
  });
});

describe('scanDirectory', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'legion-watch-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('lists matching regular files with mtime and size; top level only for a pattern without a slash', async () => {
    writeFileSync(join(root, 'a.csv'), '12345');
    writeFileSync(join(root, 'b.txt'), 'x');
    writeFileSync(join(root, '.hidden.csv'), 'x');
    mkdirSync(join(root, 'sub'));
    writeFileSync(join(root, 'sub', 'c.csv'), 'xy');
    utimesSync(join(root, 'a.csv'), 1000, 1000);
    const top = await scanDirectory(root, '*.csv', false);
    expect(top).toEqual({
      files: new Map([['a.csv', { mtimeMs: 1_000_000, size: 5 }]]),
      missing: false,
      truncated: false,
    });
    const deep = await scanDirectory(root, '**/*.csv', true);
    expect([...deep.files.keys()].sort()).toEqual(['a.csv', 'sub/c.csv']);
  });

  it('does not follow a symlink into a directory', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'legion-outside-'));
    try {
      writeFileSync(join(outside, 'secret.csv'), 'x');
      symlinkSync(outside, join(root, 'link'));
      expect((await scanDirectory(root, '**/*.csv', true)).files.size).toBe(0);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('reports a directory that does not exist instead of failing', async () => {
    expect(await scanDirectory(join(root, 'nope'), '*', false)).toEqual({
      files: new Map(),
      missing: true,
      truncated: false,
    });
  });
});

describe('renderWatcherMessage', () => {
  it('fills {filename} and {path} wherever they appear', () => {
    expect(renderWatcherMessage('new {filename} at {path}; read {path}', 'inbox/sub/report.csv')).toBe(
      'new report.csv at inbox/sub/report.csv; read inbox/sub/report.csv',
    );
  });
});
