// Doctor checks of the project's files: the configuration (config/mesh.yaml and
// config/agents.yaml, loaded exactly as the mesh loads them), the permissions file
// (a missing one means the starter policy), the workflows (config/workflows/*.yaml,
// checked against the agents as the mesh checks them) and .env, which holds keys and
// so must be readable by its owner only. Reading a file never prints what is in it.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadProject, PROJECT_FILES, type Project } from '../../shared/config/project.js';
import { readPermissionRules } from '../../shared/config/permissions/file.js';
import { loadWorkflows } from '../../shared/config/workflows/load.js';
import { WORKFLOWS_DIR } from '../../shared/config/workflow.js';
import { errorMessage, fail, ok, type CheckResult } from './types.js';

export type ConfigCheck = { result: CheckResult; project: Project | null };

export function checkConfig(dir: string, processEnv: NodeJS.ProcessEnv): ConfigCheck {
  const check = 'config';
  try {
    const project = loadProject(dir, processEnv);
    const agents = Object.keys(project.agents);
    const detail = `${PROJECT_FILES.mesh} and ${PROJECT_FILES.agents} are valid (${agents.length === 0 ? 'no agents' : `agents: ${agents.join(', ')}`})`;
    return { result: ok(check, detail), project };
  } catch (err) {
    const detail = err instanceof ConfigError ? err.lines.join('\n') : errorMessage(err);
    return {
      result: fail(
        check,
        detail,
        'fix what is named above (file: key path: what was expected); see docs/configuration.md',
      ),
      project: null,
    };
  }
}

export function checkPermissionsFile(dir: string): CheckResult {
  const check = 'permissions';
  try {
    const rules = readPermissionRules(dir);
    if (rules.source.kind === 'starter') {
      return ok(
        check,
        'no config/permissions.yaml: the starter policy applies (legion permissions starter > config/permissions.yaml writes it out to edit)',
      );
    }
    const listed = Object.keys(rules.policy.agents);
    return ok(
      check,
      `${rules.source.path} is valid (${listed.length === 0 ? 'no agents listed' : `agents: ${listed.join(', ')}`}${rules.policy.default ? ', and a default entry' : ''})`,
    );
  } catch (err) {
    const detail = err instanceof ConfigError ? err.lines.join('\n') : errorMessage(err);
    return fail(
      check,
      detail,
      'fix the permissions file (see docs/coordination.md), or delete it to fall back to the starter policy',
    );
  }
}

/** Needs the loaded project: a workflow step names agents and roles of agents.yaml. */
export function checkWorkflows(project: Project): CheckResult {
  const check = 'workflows';
  try {
    const names = [...loadWorkflows(project.dir, project.agents).keys()];
    if (names.length === 0) return ok(check, `none in ${WORKFLOWS_DIR}`);
    return ok(check, `${names.length} valid in ${WORKFLOWS_DIR}: ${names.join(', ')}`);
  } catch (err) {
    const detail = err instanceof ConfigError ? err.lines.join('\n') : errorMessage(err);
    return fail(check, detail, 'fix what is named above (file: steps.<step>.<field>: what is wrong)');
  }
}

export interface EnvFileState {
  /** Permission bits of .env, or null when there is none. */
  mode: number | null;
  platform: NodeJS.Platform;
}

export function envFileState(dir: string, platform: NodeJS.Platform = process.platform): EnvFileState {
  const path = join(dir, PROJECT_FILES.env);
  return { mode: existsSync(path) ? statSync(path).mode & 0o777 : null, platform };
}

/** Owner-only (0600 or stricter) is ok; any group or other bit fails. A missing .env is
 *  fine here: when a key is needed and missing, the key check says so. */
export function checkEnvFile(state: EnvFileState): CheckResult {
  const check = '.env';
  if (state.mode === null)
    return ok(check, 'no .env (keys, if any are needed, come from the environment; see the key checks)');
  const mode = state.mode.toString(8).padStart(3, '0');
  if (state.platform === 'win32') return ok(check, `present (file modes are not checked on Windows)`);
  if ((state.mode & 0o077) === 0) return ok(check, `mode ${mode}: only its owner may read it`);
  const who = [state.mode & 0o070 ? 'its group' : '', state.mode & 0o007 ? 'every user' : '']
    .filter(Boolean)
    .join(' and ');
  return fail(check, `mode ${mode}: ${who} may read or change the keys in it`, 'chmod 600 .env');
}
