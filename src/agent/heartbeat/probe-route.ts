// GET /heartbeat/probe: what the mesh's heartbeat probes need from inside the
// container, without an LLM call and without docker exec: the workspace's files with
// mtimes and sizes, statfs of the data directory, and HEARTBEAT.md. Invariants: it
// only reads; symlinks are listed, never followed, so the listing stays inside the
// workspace; the listing stops at MAX_FILES and says so; HEARTBEAT.md is cut at
// MAX_HEARTBEAT_MD_CHARS.
import type { Dirent } from 'node:fs';
import { lstat, readFile, readdir, statfs } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { AgentProbeReport } from '../../shared/wire/heartbeat.js';

const MAX_FILES = 5000;
const MAX_HEARTBEAT_MD_CHARS = 16 * 1024;
const HEARTBEAT_FILE = 'HEARTBEAT.md';

type FileEntry = AgentProbeReport['workspace']['files'][number];

/** Files under `root` (relative, / separated), breadth first, at most MAX_FILES. */
async function listWorkspace(root: string): Promise<AgentProbeReport['workspace']> {
  const files: FileEntry[] = [];
  const pending = [''];
  while (pending.length > 0) {
    const rel = pending.shift() ?? '';
    let entries: Dirent[];
    try {
      entries = await readdir(path.join(root, rel), { withFileTypes: true });
    } catch {
      // A directory removed while listing is simply not there any more.
      continue;
    }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        pending.push(child);
        continue;
      }
      if (files.length >= MAX_FILES) return { files, truncated: true };
      try {
        const info = await lstat(path.join(root, child));
        files.push({ path: child, mtime_ms: info.mtimeMs, size: info.size });
      } catch {
        // Gone between readdir and lstat: not part of this listing.
      }
    }
  }
  return { files, truncated: false };
}

async function diskOf(dir: string): Promise<AgentProbeReport['disk']> {
  try {
    const fs = await statfs(dir);
    const used = fs.blocks - fs.bfree;
    // As df reports it: blocks reserved for root count neither as used nor as available.
    const usable = used + fs.bavail;
    return {
      total_bytes: fs.blocks * fs.bsize,
      available_bytes: fs.bavail * fs.bsize,
      used_percent: usable > 0 ? (used / usable) * 100 : 0,
    };
  } catch {
    return null;
  }
}

async function readHeartbeatMd(workspaceDir: string): Promise<string | null> {
  try {
    const text = await readFile(path.join(workspaceDir, HEARTBEAT_FILE), 'utf8');
    return text.length > MAX_HEARTBEAT_MD_CHARS ? `${text.slice(0, MAX_HEARTBEAT_MD_CHARS)}\n…(cut)` : text;
  } catch {
    return null;
  }
}

/** Registers the route on `scope`, which must already require the mesh's server token. */
export function registerHeartbeatProbeRoute(
  scope: FastifyInstance,
  dirs: { dataDir: string; workspaceDir: string },
): void {
  scope.get('/heartbeat/probe', async (): Promise<AgentProbeReport> => {
    const [workspace, disk, heartbeatMd] = await Promise.all([
      listWorkspace(dirs.workspaceDir),
      diskOf(dirs.dataDir),
      readHeartbeatMd(dirs.workspaceDir),
    ]);
    return { workspace, disk, heartbeat_md: heartbeatMd };
  });
}
