// What a watcher sees and what it does about it. scanDirectory lists the matching
// regular files under a directory with their mtime and size (never following a symlink
// into a directory, stopping at MAX_FILES); planScan is the pure decision. Invariants
// of planScan: the first scan of a watcher only records what is there (nothing fires);
// later, a file fires when it is new or its mtime or size changed, and only once it
// looks the same on two scans in a row, so a file still being written fires once,
// when it is complete; a file that fired is recorded and fires again only after it
// changes; a file that disappeared is forgotten, so one put back fires.
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import picomatch from 'picomatch';

export const MAX_FILES = 10_000;

export interface FileStamp {
  mtimeMs: number;
  size: number;
}

/** Files by path relative to the watched directory (with "/" separators). */
export type Snapshot = Map<string, FileStamp>;

export interface DirectoryScan {
  files: Snapshot;
  /** The directory does not exist (yet). */
  missing: boolean;
  /** MAX_FILES was reached; files beyond it were not looked at. */
  truncated: boolean;
}

function isMissing(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && (err.code === 'ENOENT' || err.code === 'ENOTDIR');
}

export async function scanDirectory(root: string, pattern: string, recursive: boolean): Promise<DirectoryScan> {
  const matches = picomatch(pattern, { dot: false });
  const files: Snapshot = new Map();
  const pending: string[] = [''];
  let truncated = false;
  while (pending.length > 0 && !truncated) {
    const relativeDir = pending.pop() ?? '';
    let entries: Dirent[];
    try {
      entries = await readdir(join(root, relativeDir), { withFileTypes: true });
    } catch (err) {
      if (relativeDir === '' && isMissing(err)) return { files, missing: true, truncated: false };
      // A subdirectory removed while we walked: nothing to see there.
      if (isMissing(err)) continue;
      throw err;
    }
    for (const entry of entries) {
      const relative = relativeDir === '' ? entry.name : `${relativeDir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (recursive) pending.push(relative);
        continue;
      }
      if (!entry.isFile() || !matches(relative)) continue;
      if (files.size >= MAX_FILES) {
        truncated = true;
        break;
      }
      try {
        const info = await stat(join(root, relative));
        files.set(relative, { mtimeMs: info.mtimeMs, size: info.size });
      } catch (err) {
        if (!isMissing(err)) throw err;
      }
    }
  }
  return { files, missing: false, truncated };
}

export interface ScanInput {
  /** True when this watcher has never scanned before. */
  first: boolean;
  /** Files already handled (persisted). */
  handled: Snapshot;
  /** Files seen new or changed on the previous scan, waiting to look the same again. */
  settling: Snapshot;
  current: Snapshot;
}

export interface ScanPlan {
  /** Files to hand to the agent now (each also recorded as handled). */
  fire: string[];
  /** Files to record as handled without firing (the first scan). */
  record: string[];
  /** Handled files that are gone. */
  forget: string[];
  /** The next scan's `settling`. */
  settling: Snapshot;
}

const sameStamp = (a: FileStamp | undefined, b: FileStamp): boolean =>
  a !== undefined && a.mtimeMs === b.mtimeMs && a.size === b.size;

export function planScan(input: ScanInput): ScanPlan {
  const forget = [...input.handled.keys()].filter((path) => !input.current.has(path));
  if (input.first) return { fire: [], record: [...input.current.keys()], forget, settling: new Map() };
  const fire: string[] = [];
  const settling: Snapshot = new Map();
  for (const [path, stamp] of input.current) {
    if (sameStamp(input.handled.get(path), stamp)) continue;
    if (sameStamp(input.settling.get(path), stamp)) fire.push(path);
    else settling.set(path, stamp);
  }
  return { fire: fire.sort(), record: [], forget, settling };
}
