// Creates <dataDir>/workspace and seeds it with the default markdown files baked into
// the image, or with the project's own seeds for this agent (config/agents/<agent>/*.md,
// sent by the mesh) where it has them. Invariants: an existing file is never
// overwritten, not even one created between the check and the write (the copy and the
// write themselves refuse to replace), so a seed only ever reaches a fresh workspace
// file; the defaults are found relative to this module, which sits three levels below
// the repository root both as src/agent/workspace/scaffold.ts and as
// dist/agent/workspace/scaffold.js. In the one-file bundle (dist/agent-bundle/main.js)
// this module has the bundle's location, so the server passes them (main.ts).
import { constants } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LegionError } from '../../shared/errors.js';
import { isWorkspaceSeedFile, type WorkspaceSeeds } from '../../shared/config/workspace-seeds.js';
import { WORKSPACE_PROMPT_FILES } from '../prompt.js';

export const DEFAULT_WORKSPACE_TEMPLATES = fileURLToPath(new URL('../../../agent-image/workspace/', import.meta.url));

export interface ScaffoldResult {
  workspaceDir: string;
  created: string[];
  /** Of `created`, the files written from a project seed rather than the default. */
  seeded: string[];
  kept: string[];
}

/** The prompt files, plus HEARTBEAT.md (read at heartbeat wake-ups, not in every prompt). */
export const SCAFFOLDED_FILES = [...WORKSPACE_PROMPT_FILES, 'HEARTBEAT.md'] as const;
/** Daily logs (memory_save, chat turns) and learnings live here. */
export const SCAFFOLDED_DIRS = ['memory', 'learnings'] as const;

export async function scaffoldWorkspace(
  dataDir: string,
  templatesDir = DEFAULT_WORKSPACE_TEMPLATES,
  seeds: WorkspaceSeeds = {},
): Promise<ScaffoldResult> {
  const workspaceDir = path.join(dataDir, 'workspace');
  await mkdir(workspaceDir, { recursive: true });
  for (const dir of SCAFFOLDED_DIRS) await mkdir(path.join(workspaceDir, dir), { recursive: true });
  const result: ScaffoldResult = { workspaceDir, created: [], seeded: [], kept: [] };
  for (const name of SCAFFOLDED_FILES) {
    const target = path.join(workspaceDir, name);
    const seed = isWorkspaceSeedFile(name) ? seeds[name] : undefined;
    const source = path.join(templatesDir, name);
    try {
      if (seed === undefined) await copyFile(source, target, constants.COPYFILE_EXCL);
      else await writeFile(target, seed, { flag: 'wx' });
      result.created.push(name);
      if (seed !== undefined) result.seeded.push(name);
    } catch (err) {
      const code = err instanceof Error && 'code' in err ? err.code : undefined;
      if (code === 'EEXIST') {
        result.kept.push(name);
      } else if (code === 'ENOENT' && seed === undefined) {
        throw new LegionError(
          'missing_workspace_template',
          `default workspace file ${source} is missing; rebuild the agent image`,
        );
      } else {
        throw err;
      }
    }
  }
  return result;
}
