// Team templates: every shipped template applies to a project and the result loads with
// the same loaders the mesh uses (loadProject, the permission file, the workflow loader);
// the hand-over rules mean what the templates promise; the user's files keep their
// comments and rules; and a refused template writes nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  applyTemplate,
  listTemplates,
  loadTemplate,
  parseTemplate,
  planTemplate,
} from '../../src/cli/templates/index.js';
import { loadProject, ConfigError } from '../../src/shared/config/project.js';
import { removeAgentFromConfig } from '../../src/shared/config/agents-edit.js';
import { readPermissionRules } from '../../src/shared/config/permissions/file.js';
import { decide } from '../../src/shared/config/permissions/policy.js';
import { renderStarterPolicyYaml } from '../../src/shared/config/permissions/starter.js';
import { loadWorkflows } from '../../src/shared/config/workflows/load.js';
import { heartbeatRules } from '../../src/mesh/triggers/heartbeat/probes.js';
import { LegionError } from '../../src/shared/errors.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const USER_AGENTS =
  '# my team\nagents:\n  boss:\n    role: decides things   # keep this comment\n    model: anthropic/claude-sonnet-4-5\n';

function project(agentsYaml = USER_AGENTS): string {
  const dir = mkdtempSync(join(tmpdir(), 'legion-templates-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'config'));
  writeFileSync(
    join(dir, 'config', 'mesh.yaml'),
    'llm:\n  default_model: openai/gpt-4o-mini\n  providers:\n    openai: {}\n    anthropic: {}\n',
  );
  writeFileSync(join(dir, 'config', 'agents.yaml'), agentsYaml);
  return dir;
}

const read = (dir: string, path: string) => readFileSync(join(dir, path), 'utf8');

function snapshot(dir: string, paths: string[]): Record<string, string | null> {
  return Object.fromEntries(paths.map((path) => [path, existsSync(join(dir, path)) ? read(dir, path) : null]));
}

describe('shipped templates', () => {
  it('lists starter, sales, devteam and content with their agents', () => {
    const byName = Object.fromEntries(listTemplates().map((t) => [t.name, t]));
    expect(Object.keys(byName).sort()).toEqual(['content', 'devteam', 'sales', 'starter']);
    expect(byName.starter?.agents).toEqual(['assistant']);
    expect(byName.sales?.agents).toEqual(['researcher', 'qualifier', 'outreach']);
    expect(byName.devteam?.agents).toEqual(['pm', 'engineer', 'reviewer']);
    expect(byName.content?.agents).toEqual(['researcher', 'writer', 'editor']);
    for (const t of Object.values(byName)) expect(t.description.length).toBeGreaterThan(20);
  });

  for (const summary of listTemplates()) {
    it(`${summary.name}: applies to a project, and the project loads with its agents, rules and workflows`, () => {
      const dir = project();
      const template = loadTemplate(summary.name);
      const applied = applyTemplate(dir, template);
      expect(applied.agents).toEqual(summary.agents);

      const loaded = loadProject(dir, {});
      expect(Object.keys(loaded.agents)).toEqual(['boss', ...summary.agents]);
      for (const agent of template.agents) {
        const entry = loaded.agents[agent.name];
        expect(entry?.role).toBe(agent.role);
        expect(entry?.system_prompt.length).toBeGreaterThan(200);
        expect(entry?.budget?.daily_usd).toBeGreaterThan(0);
        expect(entry?.budget?.monthly_usd).toBeGreaterThan(0);
        // Seeds are in place, and are the template's text.
        expect(read(dir, `config/agents/${agent.name}/SOUL.md`)).toBe(agent.seeds['SOUL.md']);
        expect(read(dir, `config/agents/${agent.name}/SOUL.md`)).toMatch(/^# SOUL\.md/);
        expect(read(dir, `config/agents/${agent.name}/HEARTBEAT.md`)).toContain('HEARTBEAT_OK');
        // Subscriptions are allowed by the rules the template brings.
        const rules = readPermissionRules(dir);
        for (const topic of entry?.subscriptions ?? [])
          expect(decide(rules, agent.name, 'can_subscribe', topic)).toEqual({ allowed: true });
        expect(decide(rules, agent.name, 'allowed_apis', 'llm')).toEqual({ allowed: true });
      }
      // The user's agent and comments are kept.
      expect(read(dir, 'config/agents.yaml')).toContain('# my team');
      expect(read(dir, 'config/agents.yaml')).toContain('# keep this comment');

      const workflows = loadWorkflows(dir, loaded.agents);
      expect([...workflows.keys()]).toEqual(template.workflows.map((w) => w.name));
      if (summary.agents.length > 1) expect(workflows.size).toBe(1);
      for (const name of workflows.keys()) expect(applied.files).toContain(`config/workflows/${name}.yaml`);
      expect(applied.files).toContain('config/agents.yaml');
    });
  }

  it('sales: the researcher hands prospects to the qualifier over context/prospect_*, and outreach runs only for a good score', () => {
    const dir = project();
    applyTemplate(dir, loadTemplate('sales'));
    const rules = readPermissionRules(dir);
    expect(decide(rules, 'researcher', 'blackboard_write', 'context/prospect_acme')).toEqual({ allowed: true });
    expect(decide(rules, 'qualifier', 'blackboard_read', 'context/prospect_acme')).toEqual({ allowed: true });
    expect(decide(rules, 'qualifier', 'blackboard_write', 'context/prospect_acme').allowed).toBe(false);
    expect(decide(rules, 'outreach', 'blackboard_write', 'context/qualified_acme').allowed).toBe(false);
    // The boss (not listed) keeps the starter default.
    expect(decide(rules, 'boss', 'blackboard_write', 'agents/boss/notes')).toEqual({ allowed: true });
    expect(decide(rules, 'boss', 'blackboard_write', 'context/prospect_acme').allowed).toBe(false);

    const workflow = loadWorkflows(dir, loadProject(dir, {}).agents).get('prospect_pipeline');
    expect(workflow?.order).toEqual(['research', 'qualify', 'outreach']);
    expect(workflow?.steps.get('research')?.promote).toBe('context/prospect_${trigger.payload.name}');
    expect(workflow?.steps.get('outreach')?.condition).toBe('steps.qualify.result.score >= 7');
  });

  it('devteam: the review step is picked by role (capability), so roles matter', () => {
    const dir = project();
    applyTemplate(dir, loadTemplate('devteam'));
    const workflow = loadWorkflows(dir, loadProject(dir, {}).agents).get('feature_pipeline');
    expect(workflow?.steps.get('review')?.capability).toBe('code review');
    expect(loadProject(dir, {}).agents.reviewer?.role).toBe('code review');
    expect(loadProject(dir, {}).agents.pm?.heartbeat?.every).toBe('2h');
  });

  it('seeds HEARTBEAT.md rules only where a template means them; the starter keeps its suggestions commented', () => {
    expect(heartbeatRules(loadTemplate('starter').agents[0]?.seeds['HEARTBEAT.md'] ?? '')).toEqual([]);
    expect(
      heartbeatRules(loadTemplate('devteam').agents.find((a) => a.name === 'pm')?.seeds['HEARTBEAT.md'] ?? '').length,
    ).toBeGreaterThan(0);
  });
});

describe('applyTemplate', () => {
  it('starts config/permissions.yaml from the commented starter policy when the project has none', () => {
    const dir = project();
    applyTemplate(dir, loadTemplate('sales'));
    const text = read(dir, 'config/permissions.yaml');
    expect(text.startsWith(renderStarterPolicyYaml().split('\n\n')[0] ?? '')).toBe(true);
    expect(text).toContain('# Research needs the public web');
    expect(readPermissionRules(dir).policy.agents.researcher?.can_use_internet).toBe(true);
  });

  it('writes no permission file for a template that needs none (the starter policy covers it)', () => {
    const dir = project();
    const applied = applyTemplate(dir, loadTemplate('starter'));
    expect(existsSync(join(dir, 'config/permissions.yaml'))).toBe(false);
    expect(applied.files.sort()).toEqual([
      'config/agents.yaml',
      'config/agents/assistant/HEARTBEAT.md',
      'config/agents/assistant/SOUL.md',
    ]);
  });

  it("merges into the user's permissions.yaml keeping its comments and rules", () => {
    const dir = project();
    const mine =
      '# our rules\ndefault:\n  allowed_apis: [llm]\nagents:\n  boss:   # the boss reads everything\n    allowed_apis: [llm]\n    blackboard_read: ["**"]\n';
    writeFileSync(join(dir, 'config/permissions.yaml'), mine);
    applyTemplate(dir, loadTemplate('content'));
    const text = read(dir, 'config/permissions.yaml');
    expect(text).toContain('# our rules');
    expect(text).toContain('# the boss reads everything');
    const rules = readPermissionRules(dir);
    expect(decide(rules, 'boss', 'blackboard_read', 'anything/at/all')).toEqual({ allowed: true });
    expect(decide(rules, 'writer', 'blackboard_write', 'context/draft_x')).toEqual({ allowed: true });
    expect(Object.keys(rules.policy.agents)).toEqual(['boss', 'researcher', 'writer', 'editor']);
  });

  it('merges into config/permissions.json when that is the file the project uses', () => {
    const dir = project();
    writeFileSync(
      join(dir, 'config/permissions.json'),
      JSON.stringify({ agents: { boss: { allowed_apis: ['llm'] } } }),
    );
    const applied = applyTemplate(dir, loadTemplate('devteam'));
    expect(applied.files).toContain('config/permissions.json');
    expect(existsSync(join(dir, 'config/permissions.yaml'))).toBe(false);
    expect(Object.keys(readPermissionRules(dir).policy.agents)).toEqual(['boss', 'pm', 'engineer', 'reviewer']);
  });

  it('takes only the agents asked for, with the model given, and leaves out a workflow whose agents are missing', () => {
    const dir = project();
    const applied = applyTemplate(dir, loadTemplate('sales'), {
      only: ['qualifier'],
      model: 'anthropic/claude-sonnet-4-5',
    });
    expect(applied.agents).toEqual(['qualifier']);
    const loaded = loadProject(dir, {});
    expect(Object.keys(loaded.agents)).toEqual(['boss', 'qualifier']);
    expect(loaded.agents.qualifier?.model).toBe('anthropic/claude-sonnet-4-5');
    expect(existsSync(join(dir, 'config/workflows'))).toBe(false);
    expect(Object.keys(readPermissionRules(dir).policy.agents)).toEqual(['qualifier']);
  });

  it('re-adds a removed agent: identical seeds, rules and workflow are left as they are', () => {
    const dir = project();
    applyTemplate(dir, loadTemplate('sales'));
    removeAgentFromConfig(dir, 'researcher');
    const applied = applyTemplate(dir, loadTemplate('sales'), { only: ['researcher'] });
    expect(applied.files).toEqual(['config/agents.yaml']);
    expect(loadProject(dir, {}).agents.researcher?.role).toBe('prospect research');
  });

  it('refuses, writing nothing, when an agent exists, a file differs, or a rule conflicts', () => {
    const paths = [
      'config/agents.yaml',
      'config/permissions.yaml',
      'config/workflows/prospect_pipeline.yaml',
      'config/agents/qualifier/SOUL.md',
    ];
    const attempt = (prepare: (dir: string) => void, code: string, message: RegExp) => {
      const dir = project();
      prepare(dir);
      const before = snapshot(dir, paths);
      let error: unknown;
      try {
        applyTemplate(dir, loadTemplate('sales'));
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(LegionError);
      expect((error as LegionError).code).toBe(code);
      expect((error as LegionError).message).toMatch(message);
      expect(snapshot(dir, paths)).toEqual(before);
    };
    attempt(
      (dir) => writeFileSync(join(dir, 'config/agents.yaml'), 'agents:\n  qualifier:\n    role: mine\n'),
      'agent_exists',
      /already has an agent named qualifier, like template sales; take the others alone \(legion agent add --template sales researcher\)/,
    );
    attempt(
      (dir) => {
        mkdirSync(join(dir, 'config/workflows'));
        writeFileSync(join(dir, 'config/workflows/prospect_pipeline.yaml'), '# mine\n');
      },
      'file_exists',
      /config\/workflows\/prospect_pipeline\.yaml already exists with other content/,
    );
    attempt(
      (dir) => {
        mkdirSync(join(dir, 'config/agents/qualifier'), { recursive: true });
        writeFileSync(join(dir, 'config/agents/qualifier/SOUL.md'), 'my own soul\n');
      },
      'file_exists',
      /config\/agents\/qualifier\/SOUL\.md already exists/,
    );
    attempt(
      (dir) => writeFileSync(join(dir, 'config/permissions.yaml'), 'agents:\n  outreach:\n    allowed_apis: [llm]\n'),
      'permissions_conflict',
      /config\/permissions\.yaml already has rules for agent "outreach"/,
    );
  });

  it('refuses a model whose provider the project does not know, naming the file and key', () => {
    const dir = project();
    const before = snapshot(dir, ['config/agents.yaml']);
    expect(() => applyTemplate(dir, loadTemplate('starter'), { model: 'mystery/model-1' })).toThrow(
      /config\/agents\.yaml: agents\.assistant\.model: unknown provider "mystery"/,
    );
    expect(snapshot(dir, ['config/agents.yaml'])).toEqual(before);
    expect(existsSync(join(dir, 'config/agents/assistant'))).toBe(false);
  });

  it('plans without writing', () => {
    const dir = project();
    const plan = planTemplate(dir, loadTemplate('content'));
    expect(plan.agents.map((a) => a.name)).toEqual(['researcher', 'writer', 'editor']);
    expect(plan.workflows.map((f) => f.path)).toEqual(['config/workflows/content_pipeline.yaml']);
    expect(read(dir, 'config/agents.yaml')).toBe(USER_AGENTS);
    expect(existsSync(join(dir, 'config/agents'))).toBe(false);
  });
});

describe('loading templates', () => {
  it('names the known templates for an unknown one, and the template agents for an unknown agent', () => {
    expect(() => loadTemplate('marketing')).toThrow(
      /unknown template "marketing" \(templates: content, devteam, sales, starter/,
    );
    expect(() => applyTemplate(project(), loadTemplate('sales'), { only: ['closer'] })).toThrow(
      /template sales has no agent "closer" \(its agents: researcher, qualifier, outreach\)/,
    );
  });

  it('reports a malformed template with the file and key', () => {
    const base = readFileSync(new URL('../../templates/starter.yaml', import.meta.url), 'utf8');
    const problems = (text: string): string[] => {
      try {
        parseTemplate('templates/starter.yaml', text);
      } catch (err) {
        if (err instanceof ConfigError) return err.lines;
        throw err;
      }
      return [];
    };
    expect(
      problems(base.replace('    role: general assistant\n', '    role: general assistant\n    colour: blue\n')),
    ).toEqual(['templates/starter.yaml: agents.assistant: unknown key "colour"']);
    expect(
      problems(base.replace('    budget: { daily_usd: 2, monthly_usd: 40 }\n', '    budget: { daily_usd: -2 }\n')),
    ).toEqual([expect.stringMatching(/^templates\/starter\.yaml: agents\.assistant\.budget\.daily_usd: /)]);
    expect(problems(base.replace('name: starter', 'name: other'))).toEqual([
      expect.stringMatching(/the template is named "other" but its file is starter\.yaml/),
    ]);
    expect(problems(`${base}\npermissions:\n  agents:\n    stranger: { allowed_apis: [llm] }\n`)).toEqual([
      expect.stringMatching(/permissions\.agents\.stranger: not an agent of this template/),
    ]);
    expect(
      problems(
        `${base}\nworkflows:\n  flow:\n    name: other\n    steps: [{ id: a, agent: assistant, task_type: t }]\n`,
      ),
    ).toEqual([expect.stringMatching(/workflows\.flow\.name: expected "flow"/)]);
  });
});
