// The skills an agent has: the operator's folders (agents.yaml `skills:`, mounted
// read-only; LEGION_SKILL_DIRS lists them) and its own under <dataDir>/skills/ (on its
// volume, so they survive restarts). Each is a folder with SKILL.md and optionally
// tool.mjs, whose tool joins the agent's tool list.
// Invariants: the tool list is changed in place, so a running turn (which reads it
// before every model call) can call a tool loaded mid-turn; a skill that does not load
// is left out and its problem reported, never half-loaded; a skill tool never replaces
// a tool of the agent's own nor another skill's (the first one loaded keeps the name);
// operator skills load before the agent's own, so a custom skill cannot shadow them.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { SKILL_FILE, SKILL_TOOL_FILE, parseSkillMd, type SkillManifest } from '../../shared/skills/manifest.js';
import type { Tool } from '../tools/registry.js';
import { checkToolExports, type SkillToolSpec } from './module-exports.js';
import { DESCRIBE_TIMEOUT_MS, callModuleHost } from './skill-runner.js';
import { skillTool } from './skill-tool.js';

export type SkillOrigin = 'operator' | 'custom';

export interface Skill extends SkillManifest {
  origin: SkillOrigin;
  dir: string;
  /** The name of its tool, when it has a tool module. */
  toolName: string | null;
}

export interface SkillCatalogOptions {
  /** Operator skill folders as the agent sees them. */
  operatorDirs: readonly string[];
  /** <dataDir>/skills: one folder per skill of the agent's own. */
  customRoot: string;
  workspaceDir: string;
  /** The agent's tool list, shared with the server; skill tools are added to and removed from it here. */
  tools: Tool[];
}

export interface LoadReport {
  skills: readonly Skill[];
  problems: readonly string[];
}

/** A skill folder, read and checked; `spec` is its tool when it has a module. */
export type CheckedSkill =
  | { ok: true; manifest: SkillManifest; module: { path: string; spec: SkillToolSpec } | null }
  | { ok: false; problems: string[] };

export class SkillCatalog {
  private current: Skill[] = [];
  private problems: string[] = [];
  private readonly owned = new Set<Tool>();
  private loading: Promise<LoadReport> | null = null;
  private loadedOnce = false;

  constructor(private readonly options: SkillCatalogOptions) {}

  get customRoot(): string {
    return this.options.customRoot;
  }

  /** What the last load found; waits for a load under way, and loads when nothing was loaded yet. */
  async report(): Promise<LoadReport> {
    if (this.loading || !this.loadedOnce) await this.reload();
    return { skills: this.current, problems: this.problems };
  }

  find(name: string): Skill | undefined {
    return this.current.find((skill) => skill.name === name);
  }

  /** Reads every source again; concurrent calls share one load. */
  reload(): Promise<LoadReport> {
    this.loading ??= this.load().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  /** Names a new skill tool may not take: the agent's own tools and the tools of other skills. */
  takenToolNames(exceptSkill?: string): Set<string> {
    const others = this.current.filter((skill) => skill.name !== exceptSkill && skill.toolName !== null);
    const ownTools = this.options.tools.filter((tool) => !this.owned.has(tool)).map((tool) => tool.name);
    return new Set([...ownTools, ...others.map((skill) => skill.toolName ?? '')]);
  }

  private async load(): Promise<LoadReport> {
    const folders = [
      ...this.options.operatorDirs.map((dir) => ({ dir, origin: 'operator' as const })),
      ...(await listFolders(this.options.customRoot)).map((dir) => ({ dir, origin: 'custom' as const })),
    ];
    const ownTools = new Set(this.options.tools.filter((tool) => !this.owned.has(tool)).map((tool) => tool.name));
    const skills: Skill[] = [];
    const tools: Tool[] = [];
    const problems: string[] = [];
    for (const { dir, origin } of folders) {
      const checked = await checkSkillFolder(dir, this.options.workspaceDir);
      if (!checked.ok) {
        problems.push(...checked.problems);
        continue;
      }
      const { manifest, module } = checked;
      if (skills.some((skill) => skill.name === manifest.name)) {
        problems.push(`${dir}: a skill named "${manifest.name}" is already loaded (from the operator); left out`);
        continue;
      }
      const toolName = module?.spec.name ?? null;
      if (toolName !== null && (ownTools.has(toolName) || tools.some((tool) => tool.name === toolName))) {
        problems.push(`${dir}: its tool "${toolName}" has the name of a tool already there; left out`);
        continue;
      }
      skills.push({ ...manifest, origin, dir, toolName });
      if (module) tools.push(skillTool(manifest.name, module.path, module.spec));
    }
    this.swapTools(tools);
    this.current = skills;
    this.problems = problems;
    this.loadedOnce = true;
    return { skills, problems };
  }

  private swapTools(next: readonly Tool[]): void {
    const list = this.options.tools;
    for (let i = list.length - 1; i >= 0; i -= 1) {
      const tool = list[i];
      if (tool && this.owned.has(tool)) list.splice(i, 1);
    }
    this.owned.clear();
    for (const tool of next) {
      this.owned.add(tool);
      list.push(tool);
    }
  }
}

/** SKILL.md parsed and the tool module (if any) loaded in a child process and its exports checked. */
export async function checkSkillFolder(dir: string, workspaceDir: string, folderName?: string): Promise<CheckedSkill> {
  const file = path.join(dir, SKILL_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return { ok: false, problems: [`${dir}: holds no readable ${SKILL_FILE}`] };
  }
  const parsed = parseSkillMd(text, folderName ?? path.basename(dir), file);
  if (!parsed.ok) return parsed;
  const modulePath = path.join(dir, SKILL_TOOL_FILE);
  if (!(await listNames(dir)).includes(SKILL_TOOL_FILE)) return { ok: true, manifest: parsed.skill, module: null };
  const described = await callModuleHost({
    request: { mode: 'describe', module: modulePath },
    workspaceDir,
    timeoutMs: DESCRIBE_TIMEOUT_MS,
    signal: new AbortController().signal,
  });
  if (!described.ok) return { ok: false, problems: [`${modulePath}: ${described.reason}`] };
  const exported = 'exports' in described.answer ? described.answer.exports : null;
  const checked = checkToolExports(exported, modulePath);
  if (!checked.ok) return checked;
  return { ok: true, manifest: parsed.skill, module: { path: modulePath, spec: checked.spec } };
}

/** Files of a skill folder, relative to it (at most `limit`), for skill_view. */
export async function listSkillFiles(dir: string, limit = 200): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort()
    .slice(0, limit);
}

async function listNames(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/** Sub-folders of `root`, sorted; dot-folders are create_skill's drafts and are skipped. */
async function listFolders(root: string): Promise<string[]> {
  try {
    const entries = await readdir(root, { withFileTypes: true });
    return entries
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
      .map((entry) => path.join(root, entry.name))
      .sort();
  } catch {
    return [];
  }
}
