// A skill's SKILL.md: YAML front matter (`name`, `description`) between `---` lines,
// then markdown instructions. Shared by the mesh (checking the operator's skill folders
// in agents.yaml at load) and the agent (loading and creating skills), so both refuse
// the same files with the same words. Invariants: parsing is pure and never throws; a
// skill's name equals its folder's name, so a name finds one folder and two sources
// cannot hold different skills under one name; renderSkillMd output parses back to
// the same name, description and instructions.
import { parseDocument, stringify } from 'yaml';
import { z } from 'zod';
import { formatZodIssues } from '../zod-format.js';

export const SKILL_FILE = 'SKILL.md';
/** The optional tool module beside SKILL.md (an ES module; see docs/skills.md for its exports). */
export const SKILL_TOOL_FILE = 'tool.mjs';
/** Lowercase letters, digits and single dashes, as the SKILL.md convention has it. */
export const SKILL_NAME_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;
export const SKILL_NAME_MAX = 64;
export const SKILL_DESCRIPTION_MAX = 1024;

export const SkillNameSchema = z
  .string()
  .max(SKILL_NAME_MAX, `expected at most ${SKILL_NAME_MAX} characters`)
  .regex(SKILL_NAME_PATTERN, 'expected lowercase letters, digits and single dashes, such as "pdf-report"');

export const SkillDescriptionSchema = z
  .string()
  .trim()
  .min(1, 'expected a description saying what the skill does and when to use it')
  .max(SKILL_DESCRIPTION_MAX, `expected at most ${SKILL_DESCRIPTION_MAX} characters`)
  .refine((text) => !text.includes('\n'), 'expected one line');

// Other keys (license, metadata, ...) are allowed by the SKILL.md convention and kept out of the prompt.
const FrontMatterSchema = z.looseObject({ name: SkillNameSchema, description: SkillDescriptionSchema });

export interface SkillManifest {
  name: string;
  description: string;
  /** The markdown after the front matter. */
  instructions: string;
}

export type ParsedSkill = { ok: true; skill: SkillManifest } | { ok: false; problems: string[] };

const FRONT_MATTER = /^---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;

/** SKILL.md of the folder named `folder`; problems are labelled with `label` (the file as the reader knows it). */
export function parseSkillMd(text: string, folder: string, label: string): ParsedSkill {
  const match = FRONT_MATTER.exec(text.replace(/^\uFEFF/, ''));
  if (!match) {
    return {
      ok: false,
      problems: [`${label}: expected YAML front matter between "---" lines at the top (name: and description:)`],
    };
  }
  const document = parseDocument(match[1] ?? '');
  const syntax = document.errors[0];
  if (syntax) return { ok: false, problems: [`${label}: front matter: ${syntax.message.split('\n')[0]}`] };
  const checked = FrontMatterSchema.safeParse(document.toJS());
  if (!checked.success) return { ok: false, problems: formatZodIssues(`${label}: front matter`, checked.error) };
  const { name, description } = checked.data;
  if (name !== folder) {
    return {
      ok: false,
      problems: [`${label}: front matter: name "${name}" must equal the skill's folder name "${folder}"`],
    };
  }
  return { ok: true, skill: { name, description, instructions: text.slice(match[0].length).trim() } };
}

/** SKILL.md text for a new skill. */
export function renderSkillMd(skill: SkillManifest): string {
  const front = stringify({ name: skill.name, description: skill.description }).trimEnd();
  return `---\n${front}\n---\n\n${skill.instructions.trim()}\n`;
}
