// `legion agent add` and `legion templates` as a user runs them (the built CLI, no
// terminal): with options, with --template, and their errors; then the same against a
// running fleet (real mesh, real agent processes), where a template's agents start at
// once with their seeds, rules and workflow in place.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadTemplate } from '../../src/cli/templates/index.js';
import { loadProject } from '../../src/shared/config/project.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';
import { freePort, legion, makeProject, type CliResult, type TestProject } from '../helpers/project.js';
import { waitFor } from '../helpers/wait.js';

function expectCleanError(result: CliResult, pattern: RegExp): void {
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
}

const agentsYaml = (dir: string): string => readFileSync(join(dir, 'config', 'agents.yaml'), 'utf8');

describe('legion agent add without a running fleet', () => {
  let p: TestProject;

  beforeAll(async () => {
    p = makeProject({ port: await freePort() });
  });

  afterAll(() => p?.cleanup());

  it('lists the templates', async () => {
    const result = await legion(['templates'], p.dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^TEMPLATE\s+AGENTS\s+DESCRIPTION$/m);
    expect(result.stdout).toMatch(/^sales\s+researcher, qualifier, outreach\s+\S/m);
    expect(result.stdout).toMatch(/^devteam\s+pm, engineer, reviewer\s/m);
    expect(result.stdout).toMatch(/^content\s+researcher, writer, editor\s/m);
    expect(result.stdout).toMatch(/^starter\s+assistant\s/m);
  });

  it('adds an agent from options, budget included', async () => {
    const result = await legion(
      [
        'agent',
        'add',
        'scribe',
        '--role',
        'takes notes',
        '--model',
        'anthropic/claude-sonnet-4-5',
        '--system-prompt',
        'Be brief.',
        '--budget-daily',
        '2.5',
      ],
      p.dir,
    );
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('added scribe to config/agents.yaml');
    expect(parse(agentsYaml(p.dir)).agents.scribe).toEqual({
      role: 'takes notes',
      model: 'anthropic/claude-sonnet-4-5',
      system_prompt: 'Be brief.',
      budget: { daily_usd: 2.5 },
    });
    expect(loadProject(p.dir, {}).agents.scribe?.budget).toEqual({ daily_usd: 2.5 });
  });

  // Nine CLI processes one after another: on a loaded 2-core machine that can pass the default 30 s.
  it('says what is missing or wrong, and writes nothing', async () => {
    const before = agentsYaml(p.dir);
    expectCleanError(
      await legion(['agent', 'add'], p.dir),
      /no agent name given, and no terminal to ask in: legion agent add <name> \[--role R\]/,
    );
    expectCleanError(await legion(['agent', 'add', 'scribe'], p.dir), /an agent named "scribe" already exists/);
    expectCleanError(
      await legion(['agent', 'add', 'Note_Taker'], p.dir),
      /invalid agent name "Note_Taker": use lowercase letters, digits and dashes/,
    );
    expectCleanError(
      await legion(['agent', 'add', 'spender', '--budget-daily', 'lots'], p.dir),
      /--budget-daily "lots": expected a number of US dollars/,
    );
    expectCleanError(
      await legion(['agent', 'add', 'spender', '--model', 'mystery/m1'], p.dir),
      /--model "mystery\/m1": unknown provider "mystery" \(known: openai, anthropic/,
    );
    expectCleanError(
      await legion(['agent', 'add', '--template', 'marketing'], p.dir),
      /unknown template "marketing" \(templates: content, devteam, sales, starter/,
    );
    expectCleanError(
      await legion(['agent', 'add', '--template', 'sales', '--role', 'x'], p.dir),
      /--role cannot be used with --template/,
    );
    expectCleanError(
      await legion(['agent', 'add', '--template', 'sales', 'closer'], p.dir),
      /template sales has no agent "closer" \(its agents: researcher, qualifier, outreach\)/,
    );
    expect(agentsYaml(p.dir)).toBe(before);
  }, 120_000);

  it("adds a template's agents with their seeds, rules and workflow; one agent with a name", async () => {
    const result = await legion(['agent', 'add', '--template', 'sales'], p.dir);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(
      'added researcher, qualifier, outreach from template sales to config/agents.yaml; they start with the fleet (legion start)',
    );
    expect(result.stdout).toContain('config/workflows/prospect_pipeline.yaml');
    const project = loadProject(p.dir, {});
    expect(Object.keys(project.agents)).toEqual(['assistant', 'scribe', 'researcher', 'qualifier', 'outreach']);
    expect(project.agents.qualifier?.subscriptions).toEqual(['prospect_researched']);
    expect(readFileSync(join(p.dir, 'config/agents/researcher/SOUL.md'), 'utf8')).toBe(
      loadTemplate('sales').agents[0]?.seeds['SOUL.md'],
    );

    const one = await legion(['agent', 'add', '--template', 'devteam', 'reviewer', '--model', 'openai/gpt-4o'], p.dir);
    expect(one.stdout).toContain(
      'added reviewer from template devteam to config/agents.yaml; it starts with the fleet',
    );
    expect(loadProject(p.dir, {}).agents.reviewer).toMatchObject({ role: 'code review', model: 'openai/gpt-4o' });

    expectCleanError(
      await legion(['agent', 'add', '--template', 'content'], p.dir),
      /config\/agents\.yaml already has an agent named researcher, like template content; take the others alone \(legion agent add --template content writer\)/,
    );
  });
});

describe('legion agent add with a running fleet', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ agentsYaml: 'agents:\n  boss:\n    role: runs the show\n' });
  });

  afterAll(async () => {
    await h?.close();
  });

  it("starts a template's agents at once, with seeds, rules and workflow in force", async () => {
    const result = await legion(['agent', 'add', '--template', 'sales'], h.project.dir);
    expect(result.stderr).toBe('');
    for (const name of ['researcher', 'qualifier', 'outreach']) expect(result.stdout).toContain(`added ${name} (`);
    const agents = (await h.client.status()).agents;
    expect(
      agents
        .filter((a) => a.health === 'healthy')
        .map((a) => a.name)
        .sort(),
    ).toEqual(['boss', 'outreach', 'qualifier', 'researcher']);

    // The seed reached the new agent's workspace and its system prompt.
    expect(await h.say('researcher', 'who are you')).toBe('echo: who are you');
    const seeded = loadTemplate('sales').agents[0]?.seeds['SOUL.md'] ?? '';
    expect(readFileSync(join(h.runtime.dataDir('researcher'), 'workspace', 'SOUL.md'), 'utf8')).toBe(seeded);
    const call = await h.waitForCall('researcher', /^who are you$/);
    expect(call.messages.find((m) => m.role === 'system')?.content).toContain('Strictly factual');

    // The rules written just before the add are in force: the researcher may publish,
    // and the qualifier's config subscription delivers the event.
    const published = await h.say(
      'researcher',
      'call publish_event {"topic":"prospect_researched","payload":{"key":"context/prospect_acme"}}',
    );
    expect(published).toContain('on prospect_researched to 1 subscriber(s)');
    await h.waitForCall('qualifier', /prospect_researched/);

    const workflows = await h.client.listWorkflows();
    expect(workflows.workflows.map((w) => w.name)).toContain('prospect_pipeline');
  });

  it('adds one agent with a daily budget through the mesh', async () => {
    const result = await legion(['agent', 'add', 'helper', '--role', 'helps', '--budget-daily', '3'], h.project.dir);
    expect(result.stdout).toContain('added helper; its container is running');
    expect(parse(agentsYaml(h.project.dir)).agents.helper).toEqual({ role: 'helps', budget: { daily_usd: 3 } });
    await waitFor(
      async () =>
        (await h.client.status()).agents.find((a) => a.name === 'helper')?.health === 'healthy' ? true : null,
      'helper to be healthy',
      15_000,
    );
  });
});
