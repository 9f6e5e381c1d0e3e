// Workspace seeds: markdown files a project keeps in config/agents/<agent>/ that become
// the agent's own workspace files (/data/workspace) the first time it starts, in place of
// the image's defaults. Invariants: only the names in WORKSPACE_SEED_FILES are seeds
// (MEMORY.md and the logs are the agent's to write); a seed is at most
// MAX_WORKSPACE_SEED_CHARS characters; a file the workspace already has is never replaced.
import { join } from 'node:path';
import { z } from 'zod';

export const AGENT_SEEDS_DIR = 'config/agents';

export const WORKSPACE_SEED_FILES = ['AGENTS.md', 'SOUL.md', 'USER.md', 'HEARTBEAT.md'] as const;
export type WorkspaceSeedFile = (typeof WORKSPACE_SEED_FILES)[number];

export function isWorkspaceSeedFile(name: string): name is WorkspaceSeedFile {
  return (WORKSPACE_SEED_FILES as readonly string[]).includes(name);
}

/** Far above what a prompt file shows (8,000 characters); it keeps the runtime config small. */
export const MAX_WORKSPACE_SEED_CHARS = 64 * 1024;

/** Seed texts by file name; a name left out gets the image's default. */
export const WorkspaceSeedsSchema = z.partialRecord(
  z.enum(WORKSPACE_SEED_FILES),
  z.string().max(MAX_WORKSPACE_SEED_CHARS, `expected a seed of at most ${MAX_WORKSPACE_SEED_CHARS} characters`),
);
export type WorkspaceSeeds = z.infer<typeof WorkspaceSeedsSchema>;

/** Project-relative path of one seed, as written in messages: config/agents/<agent>/SOUL.md. */
export function seedPath(agent: string, file: WorkspaceSeedFile): string {
  return join(AGENT_SEEDS_DIR, agent, file);
}
