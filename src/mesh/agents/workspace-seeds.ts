// Reads an agent's workspace seeds (config/agents/<agent>/{AGENTS,SOUL,USER,HEARTBEAT}.md)
// for its runtime config. Invariants: read fresh at every call, so a seed edited before an
// agent's first start is the one it gets; never throws for a missing or unreadable seed
// (the agent then gets the image's default) and never sends one over the size cap: both
// are logged with the file named, since the agent would otherwise start with the default
// and nobody would know why.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import {
  MAX_WORKSPACE_SEED_CHARS,
  WORKSPACE_SEED_FILES,
  seedPath,
  type WorkspaceSeeds,
} from '../../shared/config/workspace-seeds.js';

export function readWorkspaceSeeds(
  projectDir: string,
  agent: string,
  logger: Pick<FastifyBaseLogger, 'warn'>,
): WorkspaceSeeds {
  const seeds: WorkspaceSeeds = {};
  for (const file of WORKSPACE_SEED_FILES) {
    const relative = seedPath(agent, file);
    let text: string;
    try {
      text = readFileSync(join(projectDir, relative), 'utf8');
    } catch (err) {
      if (err instanceof Error && 'code' in err && err.code === 'ENOENT') continue;
      logger.warn(
        { agent, event: 'workspace_seed_unreadable', file: relative, err },
        `cannot read ${relative}; ${agent} gets the default ${file}`,
      );
      continue;
    }
    if (text.length > MAX_WORKSPACE_SEED_CHARS) {
      logger.warn(
        { agent, event: 'workspace_seed_too_large', file: relative, chars: text.length },
        `${relative} has ${text.length} characters, over the ${MAX_WORKSPACE_SEED_CHARS} a seed may have; ${agent} gets the default ${file}`,
      );
      continue;
    }
    seeds[file] = text;
  }
  return seeds;
}
