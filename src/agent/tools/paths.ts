// Confines every path a file tool touches to the agent's data directory.
// Invariants: the returned path is fully resolved (no symlink left in it, not even a
// dangling one at the end), so the caller operates on exactly the location that was
// checked; a path is accepted only when that location is the data directory itself or
// lies under realpath(dataDir). Relative paths resolve against <dataDir>/workspace.
// Error messages show the data directory as the agent was told it, not its realpath.
import { lstat, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { LegionError } from '../../shared/errors.js';

export interface Confinement {
  dataDir: string;
  workspaceDir: string;
}

// Matches the kernel's own limit on symlink hops (Linux MAXSYMLINKS).
const MAX_SYMLINK_HOPS = 40;

export async function resolveConfinedPath(given: string, confinement: Confinement): Promise<string> {
  if (given.trim() === '') throw new LegionError('invalid_path', 'expected a non-empty path');
  const dataDir = path.resolve(confinement.dataDir);
  const lexical = path.resolve(confinement.workspaceDir, given);
  if (!isWithin(lexical, dataDir)) throw outside(given, confinement.dataDir);

  const realDataDir = await realpath(dataDir);
  const real = await resolveReal(lexical, { hops: 0 });
  if (!isWithin(real, realDataDir)) throw outside(given, confinement.dataDir, real);
  return real;
}

/** Where a path would point once every symlink along it, existing or not, is followed. */
async function resolveReal(target: string, budget: { hops: number }): Promise<string> {
  try {
    return await realpath(target);
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
  const parent = path.dirname(target);
  if (parent === target) return target;
  const realParent = await resolveReal(parent, budget);
  const candidate = path.join(realParent, path.basename(target));
  const link = await lstatOrNull(candidate);
  // realpath failed, so a symlink here dangles: follow it by hand, because writing
  // through it would create its target, wherever that is.
  if (link?.isSymbolicLink()) {
    budget.hops += 1;
    if (budget.hops > MAX_SYMLINK_HOPS) {
      throw new LegionError('invalid_path', `too many levels of symbolic links in "${target}"`);
    }
    return resolveReal(path.resolve(realParent, await readlink(candidate)), budget);
  }
  return candidate;
}

function isWithin(candidate: string, root: string): boolean {
  const relative = path.relative(root, candidate);
  const escapes = relative === '..' || relative.startsWith(`..${path.sep}`);
  return !escapes && !path.isAbsolute(relative);
}

function outside(given: string, shownDataDir: string, real?: string): LegionError {
  const via = real ? ` (it leads through a symlink to ${real})` : '';
  return new LegionError('path_outside_data', `path "${given}" is outside ${shownDataDir}${via}`);
}

function isMissing(err: unknown): boolean {
  const code = err instanceof Error && 'code' in err ? err.code : undefined;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

async function lstatOrNull(target: string): Promise<Awaited<ReturnType<typeof lstat>> | null> {
  try {
    return await lstat(target);
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}
