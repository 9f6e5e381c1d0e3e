// SKILL.md parsing and the agents.yaml `skills:` check: a skill is refused with the file
// and the broken field named; a folder of an agent that is missing, outside the project,
// without SKILL.md or duplicated fails the project load naming the agent and the path.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSkillMd, renderSkillMd } from '../../src/shared/skills/manifest.js';
import { ConfigError, loadProject } from '../../src/shared/config/project.js';

describe('parseSkillMd', () => {
  it('reads name, description and the instructions after the front matter', () => {
    const parsed = parseSkillMd(
      '---\nname: pdf-report\ndescription: Turns notes into a PDF report.\nlicense: MIT\n---\n\n# Steps\n1. Write.\n',
      'pdf-report',
      'SKILL.md',
    );
    expect(parsed).toEqual({
      ok: true,
      skill: { name: 'pdf-report', description: 'Turns notes into a PDF report.', instructions: '# Steps\n1. Write.' },
    });
  });

  it('refuses a file without front matter', () => {
    const parsed = parseSkillMd('# just markdown\n', 'x', 'a/SKILL.md');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problems[0]).toMatch(/^a\/SKILL\.md: expected YAML front matter/);
  });

  it('names a missing description and a bad name', () => {
    const parsed = parseSkillMd('---\nname: Bad_Name\n---\nbody', 'Bad_Name', 'SKILL.md');
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problems.join('\n')).toContain('SKILL.md: front matter: name: expected lowercase letters');
    expect(parsed.problems.join('\n')).toContain('description');
  });

  it('refuses a name that differs from the folder', () => {
    const parsed = parseSkillMd('---\nname: alpha\ndescription: d\n---\n', 'beta', 'SKILL.md');
    expect(parsed).toEqual({
      ok: false,
      problems: ['SKILL.md: front matter: name "alpha" must equal the skill\'s folder name "beta"'],
    });
  });

  it('reports broken YAML', () => {
    const parsed = parseSkillMd('---\nname: [unclosed\ndescription: d\n---\n', 'x', 'SKILL.md');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problems[0]).toMatch(/^SKILL\.md: front matter: /);
  });

  it('renders a SKILL.md that parses back to the same skill, quoting what YAML would misread', () => {
    const skill = { name: 'odd', description: 'Use it: when "quotes" # and colons appear', instructions: 'Do it.' };
    expect(parseSkillMd(renderSkillMd(skill), 'odd', 'SKILL.md')).toEqual({ ok: true, skill });
  });
});

describe('agents.yaml skills:', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  function project(skills: string[], files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), 'legion-skills-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'config'));
    writeFileSync(
      join(dir, 'config', 'mesh.yaml'),
      'mesh: { port: 8420 }\nllm:\n  default_model: openai/gpt-4o-mini\n',
    );
    writeFileSync(
      join(dir, 'config', 'agents.yaml'),
      `agents:\n  helper:\n    role: helps\n    skills: ${JSON.stringify(skills)}\n`,
    );
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(join(dir, file, '..'), { recursive: true });
      writeFileSync(join(dir, file), text);
    }
    return dir;
  }

  function problems(dir: string): string[] {
    try {
      loadProject(dir, {});
    } catch (err) {
      if (err instanceof ConfigError) return err.lines;
      throw err;
    }
    return [];
  }

  it('accepts folders of the project holding a valid SKILL.md', () => {
    const dir = project(['skills/greet'], {
      'skills/greet/SKILL.md': '---\nname: greet\ndescription: Greets.\n---\nSay hi.',
    });
    expect(problems(dir)).toEqual([]);
    expect(loadProject(dir, {}).agents.helper?.skills).toEqual(['skills/greet']);
  });

  it('names the agent and the path of a missing folder, a folder without SKILL.md and one outside the project', () => {
    const dir = project(['skills/nothing', 'skills/empty', '../elsewhere'], { 'skills/empty/notes.md': 'x' });
    mkdirSync(join(dir, '..', 'elsewhere'), { recursive: true });
    dirs.push(join(dir, '..', 'elsewhere'));
    expect(problems(dir)).toEqual([
      `config/agents.yaml: agents.helper.skills.0: "skills/nothing" does not exist (looked for ${join(dir, 'skills/nothing')})`,
      'config/agents.yaml: agents.helper.skills.1: "skills/empty" holds no SKILL.md (a skill folder needs one, with name and description)',
      'config/agents.yaml: agents.helper.skills.2: "../elsewhere" must be a folder inside the project',
    ]);
  });

  it('refuses an invalid SKILL.md and two folders of the same name', () => {
    const dir = project(['a/greet', 'b/greet', 'bad'], {
      'a/greet/SKILL.md': '---\nname: greet\ndescription: Greets.\n---\n',
      'b/greet/SKILL.md': '---\nname: greet\ndescription: Greets too.\n---\n',
      'bad/SKILL.md': '---\nname: bad\n---\n',
    });
    const lines = problems(dir);
    expect(lines[0]).toBe(
      'config/agents.yaml: agents.helper.skills.1: "b/greet" has the same folder name as "a/greet"; a skill\'s name is its folder\'s, so rename one',
    );
    expect(lines[1]).toMatch(
      /^config\/agents\.yaml: agents\.helper\.skills\.2: "bad" is not a valid skill: SKILL\.md: front matter: description/,
    );
  });
});
