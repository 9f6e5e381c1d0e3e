// What makes a directory a legion project (its file names) and the error every config
// loader throws. Kept apart from project.ts, which loads YAML and the config schemas:
// commands that only talk to a running mesh import this and stay quick to start.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LegionError } from '../errors.js';

export class ConfigError extends LegionError {
  readonly lines: string[];
  /** The same problems with the line in the file where known: `config/x.yaml:7: key.path: ...`. */
  readonly located: string[];
  constructor(lines: string[], located: string[] = lines) {
    super('config_invalid', lines.join('\n'));
    this.name = 'ConfigError';
    this.lines = lines;
    this.located = located;
  }
}

export const PROJECT_FILES = {
  mesh: 'config/mesh.yaml',
  agents: 'config/agents.yaml',
  project: 'PROJECT.md',
  env: '.env',
  stateDir: '.legion',
} as const;

export function isProjectDir(dir: string): boolean {
  return existsSync(join(dir, PROJECT_FILES.mesh));
}
