// The workflow loader: a valid file loads with its order and fallbacks; every load-time
// problem is an error line naming the file and, for a step, the step.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/shared/config/project.js';
import {
  loadWorkflows,
  parseWorkflowFile,
  summarizeWorkflow,
  workflowTriggerLabel,
} from '../../../src/shared/config/workflows/load.js';
import { evaluateCondition } from '../../../src/shared/config/workflows/condition.js';
import { makeScope } from './scope-fixture.js';

const AGENTS = { researcher: { role: 'research' }, qualifier: { role: 'sales' }, writer: { role: 'sales' } };
const FILE = 'config/workflows/prospect_pipeline.yaml';

const ISSUE_EXAMPLE = `name: prospect_pipeline
trigger: { topic: new_prospect }      # or { webhook: <hook name> } or manual (the default)
timeout: 600                          # seconds, whole run
steps:
  - id: research
    agent: researcher                 # or capability: research (any agent with that role)
    task_type: research_prospect
    input: "\${trigger.payload}"       # templates: trigger.payload, steps.<id>.result, blackboard.<key>
    promote: context/prospect_\${trigger.payload.name}
  - id: qualify
    agent: qualifier
    depends_on: [research]
    condition: "steps.research.result.score >= 5 && steps.research.result.region in ['EU', 'US']"
    retry: { max: 3, backoff_s: 2 }
    timeout: 120
    on_failure: abort                 # abort | skip | continue | fallback:<step id>
on_complete: { publish: prospect_done }
`;

/** A workflow file named prospect_pipeline with these steps (YAML list items). */
function workflow(steps: string, head = ''): string {
  return `name: prospect_pipeline\n${head}steps:\n${steps}`;
}

function problems(text: string, file = FILE, agents: Record<string, { role: string }> = AGENTS): string[] {
  try {
    parseWorkflowFile(file, text, agents);
  } catch (err) {
    if (err instanceof ConfigError) return err.lines;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const step = (id: string, extra = '') =>
  `  - { id: ${id}, agent: researcher, task_type: t${extra ? `, ${extra}` : ''} }\n`;

describe('parseWorkflowFile', () => {
  it('loads the example from the issue', () => {
    const loaded = parseWorkflowFile(FILE, ISSUE_EXAMPLE, AGENTS);
    expect(loaded.name).toBe('prospect_pipeline');
    expect(loaded.file).toBe(FILE);
    expect(loaded.order).toEqual(['research', 'qualify']);
    expect(workflowTriggerLabel(loaded.definition.trigger)).toBe('topic:new_prospect');
    expect(loaded.definition.timeout).toBe(600);
    const qualify = loaded.steps.get('qualify');
    expect(qualify?.retry).toEqual({ max: 3, backoff_s: 2 });
    expect(qualify?.on_failure).toBe('abort');
    expect(qualify?.fallback_for).toBeNull();
    expect(qualify?.task_type).toBe('qualify');
    const condition = qualify?.condition_parsed;
    if (!condition) throw new Error('expected a parsed condition');
    expect(
      evaluateCondition(condition, makeScope({ steps: { research: { result: { score: 9, region: 'US' } } } })),
    ).toBe(true);
    const research = loaded.steps.get('research');
    expect(research?.input).toBe('${trigger.payload}');
    expect(research?.condition_parsed).toBeNull();
    expect(summarizeWorkflow(loaded)).toEqual({
      name: 'prospect_pipeline',
      description: null,
      trigger: 'topic:new_prospect',
      steps: ['research', 'qualify'],
      file: FILE,
    });
  });

  it('applies the defaults: manual trigger, task_type the step id, input ${trigger.payload}, abort', () => {
    const loaded = parseWorkflowFile(FILE, workflow('  - { id: only, agent: researcher }\n'), AGENTS);
    expect(workflowTriggerLabel(loaded.definition.trigger)).toBe('manual');
    expect(loaded.steps.get('only')).toMatchObject({
      task_type: 'only',
      input: '${trigger.payload}',
      depends_on: [],
      on_failure: 'abort',
      retry: { max: 0, backoff_s: 1 },
    });
  });

  it('orders steps topologically, file order among ready ones', () => {
    const text = workflow(
      step('join', 'depends_on: [left, right]') +
        step('right', 'depends_on: [start]') +
        step('start') +
        step('left', 'depends_on: [start]') +
        step('alone'),
      'trigger: { webhook: inbound }\n',
    );
    const loaded = parseWorkflowFile(FILE, text, AGENTS);
    expect(loaded.order).toEqual(['start', 'right', 'left', 'join', 'alone']);
    expect(workflowTriggerLabel(loaded.definition.trigger)).toBe('webhook:inbound');
  });

  it('fills fallback_for and runs a fallback after its owner and before its dependents', () => {
    const text = workflow(
      step('report', 'depends_on: [research]') +
        step('research', 'on_failure: "fallback:backup"') +
        step('backup', 'input: "${steps.research.error}"'),
    );
    const loaded = parseWorkflowFile(FILE, text, AGENTS);
    expect(loaded.steps.get('backup')?.fallback_for).toBe('research');
    expect(loaded.steps.get('research')?.fallback_for).toBeNull();
    expect(loaded.order).toEqual(['research', 'backup', 'report']);
  });

  it("lets a step read its ancestors, and a fallback its owner and its owner's ancestors", () => {
    const text = workflow(
      step('start') +
        step('research', 'depends_on: [start], on_failure: "fallback:backup"') +
        step('backup', 'input: { why: "${steps.research.error}", from: "${steps.start.result}" }') +
        step(
          'report',
          'depends_on: [research], input: "${steps.start.result} ${steps.backup.result}", condition: "steps.research.status == \'done\'"',
        ),
    );
    expect(() => parseWorkflowFile(FILE, text, AGENTS)).not.toThrow();
  });

  it('picks steps by capability when an agent has that role', () => {
    const loaded = parseWorkflowFile(FILE, workflow('  - { id: pick, capability: sales, task_type: t }\n'), AGENTS);
    expect(loaded.steps.get('pick')?.capability).toBe('sales');
  });

  it('reports YAML syntax errors', () => {
    const lines = problems('name: prospect_pipeline\nsteps: [\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toMatch(/^config\/workflows\/prospect_pipeline\.yaml: /);
  });

  it('reports shape errors by step id, unknown keys included', () => {
    expect(problems(workflow(step('research', 'retyr: { max: 2 }') + step('qualify', 'timeout: "soon"')))).toEqual([
      `${FILE}: steps.research: unknown key "retyr"`,
      `${FILE}: steps.qualify.timeout: expected a number`,
    ]);
    expect(problems(workflow('  - { id: both, agent: researcher, capability: sales, task_type: t }\n'))).toEqual([
      `${FILE}: steps.both.agent: expected exactly one of agent or capability`,
    ]);
    expect(problems('name: prospect_pipeline\nsteps: []\n')).toEqual([`${FILE}: steps: expected at least one step`]);
    expect(problems(workflow(step('ok'), 'trigger: { cron: daily }\n'))[0]).toMatch(
      /^config\/workflows\/prospect_pipeline\.yaml: trigger: /,
    );
  });

  it('requires the file to be named after the workflow', () => {
    expect(problems(workflow(step('one')), 'config/workflows/pipeline.yaml')).toEqual([
      'config/workflows/pipeline.yaml: name: the workflow is named "prospect_pipeline" but its file is pipeline.yaml; name the file prospect_pipeline.yaml or the workflow pipeline',
    ]);
  });

  it('reports duplicate step ids', () => {
    expect(problems(workflow(step('research') + step('other') + step('research')))).toEqual([
      `${FILE}: steps.research.id: duplicate step id (steps 1 and 3 of the file both use it)`,
    ]);
  });

  it('reports depends_on naming an unknown step or the step itself', () => {
    expect(
      problems(workflow(step('research', 'depends_on: [reserch]') + step('qualify', 'depends_on: [qualify]'))),
    ).toEqual([
      `${FILE}: steps.research.depends_on: unknown step "reserch" (steps: research, qualify)`,
      `${FILE}: steps.qualify.depends_on: a step cannot depend on itself`,
    ]);
  });

  it('names each cycle', () => {
    expect(
      problems(
        workflow(
          step('research', 'depends_on: [qualify]') +
            step('qualify', 'depends_on: [research]') +
            step('after', 'depends_on: [qualify]'),
        ),
      ),
    ).toEqual([`${FILE}: steps.research.depends_on: cycle: research -> qualify -> research`]);
    expect(
      problems(
        workflow(
          step('a', 'depends_on: [c]') +
            step('b', 'depends_on: [a]') +
            step('c', 'depends_on: [b]') +
            step('x', 'depends_on: [y]') +
            step('y', 'depends_on: [x]'),
        ),
      ),
    ).toEqual([
      `${FILE}: steps.a.depends_on: cycle: a -> b -> c -> a`,
      `${FILE}: steps.x.depends_on: cycle: x -> y -> x`,
    ]);
  });

  it('reports unknown agents and capabilities no agent has', () => {
    expect(
      problems(
        workflow(
          step('research').replace('researcher', 'reseacher') + '  - { id: pick, capability: legal, task_type: t }\n',
        ),
      ),
    ).toEqual([
      `${FILE}: steps.research.agent: unknown agent "reseacher" (agents: qualifier, researcher, writer)`,
      `${FILE}: steps.pick.capability: no agent has the role "legal" (roles: research, sales)`,
    ]);
    expect(problems(workflow(step('research')), FILE, {})).toEqual([
      `${FILE}: steps.research.agent: unknown agent "researcher" (no agents are configured)`,
    ]);
  });

  it('reports a fallback that names an unknown step or itself', () => {
    expect(
      problems(
        workflow(step('research', 'on_failure: "fallback:bakup"') + step('other', 'on_failure: "fallback:other"')),
      ),
    ).toEqual([
      `${FILE}: steps.research.on_failure: unknown step "bakup" (steps: research, other)`,
      `${FILE}: steps.other.on_failure: a step cannot be its own fallback`,
    ]);
  });

  it('reports a fallback that depends on its owner, directly or not', () => {
    expect(
      problems(workflow(step('research', 'on_failure: "fallback:backup"') + step('backup', 'depends_on: [research]'))),
    ).toEqual([
      `${FILE}: steps.backup.depends_on: backup is the fallback of research, so it cannot depend on research (directly or through other steps)`,
    ]);
    expect(
      problems(
        workflow(
          step('research', 'on_failure: "fallback:backup"') +
            step('mid', 'depends_on: [research]') +
            step('backup', 'depends_on: [mid]'),
        ),
      ),
    ).toEqual([
      `${FILE}: steps.backup.depends_on: backup is the fallback of research, so it cannot depend on research (directly or through other steps)`,
    ]);
  });

  it('reports an owner that depends on its own fallback', () => {
    expect(
      problems(workflow(step('backup') + step('research', 'depends_on: [backup], on_failure: "fallback:backup"'))),
    ).toEqual([
      `${FILE}: steps.research.on_failure: the fallback backup is one of research's own dependencies (directly or through other steps); a fallback runs only after its owner fails`,
    ]);
  });

  it('reports a step that is the fallback of two steps', () => {
    expect(
      problems(
        workflow(
          step('a', 'on_failure: "fallback:backup"') + step('b', 'on_failure: "fallback:backup"') + step('backup'),
        ),
      ),
    ).toEqual([
      `${FILE}: steps.b.on_failure: step "backup" is already the fallback of a; a step can be the fallback of one step only`,
    ]);
  });

  it('reports fallbacks that make an order impossible', () => {
    // a fails: fa runs before a's dependent da, but fa waits for db; b fails: fb runs
    // before db, but fb waits for da.
    const text = workflow(
      step('a', 'on_failure: "fallback:fa"') +
        step('b', 'on_failure: "fallback:fb"') +
        step('da', 'depends_on: [a]') +
        step('db', 'depends_on: [b]') +
        step('fa', 'depends_on: [db]') +
        step('fb', 'depends_on: [da]'),
    );
    expect(problems(text)).toEqual([
      `${FILE}: steps.da.on_failure: the steps cannot be ordered once fallbacks are counted (a fallback runs after its owner and before the owner's dependents): da -> fb -> db -> fa -> da`,
    ]);
  });

  it('reports templates that point nowhere, in input and promote', () => {
    const text = workflow(
      step('research', 'input: "${trigger.paylod}"') +
        step(
          'qualify',
          'depends_on: [research], input: { a: ["${steps.reserch.result}"] }, promote: "${steps.qualify.result.key}"',
        ) +
        step('later', 'input: "${steps.research.result}"'),
    );
    expect(problems(text)).toEqual([
      `${FILE}: steps.research.input: \${trigger.paylod}: expected trigger.payload (and fields under it) or trigger.source`,
      `${FILE}: steps.qualify.input: steps.reserch.result: unknown step "reserch" (steps: research, qualify, later)`,
      `${FILE}: steps.qualify.promote: steps.qualify.result.key: step "qualify" is not one of qualify's dependencies (a step cannot read its own state)`,
      `${FILE}: steps.later.input: steps.research.result: step "research" is not one of later's dependencies (add it to depends_on so that it runs before later)`,
    ]);
  });

  it('reports blackboard templates with invalid keys and promote keys that can never be valid', () => {
    expect(
      problems(workflow(step('research', 'input: "${blackboard.context//x}", promote: "bad key/${run.id}"'))),
    ).toEqual([
      `${FILE}: steps.research.input: \${blackboard.context//x}: invalid blackboard key "context//x": a key cannot contain an empty segment ("//" or a trailing "/")`,
      `${FILE}: steps.research.promote: not a valid blackboard key whatever its templates give: a key may only contain letters, digits and _ . / : - (found " ")`,
    ]);
  });

  it('reports conditions that do not parse or read steps they may not', () => {
    const text = workflow(
      step('research', `condition: "steps.research.result.score + 1 > 5"`) +
        step('qualify', 'depends_on: [research], condition: "process.exit()"') +
        step('later', `condition: "steps.research.status == 'done'"`),
    );
    expect(problems(text)).toEqual([
      `${FILE}: steps.research.condition: "+" is not allowed (conditions use == != < <= > >= in && || ! and parentheses) at column 29`,
      `${FILE}: steps.qualify.condition: calling a function is not allowed at column 1`,
      `${FILE}: steps.later.condition: steps.research.status: step "research" is not one of later's dependencies (add it to depends_on so that it runs before later)`,
    ]);
  });
});

describe('loadWorkflows', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  function project(files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), 'legion-workflows-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'config', 'workflows'), { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'config', 'workflows', name), text);
    return dir;
  }
  function loadProblems(dir: string): string[] {
    try {
      loadWorkflows(dir, AGENTS);
    } catch (err) {
      if (err instanceof ConfigError) return err.lines;
      throw err;
    }
    throw new Error('expected a ConfigError');
  }

  it('gives no workflows without a config/workflows directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'legion-workflows-'));
    dirs.push(dir);
    expect(loadWorkflows(dir, AGENTS).size).toBe(0);
  });

  it('loads every *.yaml and *.yml file and ignores other files', () => {
    const dir = project({
      'prospect_pipeline.yaml': ISSUE_EXAMPLE,
      'nightly.yml': 'name: nightly\nsteps:\n' + step('digest'),
      'README.md': '# not a workflow',
    });
    const loaded = loadWorkflows(dir, AGENTS);
    expect([...loaded.keys()]).toEqual(['nightly', 'prospect_pipeline']);
    expect(loaded.get('nightly')?.file).toBe('config/workflows/nightly.yml');
  });

  it('lists the problems of every file together, duplicate names included', () => {
    const dir = project({
      'a.yaml': 'name: a\nsteps:\n' + step('one', 'depends_on: [two]'),
      'b.yaml': 'name: b\nsteps: [\n',
      'c.yaml': 'name: c\nsteps:\n' + step('one'),
      'c.yml': 'name: c\nsteps:\n' + step('one'),
    });
    const lines = loadProblems(dir);
    expect(lines[0]).toBe('config/workflows/a.yaml: steps.one.depends_on: unknown step "two" (steps: one)');
    expect(lines[1]).toMatch(/^config\/workflows\/b\.yaml: /);
    expect(lines.at(-1)).toBe(
      'config/workflows/c.yml: name: the workflow "c" is also defined in config/workflows/c.yaml',
    );
  });

  it('rejects a config/workflows that is not a directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'legion-workflows-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'config'));
    writeFileSync(join(dir, 'config', 'workflows'), 'oops');
    expect(loadProblems(dir)).toEqual(['config/workflows: expected a directory of workflow files']);
  });
});
