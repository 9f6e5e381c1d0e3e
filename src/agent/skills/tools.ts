// The agent's skill tools: skill_view (a skill's instructions and files: the second
// step of progressive disclosure, after the name and description in the prompt),
// create_skill, reload_skills and list_custom_skills.
// Invariants: create_skill asks the mesh first (can_create_skills), then writes the
// skill into a draft folder beside the others, checks it there exactly as a load
// would (front matter, the module loaded in a child process, its exports and schema)
// and only then moves it into place, so a refused skill leaves nothing behind and a
// replaced one is never seen half-written; the new skill and its tool are usable at
// once, in the same turn.
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import {
  SKILL_FILE,
  SKILL_TOOL_FILE,
  SkillDescriptionSchema,
  SkillNameSchema,
  renderSkillMd,
} from '../../shared/skills/manifest.js';
import { SkillCreateGrantSchema } from '../../shared/wire/skills.js';
import type { MeshRpc } from '../tools/mesh-rpc.js';
import { defineTool, type Tool, type ToolResult } from '../tools/registry.js';
import { checkSkillFolder, listSkillFiles, type LoadReport, type Skill, type SkillCatalog } from './catalog.js';

const CreateSkillSchema = z.strictObject({
  name: SkillNameSchema.describe('Folder and skill name: lowercase letters, digits and single dashes.'),
  description: SkillDescriptionSchema.describe(
    'One line: what the skill does and when to use it (shown in your prompt).',
  ),
  instructions: z.string().trim().min(1).describe('Markdown instructions, the body of SKILL.md (shown by skill_view).'),
  tool_code: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Optional ES module source for tool.mjs: export const name, description, parameters (JSON Schema, "type": "object"), optional timeout_s, and export async function run(args) returning a string or JSON.',
    ),
});

function describeSkill(skill: Skill): string {
  const tool = skill.toolName ? `; tool ${skill.toolName}` : '';
  return `${skill.name} (${skill.origin}${tool}): ${skill.description}`;
}

function describeReport(report: LoadReport, only?: Skill['origin']): string {
  const skills = only ? report.skills.filter((skill) => skill.origin === only) : report.skills;
  const lines = skills.length > 0 ? skills.map(describeSkill) : ['no skills'];
  if (report.problems.length > 0) lines.push('', 'not loaded:', ...report.problems.map((problem) => `- ${problem}`));
  return lines.join('\n');
}

export function createSkillTools(catalog: SkillCatalog, mesh: MeshRpc): Tool[] {
  return [
    defineTool({
      name: 'skill_view',
      description: "Read a skill's instructions (SKILL.md) and list its files. Your prompt lists the skills you have.",
      schema: z.strictObject({ name: z.string().min(1) }),
      run: async ({ name }) => {
        await catalog.report();
        const skill = catalog.find(name);
        if (!skill) {
          const known = (await catalog.report()).skills.map((s) => s.name).join(', ') || 'none';
          return { ok: false, output: `no skill named "${name}"; skills: ${known}` };
        }
        const files = await listSkillFiles(skill.dir);
        const tool = skill.toolName ? `\nIts tool: ${skill.toolName} (call it like any other tool).` : '';
        return {
          ok: true,
          output: `# ${skill.name}\n${skill.description}\nFolder: ${skill.dir}${tool}\nFiles: ${files.join(', ')}\n\n${skill.instructions}`,
        };
      },
    }),
    defineTool({
      name: 'create_skill',
      description: `Create or replace one of your own skills in ${catalog.customRoot} (needs can_create_skills). It is checked (front matter, tool module loads and exports a valid schema) and loaded at once: its tool is callable right away.`,
      schema: CreateSkillSchema,
      run: async (args, ctx) => {
        await mesh.call(
          '/mesh/skills/create',
          { name: args.name, with_tool: args.tool_code !== undefined },
          SkillCreateGrantSchema,
          ctx.trace,
        );
        const existing = catalog.find(args.name);
        if (existing && existing.origin === 'operator') {
          return {
            ok: false,
            output: `refused: "${args.name}" is an operator skill (${existing.dir}); choose another name`,
          };
        }
        return writeSkill(catalog, args, ctx.workspaceDir);
      },
    }),
    defineTool({
      name: 'reload_skills',
      description:
        'Read all skills again (new and changed ones in your skills folder too); their tools are callable at once.',
      schema: z.strictObject({}),
      run: async () => ({ ok: true, output: `skills reloaded:\n${describeReport(await catalog.reload())}` }),
    }),
    defineTool({
      name: 'list_custom_skills',
      description: `List the skills you created (in ${catalog.customRoot}) and any that failed to load.`,
      schema: z.strictObject({}),
      run: async () => ({ ok: true, output: describeReport(await catalog.report(), 'custom') }),
    }),
  ];
}

async function writeSkill(
  catalog: SkillCatalog,
  args: z.output<typeof CreateSkillSchema>,
  workspaceDir: string,
): Promise<ToolResult> {
  const root = catalog.customRoot;
  const draft = path.join(root, `.draft-${randomUUID()}`);
  const target = path.join(root, args.name);
  try {
    await mkdir(draft, { recursive: true });
    await writeFile(
      path.join(draft, SKILL_FILE),
      renderSkillMd({ name: args.name, description: args.description, instructions: args.instructions }),
    );
    if (args.tool_code !== undefined) await writeFile(path.join(draft, SKILL_TOOL_FILE), args.tool_code);
    const checked = await checkSkillFolder(draft, workspaceDir, args.name);
    if (!checked.ok) return { ok: false, output: `refused, nothing was saved:\n${checked.problems.join('\n')}` };
    const toolName = checked.module?.spec.name;
    if (toolName !== undefined && catalog.takenToolNames(args.name).has(toolName)) {
      return {
        ok: false,
        output: `refused, nothing was saved: the tool name "${toolName}" is taken by another tool; export another name`,
      };
    }
    // The old folder moves aside first: rename cannot replace a non-empty directory.
    const old = `${draft}-old`;
    const replaced = await rename(target, old).then(
      () => true,
      () => false,
    );
    await rename(draft, target);
    if (replaced) await rm(old, { recursive: true, force: true });
    const report = await catalog.reload();
    const loaded = report.skills.find((skill) => skill.name === args.name && skill.origin === 'custom');
    if (!loaded) {
      return { ok: false, output: `saved ${target}, but it did not load:\n${report.problems.join('\n')}` };
    }
    const tool = loaded.toolName ? `; its tool ${loaded.toolName} is callable now` : '';
    return { ok: true, output: `${replaced ? 'replaced' : 'created'} skill ${args.name} in ${target}${tool}` };
  } finally {
    await rm(draft, { recursive: true, force: true });
  }
}
