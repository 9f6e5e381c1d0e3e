// agents.yaml `skills:`: folders of the project the operator gives an agent, mounted
// read-only into its container. Checked when the project loads, so a missing folder or
// a broken SKILL.md fails the start (or a reload) with the agent and the path named,
// rather than a skill that silently never shows up. Invariants: every path resolves
// inside the project directory; two folders of one agent never share a name (the
// folder name is the skill name and the mount point).
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { SKILL_FILE, parseSkillMd } from '../skills/manifest.js';
import type { AgentEntry } from './schema.js';

const AGENTS_FILE = 'config/agents.yaml';

/** Every problem with the agents' `skills:` folders, one line each. */
export function checkAgentSkills(projectDir: string, agents: Record<string, AgentEntry>): string[] {
  const problems: string[] = [];
  for (const [agent, entry] of Object.entries(agents)) {
    const seen = new Map<string, string>();
    entry.skills.forEach((listed, index) => {
      const label = `${AGENTS_FILE}: agents.${agent}.skills.${index}: "${listed}"`;
      const problem = checkSkillFolder(projectDir, listed);
      if (problem) {
        problems.push(`${label} ${problem}`);
        return;
      }
      const name = basename(resolve(projectDir, listed));
      const earlier = seen.get(name);
      if (earlier !== undefined) {
        problems.push(
          `${label} has the same folder name as "${earlier}"; a skill's name is its folder's, so rename one`,
        );
      }
      seen.set(name, listed);
    });
  }
  return problems;
}

/** The agent's skill folders as absolute paths on this host (after checkAgentSkills passed). */
export function agentSkillDirs(projectDir: string, entry: AgentEntry): string[] {
  return entry.skills.map((listed) => resolve(projectDir, listed));
}

function checkSkillFolder(projectDir: string, listed: string): string | null {
  if (isAbsolute(listed)) return 'must be a path relative to the project directory';
  const dir = resolve(projectDir, listed);
  if (!existsSync(dir)) return `does not exist (looked for ${dir})`;
  if (!statSync(dir).isDirectory()) return `is not a folder (${dir})`;
  // Through symlinks too: a link out of the project would mount a folder nobody reviewed with it.
  const inside = relative(realpathSync(projectDir), realpathSync(dir));
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return 'must be a folder inside the project';
  const file = join(dir, SKILL_FILE);
  if (!existsSync(file)) return `holds no ${SKILL_FILE} (a skill folder needs one, with name and description)`;
  const parsed = parseSkillMd(readFileSync(file, 'utf8'), basename(dir), SKILL_FILE);
  return parsed.ok ? null : `is not a valid skill: ${parsed.problems.join('; ')}`;
}
