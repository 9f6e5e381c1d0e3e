// Reads a project's permission rules: config/permissions.yaml or config/permissions.json
// (never both), or the starter policy when there is neither. Throws only ConfigError,
// whose lines name the file, the key path and what was expected.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, readConfigFile } from '../project.js';
import type { PermissionRules } from './policy.js';
import { PERMISSIONS_FILES, PermissionsFileSchema } from './schema.js';
import { STARTER_RULES } from './starter.js';

export function readPermissionRules(projectDir: string): PermissionRules {
  const present = Object.values(PERMISSIONS_FILES).filter((path) => existsSync(join(projectDir, path)));
  if (present.length > 1) {
    throw new ConfigError([`${PERMISSIONS_FILES.yaml} and ${PERMISSIONS_FILES.json} both exist: keep one of them`]);
  }
  const [path] = present;
  if (path === undefined) return STARTER_RULES;
  try {
    return {
      policy: readConfigFile(join(projectDir, path), path, PermissionsFileSchema),
      source: { kind: 'file', path },
    };
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    // Mostly an editor replacing the file between the check above and the read; the
    // rename that completes the save triggers another reload.
    throw new ConfigError([`${path}: could not be read: ${err instanceof Error ? err.message : String(err)}`]);
  }
}

/** The file an error is about: the JSON one only when it alone exists. */
export function permissionsFileInQuestion(projectDir: string): string {
  const jsonOnly =
    existsSync(join(projectDir, PERMISSIONS_FILES.json)) && !existsSync(join(projectDir, PERMISSIONS_FILES.yaml));
  return jsonOnly ? PERMISSIONS_FILES.json : PERMISSIONS_FILES.yaml;
}
