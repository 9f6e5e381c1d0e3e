// Loads config/workflows/*.yaml and checks everything before anything runs: YAML, the
// shape (src/shared/config/workflow.ts), the file's name, step ids, dependencies and
// cycles, agents and capabilities, fallbacks, templates and conditions. Invariants: it
// throws only ConfigError, whose lines list every problem found, each naming the file
// and, for a step, the step ("config/workflows/x.yaml: steps.qualify.agent: ...");
// a workflow it returns is valid, so the engine never meets a bad reference at run time.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../project.js';
import {
  WORKFLOWS_DIR,
  WorkflowFileSchema,
  type WorkflowFile,
  type WorkflowStep,
  type WorkflowTrigger,
} from '../workflow.js';
import type { WorkflowSummary } from '../../wire/workflow.js';
import { formatZodIssues } from '../../zod-format.js';
import { type Condition, ConditionError, conditionPaths, parseCondition } from './condition.js';
import { ancestors, dependents, topologicalOrder, type StepGraph } from './graph.js';
import { promoteKeyProblem, TemplateError, templatePaths } from './template.js';
import { formatScopePath } from './scope.js';

export interface LoadedStep extends WorkflowStep {
  condition_parsed: Condition | null;
  /** The step whose on_failure names this one (fallback:<id>), or null. */
  fallback_for: string | null;
}

export interface LoadedWorkflow {
  name: string;
  /** Relative to the project: config/workflows/<name>.yaml */
  file: string;
  definition: WorkflowFile;
  steps: Map<string, LoadedStep>;
  /** A topological order: each step after what it waits for, a fallback after its owner
   *  and before the owner's dependents; file order among steps that are ready together. */
  order: string[];
}

export type AgentRoles = Record<string, { role: string }>;

/** "manual", "topic:<topic>" or "webhook:<hook>". */
export function workflowTriggerLabel(trigger: WorkflowTrigger): string {
  if (trigger === 'manual') return 'manual';
  return 'topic' in trigger ? `topic:${trigger.topic}` : `webhook:${trigger.webhook}`;
}

export function summarizeWorkflow(workflow: LoadedWorkflow): WorkflowSummary {
  return {
    name: workflow.name,
    description: workflow.definition.description ?? null,
    trigger: workflowTriggerLabel(workflow.definition.trigger),
    steps: workflow.definition.steps.map((step) => step.id),
    file: workflow.file,
  };
}

function fallbackTarget(step: WorkflowStep): string | null {
  return step.on_failure.startsWith('fallback:') ? step.on_failure.slice('fallback:'.length) : null;
}

function listed(names: Iterable<string>, what: string): string {
  const all = [...new Set(names)].sort();
  return all.length > 0 ? `${what}: ${all.join(', ')}` : `no ${what} are configured`;
}

/** Zod paths say steps.<index>; a user knows steps by id, so name it when it is there. */
function shapeProblems(file: string, raw: unknown, error: z.ZodError): string[] {
  const rawSteps =
    typeof raw === 'object' && raw !== null && 'steps' in raw && Array.isArray(raw.steps)
      ? (raw.steps as unknown[])
      : [];
  const issues = error.issues.map((issue) => {
    const [head, index, ...rest] = issue.path;
    if (head !== 'steps' || typeof index !== 'number') return issue;
    const step = rawSteps[index];
    const id =
      typeof step === 'object' && step !== null && 'id' in step && typeof step.id === 'string' && step.id !== ''
        ? step.id
        : null;
    return id === null ? issue : { ...issue, path: ['steps', id, ...rest] };
  });
  return formatZodIssues(file, new z.ZodError(issues));
}

/** Where a step's value is read from, for messages and checks. */
interface Reader {
  step: string;
  field: 'input' | 'promote' | 'condition';
  paths: string[][];
}

/** Parses and checks one workflow file; `file` is its project-relative path. */
export function parseWorkflowFile(file: string, text: string, agents: AgentRoles): LoadedWorkflow {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) throw new ConfigError(doc.errors.map((e) => `${file}: ${e.message.split('\n')[0]}`));
  const raw: unknown = doc.toJS() ?? {};
  const parsed = WorkflowFileSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(shapeProblems(file, raw, parsed.error));
  const definition = parsed.data;
  const problems: string[] = [];
  const at = (step: string, field: string, what: string) => problems.push(`${file}: steps.${step}.${field}: ${what}`);

  const stem = basename(file, extname(file));
  if (stem !== definition.name) {
    problems.push(
      `${file}: name: the workflow is named "${definition.name}" but its file is ${basename(file)}; name the file ${definition.name}.yaml or the workflow ${stem}`,
    );
  }

  // The first step with an id counts; a later one with the same id is reported.
  const byId = new Map<string, WorkflowStep>();
  definition.steps.forEach((step, index) => {
    if (byId.has(step.id)) {
      const first = definition.steps.findIndex((s) => s.id === step.id) + 1;
      at(step.id, 'id', `duplicate step id (steps ${first} and ${index + 1} of the file both use it)`);
    } else {
      byId.set(step.id, step);
    }
  });
  const ids = [...byId.keys()];

  const roles = Object.values(agents).map((entry) => entry.role);
  const owners = new Map<string, string>();
  const readers: Reader[] = [];
  const conditions = new Map<string, Condition>();
  for (const step of byId.values()) {
    if (step.agent !== undefined && !Object.hasOwn(agents, step.agent)) {
      at(step.id, 'agent', `unknown agent "${step.agent}" (${listed(Object.keys(agents), 'agents')})`);
    }
    if (step.capability !== undefined && !roles.includes(step.capability)) {
      at(step.id, 'capability', `no agent has the role "${step.capability}" (${listed(roles, 'roles')})`);
    }
    for (const dep of step.depends_on) {
      if (dep === step.id) at(step.id, 'depends_on', 'a step cannot depend on itself');
      else if (!byId.has(dep)) at(step.id, 'depends_on', `unknown step "${dep}" (steps: ${ids.join(', ')})`);
    }
    const target = fallbackTarget(step);
    if (target !== null) {
      if (target === step.id) at(step.id, 'on_failure', 'a step cannot be its own fallback');
      else if (!byId.has(target)) at(step.id, 'on_failure', `unknown step "${target}" (steps: ${ids.join(', ')})`);
      else if (owners.has(target))
        at(
          step.id,
          'on_failure',
          `step "${target}" is already the fallback of ${owners.get(target)}; a step can be the fallback of one step only`,
        );
      else owners.set(target, step.id);
    }
    if (step.condition !== undefined) {
      try {
        const condition = parseCondition(step.condition);
        conditions.set(step.id, condition);
        readers.push({ step: step.id, field: 'condition', paths: conditionPaths(condition) });
      } catch (err) {
        if (!(err instanceof ConditionError)) throw err;
        at(step.id, 'condition', err.message);
      }
    }
    try {
      readers.push({ step: step.id, field: 'input', paths: templatePaths(step.input) });
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      at(step.id, 'input', err.message);
    }
    if (step.promote !== undefined) {
      try {
        readers.push({ step: step.id, field: 'promote', paths: templatePaths(step.promote) });
        const problem = promoteKeyProblem(step.promote);
        if (problem) at(step.id, 'promote', `not a valid blackboard key whatever its templates give: ${problem}`);
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        at(step.id, 'promote', err.message);
      }
    }
  }

  const graph: StepGraph = {
    nodes: ids,
    waitsFor: new Map(
      ids.map((id) => [id, (byId.get(id) as WorkflowStep).depends_on.filter((dep) => dep !== id && byId.has(dep))]),
    ),
  };
  const explicit = topologicalOrder(graph);
  if ('cycles' in explicit) {
    for (const cycle of explicit.cycles) at(cycle[0] as string, 'depends_on', `cycle: ${cycle.join(' -> ')}`);
  }

  for (const [fallback, owner] of owners) {
    if (ancestors(graph, fallback).has(owner)) {
      at(
        fallback,
        'depends_on',
        `${fallback} is the fallback of ${owner}, so it cannot depend on ${owner} (directly or through other steps)`,
      );
    }
    if (ancestors(graph, owner).has(fallback)) {
      at(
        owner,
        'on_failure',
        `the fallback ${fallback} is one of ${owner}'s own dependencies (directly or through other steps); a fallback runs only after its owner fails`,
      );
    }
  }

  // What a step may read: what it waits for (directly or not), a fallback's owner and
  // what the owner may read, and the fallback of any of those (it ran, if at all, before).
  const fallbackOf = new Map([...owners].map(([fallback, owner]) => [owner, fallback]));
  const readable = (id: string): Set<string> => {
    const out = new Set<string>();
    const todo = [id];
    while (todo.length > 0) {
      const current = todo.pop() as string;
      const owner = owners.get(current);
      const fallback = current === id ? undefined : fallbackOf.get(current);
      for (const next of [...ancestors(graph, current), owner, fallback]) {
        if (next === undefined || next === id || out.has(next)) continue;
        out.add(next);
        todo.push(next);
      }
    }
    return out;
  };
  for (const reader of readers) {
    const allowed = readable(reader.step);
    const reported = new Set<string>();
    for (const path of reader.paths) {
      const [root, id] = path;
      if (root !== 'steps' || id === undefined || reported.has(id)) continue;
      const shown = formatScopePath(path);
      if (!byId.has(id)) {
        at(reader.step, reader.field, `${shown}: unknown step "${id}" (steps: ${ids.join(', ')})`);
        reported.add(id);
      } else if (!allowed.has(id)) {
        const why =
          id === reader.step
            ? 'a step cannot read its own state'
            : `add it to depends_on so that it runs before ${reader.step}`;
        at(reader.step, reader.field, `${shown}: step "${id}" is not one of ${reader.step}'s dependencies (${why})`);
        reported.add(id);
      }
    }
  }

  let order: string[] = [];
  if (problems.length === 0) {
    // A fallback runs after its owner and before the owner's dependents, which wait for it.
    const direct = dependents(graph);
    const waitsFor = new Map([...graph.waitsFor].map(([id, deps]) => [id, [...deps]]));
    for (const [fallback, owner] of owners) {
      waitsFor.get(fallback)?.push(owner);
      for (const dependent of direct.get(owner) ?? []) waitsFor.get(dependent)?.push(fallback);
    }
    const full = topologicalOrder({ nodes: ids, waitsFor });
    if ('cycles' in full) {
      for (const cycle of full.cycles) {
        at(
          cycle[0] as string,
          'on_failure',
          `the steps cannot be ordered once fallbacks are counted (a fallback runs after its owner and before the owner's dependents): ${cycle.join(' -> ')}`,
        );
      }
    } else {
      order = full.order;
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const steps = new Map<string, LoadedStep>();
  for (const id of ids) {
    const step = byId.get(id) as WorkflowStep;
    steps.set(id, { ...step, condition_parsed: conditions.get(id) ?? null, fallback_for: owners.get(id) ?? null });
  }
  return { name: definition.name, file, definition, steps, order };
}

const WORKFLOW_EXTENSIONS = ['.yaml', '.yml'];

/** Every workflow of the project by name; no config/workflows directory is no workflows.
 *  Files other than *.yaml and *.yml (a README, say) are not read. */
export function loadWorkflows(projectDir: string, agents: AgentRoles): Map<string, LoadedWorkflow> {
  const dir = join(projectDir, WORKFLOWS_DIR);
  const workflows = new Map<string, LoadedWorkflow>();
  if (!existsSync(dir)) return workflows;
  if (!statSync(dir).isDirectory()) throw new ConfigError([`${WORKFLOWS_DIR}: expected a directory of workflow files`]);
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && WORKFLOW_EXTENSIONS.includes(extname(entry.name)))
    .map((entry) => entry.name)
    .sort();
  const problems: string[] = [];
  for (const name of files) {
    const file = `${WORKFLOWS_DIR}/${name}`;
    try {
      const workflow = parseWorkflowFile(file, readFileSync(join(dir, name), 'utf8'), agents);
      const other = workflows.get(workflow.name);
      if (other) problems.push(`${file}: name: the workflow "${workflow.name}" is also defined in ${other.file}`);
      else workflows.set(workflow.name, workflow);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.lines);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return workflows;
}
