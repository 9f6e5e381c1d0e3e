// Writes a setup in two phases so a failure leaves nothing half done. planSetup renders
// every file and validates the project as it would be, in a staging copy of config/ and
// PROJECT.md under the system's temp directory, before anything in the project changes;
// commitPlan then writes each file atomically (a temp file beside it, then a rename).
// Invariants: .env never enters the staging copy (it holds the key); the template is
// applied to the staging copy only (applyTemplate merges into agents.yaml and the
// permission file and refuses to replace any other file that differs); config/mesh.yaml,
// whose presence makes a directory a project, is written last.
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { Document, isCollection, isMap, parseDocument } from 'yaml';
import { dirname, join } from 'node:path';
import { loadProject, PROJECT_FILES, readConfigFile } from '../../shared/config/project.js';
import { AgentsFileSchema } from '../../shared/config/schema.js';
import { readPermissionRules } from '../../shared/config/permissions/file.js';
import { applyTemplate, type Template } from '../templates/index.js';

export interface PlannedFile {
  /** Relative to the project directory. */
  path: string;
  content: string;
  mode: number;
  /** Whether the project has this file now (the write replaces it). */
  replaces: boolean;
}

export interface SetupPlan {
  files: PlannedFile[];
  /** Agents the template adds. */
  agentsAdded: string[];
  /** The template's agents the project already has, left as they are. */
  agentsKept: string[];
}

export interface PlanInput {
  dir: string;
  /** New text of each file, or null to leave it. */
  meshYaml: string | null;
  /** config/agents.yaml with agents unpinned from the old provider, or null to leave it. */
  agentsYaml: string | null;
  projectMd: string | null;
  env: string | null;
  gitignore: string | null;
  template: { template: Template; model?: string } | null;
}

const SECRET_MODE = 0o600;
const FILE_MODE = 0o644;

function readIfPresent(path: string): string | null {
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}

function configuredAgents(dir: string): string[] {
  const path = join(dir, PROJECT_FILES.agents);
  return existsSync(path) ? Object.keys(readConfigFile(path, PROJECT_FILES.agents, AgentsFileSchema).agents) : [];
}

/** A config/agents.yaml setup creates, laid out for reading: block style with a header,
 *  multi-line prompts as literal blocks, each agent's short settings on one line. */
function newAgentsYaml(text: string): string {
  const doc = new Document(parseDocument(text).toJS());
  doc.commentBefore =
    ' The fleet: one container per agent (written by `legion setup`; edit freely).\n `legion agent add|remove` edit this file and keep comments.';
  const agents = doc.get('agents', true);
  if (isMap(agents)) {
    for (const agent of agents.items) {
      if (!isMap(agent.value)) continue;
      for (const setting of agent.value.items) if (isCollection(setting.value)) setting.value.flow = true;
    }
  }
  return doc.toString({ lineWidth: 0 });
}

/** Renders and validates everything; throws (ConfigError, LegionError) before any write. */
export function planSetup(input: PlanInput): SetupPlan {
  const staging = mkdtempSync(join(tmpdir(), 'legion-setup-'));
  try {
    const configDir = join(input.dir, 'config');
    if (existsSync(configDir)) cpSync(configDir, join(staging, 'config'), { recursive: true });
    const projectMdPath = join(input.dir, PROJECT_FILES.project);
    if (existsSync(projectMdPath)) cpSync(projectMdPath, join(staging, PROJECT_FILES.project));
    const staged = new Set<string>();
    const stage = (path: string, content: string | null) => {
      if (content === null) return;
      mkdirSync(dirname(join(staging, path)), { recursive: true });
      writeFileSync(join(staging, path), content);
      staged.add(path);
    };
    stage(PROJECT_FILES.mesh, input.meshYaml);
    stage(PROJECT_FILES.agents, input.agentsYaml);
    stage(PROJECT_FILES.project, input.projectMd);

    let agentsAdded: string[] = [];
    let agentsKept: string[] = [];
    if (input.template) {
      const present = new Set(configuredAgents(staging));
      const wanted = input.template.template.agents.map((agent) => agent.name);
      agentsKept = wanted.filter((a) => present.has(a));
      const only = wanted.filter((a) => !present.has(a));
      if (only.length > 0) {
        const options = input.template.model === undefined ? { only } : { only, model: input.template.model };
        const agentsPath = join(staging, PROJECT_FILES.agents);
        const newAgentsFile = !existsSync(agentsPath);
        const applied = applyTemplate(staging, input.template.template, options);
        agentsAdded = applied.agents;
        for (const path of applied.files) staged.add(path);
        if (newAgentsFile) writeFileSync(agentsPath, newAgentsYaml(readFileSync(agentsPath, 'utf8')));
      }
    }

    // The project as it would be: every file parses and agrees with the others.
    loadProject(staging, {});
    readPermissionRules(staging);

    const files: PlannedFile[] = [];
    const plan = (path: string, content: string, mode: number) => {
      const current = readIfPresent(join(input.dir, path));
      if (current !== content) files.push({ path, content, mode, replaces: current !== null });
    };
    if (input.env !== null) plan(PROJECT_FILES.env, input.env, SECRET_MODE);
    if (input.gitignore !== null) plan('.gitignore', input.gitignore, FILE_MODE);
    const order = [...staged].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    for (const path of order) plan(path, readFileSync(join(staging, path), 'utf8'), FILE_MODE);
    return { files, agentsAdded, agentsKept };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** PROJECT.md first, the config files next, config/mesh.yaml last. */
function rank(path: string): number {
  if (path === PROJECT_FILES.mesh) return 2;
  return path === PROJECT_FILES.project ? 0 : 1;
}

function writeAtomically(path: string, content: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, content, { mode });
    // The umask may have narrowed (or, for a reused name, not applied) the mode.
    chmodSync(temporary, mode);
    renameSync(temporary, path);
  } catch (err) {
    rmSync(temporary, { force: true });
    throw err;
  }
}

export function commitPlan(dir: string, plan: SetupPlan): void {
  for (const file of plan.files) writeAtomically(join(dir, file.path), file.content, file.mode);
}
