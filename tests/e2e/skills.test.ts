// Skills in real containers: an agent with can_create_skills creates a skill with a tool
// module, reloads and calls the new tool in the same turn, and still has it after its
// container is recreated (/data/skills is on its volume); a module that throws, one that
// loops and one that does not load are tool errors and the agent keeps answering; an
// operator skill folder of the project (agents.yaml `skills:`, mounted read-only) shows
// in the prompt by name and description only, and skill_view returns its body; without
// can_create_skills create_skill is refused naming the flag.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { freePort, legion, makeProject, type TestProject } from '../helpers/project.js';
import { dockerAvailable, execIn, projectContainers } from '../helpers/docker.js';
import { tearDownFleet } from '../helpers/fleet.js';
import { projectId } from '../../src/shared/state.js';

const available = await dockerAvailable();
const MAKER = 'smith';
const PLAIN = 'plain';
const OPERATOR_BODY = 'Always sign with OPERATOR-BODY-MARKER.';

const ADDER_CODE = `
export const name = 'add_numbers';
export const description = 'Adds a and b.';
export const parameters = {
  type: 'object',
  properties: { a: { type: 'number' }, b: { type: 'number' } },
  required: ['a', 'b'],
};
export async function run({ a, b }) {
  return 'sum=' + (a + b);
}
`;

const FRAGILE_CODE = `
export const name = 'fragile';
export const description = 'Throws, or loops forever with loop: true.';
export const parameters = { type: 'object', properties: { loop: { type: 'boolean' } } };
export const timeout_s = 2;
export async function run({ loop }) {
  if (loop) for (;;) {}
  throw new Error('fragile on purpose');
}
`;

describe.skipIf(!available)('skills with real Docker', () => {
  let fake: FakeProvider;
  let project: TestProject;

  const chat = async (agent: string, message: string): Promise<string> => {
    const result = await legion(['chat', agent, '-m', message], project.dir);
    expect(result.code, result.stderr).toBe(0);
    return result.stdout;
  };
  const container = (agent: string) => `legion-${projectId(project.dir)}-${agent}`;
  const systemPromptFor = (question: string) =>
    fake.calls
      .filter((c) => c.messages.some((m) => m.role === 'user' && m.content === question))
      .at(-1)
      ?.messages.find((m) => m.role === 'system')?.content ?? '';

  beforeAll(async () => {
    fake = await startFakeProvider();
    project = makeProject({
      port: await freePort(),
      openaiBaseUrl: fake.openaiBaseUrl,
      agentsYaml: [
        'agents:',
        `  ${MAKER}:`,
        '    role: makes skills',
        `  ${PLAIN}:`,
        '    role: follows the house style',
        '    skills: [skills/house-style]',
        '',
      ].join('\n'),
    });
    mkdirSync(join(project.dir, 'skills', 'house-style'), { recursive: true });
    writeFileSync(
      join(project.dir, 'skills', 'house-style', 'SKILL.md'),
      `---\nname: house-style\ndescription: Writes replies in the house style.\n---\n\n# House style\n\n${OPERATOR_BODY}\n`,
    );
    writeFileSync(join(project.dir, 'skills', 'house-style', 'template.md'), '# Template\n');
    writeFileSync(
      join(project.dir, 'config', 'permissions.yaml'),
      `default:\n  allowed_apis: [llm]\nagents:\n  ${MAKER}:\n    allowed_apis: [llm]\n    can_create_skills: true\n`,
    );
    const started = await legion(['start', '-d'], project.dir);
    expect(started.code, `${started.stdout}\n${started.stderr}`).toBe(0);
  });

  afterAll(async () => {
    await tearDownFleet(project);
    await fake?.close();
    project?.cleanup();
  });

  it('creates a skill with a tool, reloads and calls the tool in the same turn', async () => {
    const question = 'Make an adder skill and add 2 and 3';
    fake.script(
      {
        tool_calls: [
          {
            name: 'create_skill',
            arguments: {
              name: 'adder',
              description: 'Adds two numbers exactly.',
              instructions: 'Call add_numbers with a and b.',
              tool_code: ADDER_CODE,
            },
          },
        ],
      },
      { tool_calls: [{ name: 'reload_skills', arguments: {} }] },
      { tool_calls: [{ name: 'add_numbers', arguments: { a: 2, b: 3 } }] },
    );
    const out = await chat(MAKER, question);
    expect(out).toContain('tool add_numbers returned: sum=5');
    const turn = fake.calls.filter((c) => c.messages.some((m) => m.role === 'user' && m.content === question));
    // Offered before the skill existed: not there; offered after create_skill: there, in the same turn.
    expect(turn[0]?.tools).not.toContain('add_numbers');
    expect(turn.at(-1)?.tools).toContain('add_numbers');
    const reload = turn.at(-1)?.messages.find((m) => m.role === 'tool' && m.content.startsWith('skills reloaded'));
    expect(reload?.content).toContain('adder (custom; tool add_numbers): Adds two numbers exactly.');
    const listed = await chat(MAKER, 'call list_custom_skills {}');
    expect(listed).toContain('adder (custom; tool add_numbers)');
  });

  it('refuses a skill whose module does not load, leaving nothing behind', async () => {
    const out = await chat(
      MAKER,
      `call create_skill ${JSON.stringify({
        name: 'broken',
        description: 'Never loads.',
        instructions: 'x',
        tool_code: "export const name = 'broken'; throw new Error('cannot load me');",
      })}`,
    );
    expect(out).toContain('refused, nothing was saved');
    expect(out).toContain('the module failed to load: cannot load me');
    const listing = await execIn(container(MAKER), ['ls', '-A', '/data/skills']);
    expect(listing.output.trim().split(/\s+/)).toEqual(['adder']);
  });

  it('turns a module that throws or loops into a tool error and keeps answering', async () => {
    const created = await chat(
      MAKER,
      `call create_skill ${JSON.stringify({
        name: 'fragile',
        description: 'Breaks.',
        instructions: 'Do not rely on it.',
        tool_code: FRAGILE_CODE,
      })}`,
    );
    expect(created).toContain('its tool fragile is callable now');
    const thrown = await chat(MAKER, 'call fragile {}');
    expect(thrown).toContain('tool fragile returned: fragile failed: fragile on purpose');
    const looped = await chat(MAKER, 'call fragile {"loop":true}');
    expect(looped).toContain('fragile failed: tool.mjs gave no answer: timed out after 2 s');
    expect(await chat(MAKER, 'are you still there?')).toContain('echo: are you still there?');
  });

  it('keeps the created skill across a restart of the container', async () => {
    const id = projectId(project.dir);
    const before = (await projectContainers(id)).map((c) => c.Id).sort();
    expect((await legion(['stop'], project.dir)).code).toBe(0);
    const restarted = await legion(['start', '-d'], project.dir);
    expect(restarted.code, restarted.stderr).toBe(0);
    const after = (await projectContainers(id)).map((c) => c.Id).sort();
    expect(after).toHaveLength(2);
    expect(after.some((c) => before.includes(c))).toBe(false);
    const question = 'call add_numbers {"a":40,"b":2}';
    expect(await chat(MAKER, question)).toContain('tool add_numbers returned: sum=42');
    expect(systemPromptFor(question)).toContain('- adder: Adds two numbers exactly.');
  });

  it('lists an operator skill by name and description only; skill_view returns its body and files', async () => {
    const question = 'Which skills do you have?';
    await chat(PLAIN, question);
    const prompt = systemPromptFor(question);
    expect(prompt).toContain('- house-style: Writes replies in the house style.');
    expect(prompt).not.toContain('OPERATOR-BODY-MARKER');
    const viewed = await chat(PLAIN, 'call skill_view {"name":"house-style"}');
    expect(viewed).toContain(OPERATOR_BODY);
    expect(viewed).toContain('Files: SKILL.md, template.md');
    // Mounted read-only: the agent cannot change the operator's skill.
    const write = await execIn(container(PLAIN), ['sh', '-c', 'echo x >> /skills/house-style/SKILL.md']);
    expect(write.code).not.toBe(0);
  });

  it('refuses create_skill without can_create_skills, naming the flag', async () => {
    const out = await chat(
      PLAIN,
      `call create_skill ${JSON.stringify({ name: 'mine', description: 'Mine.', instructions: 'x' })}`,
    );
    expect(out).toContain('plain may not create skills (create_skill): can_create_skills is false (default entry)');
    const listing = await execIn(container(PLAIN), ['sh', '-c', 'ls -A /data/skills 2>/dev/null | wc -l']);
    expect(listing.output.trim()).toBe('0');
  });
});
