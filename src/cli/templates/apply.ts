// Applies a team template to a project: its agents into config/agents.yaml, its
// permission entries into config/permissions.yaml (or .json), its workflows into
// config/workflows/<name>.yaml and its workspace seeds into config/agents/<agent>/.
// Invariants: everything is computed and validated before the first write (the result
// must load with loadProject, the permission file loader and the workflow loader), so a
// refused template leaves every file as it was; an existing agent is an error; an
// existing file is never replaced with different content (same content is left alone);
// each file is written whole (temporary file, then rename).
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LegionError } from '../../shared/errors.js';
import { agentsFileWithAdded } from '../../shared/config/agents-edit.js';
import { loadProject, PROJECT_FILES } from '../../shared/config/project.js';
import { WORKSPACE_SEED_FILES, seedPath } from '../../shared/config/workspace-seeds.js';
import { WORKFLOWS_DIR } from '../../shared/config/workflow.js';
import { readPermissionRules } from '../../shared/config/permissions/file.js';
import { decide } from '../../shared/config/permissions/policy.js';
import { parseWorkflowFile } from '../../shared/config/workflows/load.js';
import type { Template, TemplateAgent, TemplatePermissions } from './load.js';
import { permissionsWithAdded } from './permissions-merge.js';

export interface ApplyOptions {
  /** provider/model for every agent taken; else each keeps the template's, or the default. */
  model?: string;
  /** Names of the template's agents to take; default all. */
  only?: string[];
}

export interface AppliedTemplate {
  agents: string[];
  /** Project-relative paths written or changed. */
  files: string[];
}

export interface PlannedFile {
  /** Relative to the project directory. */
  path: string;
  text: string;
}

export interface TemplatePlan {
  /** The agents to add, as config/agents.yaml will hold them. */
  agents: TemplateAgent[];
  /** config/agents.yaml with the agents added. */
  agentsFile: PlannedFile;
  /** config/agents/<agent>/*.md not in the project yet. */
  seeds: PlannedFile[];
  /** The permission file with the template's entries; null when it needs no change. */
  permissions: PlannedFile | null;
  /** config/workflows/<name>.yaml not in the project yet. */
  workflows: PlannedFile[];
}

function takenAgents(template: Template, options: ApplyOptions): TemplateAgent[] {
  const names = template.agents.map((agent) => agent.name);
  const only = options.only ?? names;
  const unknown = only.filter((name) => !names.includes(name));
  if (unknown.length > 0) {
    throw new LegionError(
      'unknown_template_agent',
      `template ${template.name} has no agent ${unknown.map((n) => `"${n}"`).join(', ')} (its agents: ${names.join(', ')})`,
    );
  }
  return template.agents
    .filter((agent) => only.includes(agent.name))
    .map((agent) => (options.model === undefined ? agent : { ...agent, model: options.model }));
}

/** A planned file, or nothing when the project has it with the same text; an error when it differs. */
function newFile(projectDir: string, path: string, text: string, what: string): PlannedFile[] {
  const full = join(projectDir, path);
  if (!existsSync(full)) return [{ path, text }];
  if (readFileSync(full, 'utf8') === text) return [];
  throw new LegionError(
    'file_exists',
    `${path} already exists with other content than the template's ${what}; move it away or merge it by hand, then try again`,
  );
}

/** Computes every file the template writes and validates the project they make; writes nothing. */
export function planTemplate(projectDir: string, template: Template, options: ApplyOptions = {}): TemplatePlan {
  const agents = takenAgents(template, options);
  const before = loadProject(projectDir, {});
  const existing = agents.filter((agent) => Object.hasOwn(before.agents, agent.name)).map((agent) => agent.name);
  if (existing.length > 0) {
    const others = agents.filter((agent) => !existing.includes(agent.name)).map((agent) => agent.name);
    const hint =
      others.length > 0
        ? `; take the others alone (legion agent add --template ${template.name} ${others[0]}) or`
        : ';';
    throw new LegionError(
      'agent_exists',
      `${PROJECT_FILES.agents} already has ${existing.length === 1 ? 'an agent' : 'agents'} named ${existing.join(', ')}, like template ${template.name}${hint} remove or rename yours first`,
    );
  }
  const agentsFile: PlannedFile = { path: PROJECT_FILES.agents, text: agentsFileWithAdded(projectDir, agents) };

  const seeds: PlannedFile[] = [];
  for (const agent of agents) {
    for (const name of WORKSPACE_SEED_FILES) {
      const seed = agent.seeds[name];
      if (seed !== undefined)
        seeds.push(...newFile(projectDir, seedPath(agent.name, name), seed, `${name} for ${agent.name}`));
    }
  }

  const roles: Record<string, { role: string }> = { ...before.agents };
  for (const agent of agents) roles[agent.name] = { role: agent.role };
  // A workflow comes along when the project will have every agent and role it names.
  const workflows = template.workflows.filter(
    (workflow) =>
      workflow.agents.every((name) => Object.hasOwn(roles, name)) &&
      workflow.capabilities.every((role) => Object.values(roles).some((entry) => entry.role === role)),
  );
  const workflowFiles: PlannedFile[] = [];
  for (const workflow of workflows) {
    const path = `${WORKFLOWS_DIR}/${workflow.name}.yaml`;
    parseWorkflowFile(path, workflow.text, roles);
    if (existsSync(join(projectDir, `${WORKFLOWS_DIR}/${workflow.name}.yml`))) {
      throw new LegionError(
        'file_exists',
        `${WORKFLOWS_DIR}/${workflow.name}.yml already defines a workflow named ${workflow.name}; rename or remove it, then try again`,
      );
    }
    workflowFiles.push(...newFile(projectDir, path, workflow.text, `workflow ${workflow.name}`));
  }

  const entries: Record<string, TemplatePermissions> = {};
  for (const agent of agents) {
    const entry = template.permissions[agent.name];
    if (entry !== undefined) entries[agent.name] = entry;
  }
  const permissions = permissionsWithAdded(projectDir, entries);

  validateProject(projectDir, agentsFile, permissions, agents);
  return { agents, agentsFile, seeds, permissions, workflows: workflowFiles };
}

/** Loads the project as it would be, in a scratch copy: the config, the permission
 *  rules, and each new agent's subscriptions under those rules. */
function validateProject(
  projectDir: string,
  agentsFile: PlannedFile,
  permissions: PlannedFile | null,
  agents: TemplateAgent[],
): void {
  const staging = mkdtempSync(join(tmpdir(), 'legion-template-'));
  try {
    mkdirSync(join(staging, 'config'));
    cpSync(join(projectDir, PROJECT_FILES.mesh), join(staging, PROJECT_FILES.mesh));
    writeFileSync(join(staging, agentsFile.path), agentsFile.text);
    const current = readPermissionRules(projectDir);
    if (permissions) writeFileSync(join(staging, permissions.path), permissions.text);
    else if (current.source.kind === 'file')
      cpSync(join(projectDir, current.source.path), join(staging, current.source.path));
    loadProject(staging, {});
    const rules = readPermissionRules(staging);
    for (const agent of agents) {
      for (const topic of agent.subscriptions ?? []) {
        const decision = decide(rules, agent.name, 'can_subscribe', topic);
        if (!decision.allowed)
          throw new LegionError(
            'subscription_denied',
            `${agent.name} would subscribe to ${topic}, which the permission rules deny: ${decision.reason}`,
          );
      }
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function writeWhole(projectDir: string, file: PlannedFile): void {
  const full = join(projectDir, file.path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(`${full}.tmp`, file.text);
  renameSync(`${full}.tmp`, full);
}

/** Writes planned files, each whole; returns their paths. */
export function writePlannedFiles(projectDir: string, files: readonly PlannedFile[]): string[] {
  for (const file of files) writeWhole(projectDir, file);
  return files.map((file) => file.path);
}

export function applyTemplate(projectDir: string, template: Template, options: ApplyOptions = {}): AppliedTemplate {
  const plan = planTemplate(projectDir, template, options);
  // Seeds and rules first, agents.yaml last: what names an agent exists before it does.
  const files = [...plan.seeds, ...(plan.permissions ? [plan.permissions] : []), ...plan.workflows, plan.agentsFile];
  return { agents: plan.agents.map((agent) => agent.name), files: writePlannedFiles(projectDir, files) };
}
