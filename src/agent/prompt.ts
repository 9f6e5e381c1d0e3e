// The system prompt of a chat session. Invariants: buildSystemPrompt is pure (same
// inputs, same text); every included file is capped at PROMPT_FILE_CAP_CHARS with a
// visible "[truncated ...]" marker so the model knows it saw only part; empty or
// missing files are left out rather than shown as empty sections; learnings come
// newest first, already capped by the learnings store, with a count of those left out.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AgentRuntimeConfig } from '../shared/wire/agent.js';
import { learningFiles, type PromptSelection } from './learnings/entries.js';
import type { PromptLearnings } from './learnings/store.js';

export const PROMPT_FILE_CAP_CHARS = 8_000;
export const WORKSPACE_PROMPT_FILES = ['AGENTS.md', 'SOUL.md', 'USER.md', 'MEMORY.md'] as const;

export interface PromptFile {
  name: string;
  content: string;
}

export interface PromptInputs {
  config: AgentRuntimeConfig;
  workspaceFiles: readonly PromptFile[];
  toolNames: readonly string[];
  /** The data directory as the agent sees it (/data in a container). */
  dataDir: string;
  learnings: PromptLearnings;
  /** Skills by name and description only; skill_view shows the rest (progressive disclosure). */
  skills?: readonly { name: string; description: string }[];
}

export function buildSystemPrompt(inputs: PromptInputs): string {
  const { config } = inputs;
  const sections: string[] = [`You are ${config.agent}, an agent in a legion team. Your role: ${config.role}.`];
  if (config.system_prompt.trim()) sections.push(config.system_prompt.trim());
  const project = fileSection(
    { name: 'PROJECT.md', content: config.project_md },
    'The project you are part of (PROJECT.md)',
  );
  if (project) sections.push(project);
  for (const file of inputs.workspaceFiles) {
    const section = fileSection(file, `Your workspace file ${file.name}`);
    if (section) sections.push(section);
  }
  const corrections = learningsSection(
    inputs.learnings.corrections,
    'Corrections you have been given',
    learningFiles('corrections').file,
    'Follow them; they take precedence over your habits.',
  );
  if (corrections) sections.push(corrections);
  const errors = learningsSection(
    inputs.learnings.errors,
    'Your recent tool errors',
    learningFiles('errors').file,
    'Avoid repeating these mistakes.',
  );
  if (errors) sections.push(errors);
  const skills = skillsSection(inputs.skills ?? []);
  if (skills) sections.push(skills);
  const workspace = path.posix.join(inputs.dataDir, 'workspace');
  sections.push(
    `Tools: ${inputs.toolNames.join(', ')}. File paths are confined to ${inputs.dataDir}; ` +
      `relative paths resolve against ${workspace}, which is also where commands run.`,
  );
  return sections.join('\n\n');
}

export function capText(text: string, cap: number, what: string): string {
  if (text.length <= cap) return text;
  return `${text.slice(0, cap)}\n[truncated: ${text.length - cap} more characters of ${what} not shown]`;
}

function fileSection(file: PromptFile, heading: string): string | null {
  const content = file.content.trim();
  if (!content) return null;
  return `## ${heading}\n\n${capText(content, PROMPT_FILE_CAP_CHARS, file.name)}`;
}

function skillsSection(skills: readonly { name: string; description: string }[]): string | null {
  if (skills.length === 0) return null;
  const lines = skills.map((skill) => `- ${skill.name}: ${skill.description}`);
  return `## Skills\n\nBefore using a skill, read its instructions with skill_view {"name": "<skill>"}.\n\n${lines.join('\n')}`;
}

function learningsSection(selection: PromptSelection, title: string, file: string, advice: string): string | null {
  if (selection.shown.length === 0) return null;
  const hidden = selection.hidden > 0 ? `\n\n[${selection.hidden} older entries in ${file} are not shown]` : '';
  // Each entry's own `##` heading goes one level down, under this section's.
  const entries = selection.shown.map((entry) => `#${entry}`).join('\n\n');
  return `## ${title} (${file}, newest first)\n\n${advice}\n\n${entries}${hidden}`;
}

/** The workspace prompt files that exist, in WORKSPACE_PROMPT_FILES order. */
export async function readWorkspacePromptFiles(workspaceDir: string): Promise<PromptFile[]> {
  const files = await Promise.all(
    WORKSPACE_PROMPT_FILES.map(async (name): Promise<PromptFile | null> => {
      try {
        return { name, content: await readFile(path.join(workspaceDir, name), 'utf8') };
      } catch (err) {
        // A deleted file is the agent's choice; any other failure should be seen.
        if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return null;
        throw err;
      }
    }),
  );
  return files.filter((file): file is PromptFile => file !== null);
}
