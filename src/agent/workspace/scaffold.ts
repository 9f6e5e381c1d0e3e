// Creates <dataDir>/workspace and seeds it with the default markdown files baked into
// the image. Invariants: an existing file is never overwritten, not even one created
// between the check and the copy (the copy itself refuses to replace); the defaults are
// found relative to this module, which sits three levels below the repository root both
// as src/agent/workspace/scaffold.ts and as dist/agent/workspace/scaffold.js.
import { constants } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LegionError } from '../../shared/errors.js';
import { WORKSPACE_PROMPT_FILES } from '../prompt.js';

export const DEFAULT_WORKSPACE_TEMPLATES = fileURLToPath(new URL('../../../agent-image/workspace/', import.meta.url));

export interface ScaffoldResult {
  workspaceDir: string;
  created: string[];
  kept: string[];
}

/** The prompt files, plus HEARTBEAT.md (read at heartbeat wake-ups, not in every prompt). */
export const SCAFFOLDED_FILES = [...WORKSPACE_PROMPT_FILES, 'HEARTBEAT.md'] as const;
/** Daily logs (memory_save, chat turns) and learnings live here. */
export const SCAFFOLDED_DIRS = ['memory', 'learnings'] as const;

export async function scaffoldWorkspace(dataDir: string, templatesDir = DEFAULT_WORKSPACE_TEMPLATES): Promise<ScaffoldResult> {
  const workspaceDir = path.join(dataDir, 'workspace');
  await mkdir(workspaceDir, { recursive: true });
  for (const dir of SCAFFOLDED_DIRS) await mkdir(path.join(workspaceDir, dir), { recursive: true });
  const created: string[] = [];
  const kept: string[] = [];
  for (const name of SCAFFOLDED_FILES) {
    const source = path.join(templatesDir, name);
    try {
      await copyFile(source, path.join(workspaceDir, name), constants.COPYFILE_EXCL);
      created.push(name);
    } catch (err) {
      const code = err instanceof Error && 'code' in err ? err.code : undefined;
      if (code === 'EEXIST') {
        kept.push(name);
      } else if (code === 'ENOENT') {
        throw new LegionError('missing_workspace_template', `default workspace file ${source} is missing; rebuild the agent image`, 500);
      } else {
        throw err;
      }
    }
  }
  return { workspaceDir, created, kept };
}
