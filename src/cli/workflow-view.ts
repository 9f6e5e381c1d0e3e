// How workflows, runs and their transitions look in a terminal, and what the user typed
// for them (`--input`, the REPL's /workflow). Every function is pure but
// readWorkflowInput, which reads the @file it names; none of them talks to the mesh.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LegionError } from '../shared/errors.js';
import type { JsonValue } from '../shared/wire/blackboard.js';
import type { z } from 'zod';
import type { RunListSchema, RunView, StepView, Transition, WorkflowSummary } from '../shared/wire/workflow.js';
import { formatTable } from './render.js';

type RunSummary = z.output<typeof RunListSchema>['runs'][number];

const orDash = (value: string | null): string => value ?? '-';

function parseJson(text: string, what: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new LegionError(
      'invalid_input',
      `${what} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** `--input`: JSON text, or `@path` to a JSON file (relative to `cwd`). */
export function readWorkflowInput(text: string, cwd: string): JsonValue {
  if (!text.startsWith('@')) return parseJson(text, '--input');
  if (text.length === 1) throw new LegionError('invalid_input', '--input @ needs a file name: --input @payload.json');
  const path = resolve(cwd, text.slice(1));
  if (!existsSync(path)) throw new LegionError('invalid_input', `--input ${text}: no such file ${path}`);
  return parseJson(readFileSync(path, 'utf8'), `--input ${text} (${path})`);
}

/** What `/workflow …` in the REPL asks for. */
export type WorkflowReplRequest =
  | { action: 'list' }
  | { action: 'runs' }
  | { action: 'run'; name: string; input: JsonValue | undefined }
  | { action: 'status'; id: string }
  | { action: 'cancel'; id: string };

export const WORKFLOW_REPL_USAGE =
  'usage: /workflow list | run <name> [json input] | status <run id> | cancel <run id> | runs';

/** Parses what follows `/workflow`; the input of `run` is the rest of the line, as JSON. */
export function parseWorkflowReplArgs(text: string): WorkflowReplRequest | { problem: string } {
  const match = /^\s*(\S*)\s*(\S*)\s*([\s\S]*)$/.exec(text);
  const [, action = '', target = '', rest = ''] = match ?? [];
  const input = rest.trim();
  switch (action) {
    case '':
    case 'list':
      return target ? { problem: WORKFLOW_REPL_USAGE } : { action: 'list' };
    case 'runs':
      return target ? { problem: WORKFLOW_REPL_USAGE } : { action: 'runs' };
    case 'run': {
      if (!target) return { problem: '/workflow run needs a workflow name: /workflow run <name> [json input]' };
      if (!input) return { action: 'run', name: target, input: undefined };
      try {
        return { action: 'run', name: target, input: JSON.parse(input) as JsonValue };
      } catch (err) {
        return {
          problem: `/workflow run ${target}: the input is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
        };
      }
    }
    case 'status':
    case 'cancel':
      if (!target || input) return { problem: `/workflow ${action} needs one run id: /workflow ${action} <run id>` };
      return { action, id: target };
    default:
      return { problem: WORKFLOW_REPL_USAGE };
  }
}

export function formatWorkflows(workflows: WorkflowSummary[]): string {
  if (workflows.length === 0) return 'no workflows (add one as config/workflows/<name>.yaml)';
  return formatTable([
    ['NAME', 'TRIGGER', 'STEPS', 'FILE', 'DESCRIPTION'],
    ...workflows.map((w) => [w.name, w.trigger, w.steps.join(', '), w.file, orDash(w.description)]),
  ]);
}

export function formatRuns(runs: RunSummary[]): string {
  if (runs.length === 0) return 'no workflow runs yet (start one with `legion workflow run <name>`)';
  return formatTable([
    ['RUN', 'WORKFLOW', 'STATUS', 'TRIGGER', 'STARTED', 'FINISHED', 'ERROR'],
    ...runs.map((r) => [r.id, r.workflow, r.status, r.trigger, r.created_at, orDash(r.finished_at), orDash(r.error)]),
  ]);
}

/** Local wall-clock time with milliseconds, so steps that overlap visibly do. */
export function clockTime(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return `${at.toTimeString().slice(0, 8)}.${String(at.getMilliseconds()).padStart(3, '0')}`;
}

/** Column widths of transition lines, so a run's lines align. */
export interface TransitionWidths {
  step: number;
  agent: number;
}

/** One line per transition: time, step (or "run"), status, agent, attempt, detail. */
export function formatTransition(transition: Transition, agent: string | null, widths: TransitionWidths): string {
  const detail = transition.detail ? `  ${transition.detail.replace(/\s+/g, ' ')}` : '';
  const time = clockTime(transition.at);
  if (transition.step === null)
    return `${time}  ${'run'.padEnd(widths.step)}  ${transition.status.padEnd(9)}${detail}`.trimEnd();
  return `${time}  ${transition.step.padEnd(widths.step)}  ${transition.status.padEnd(9)}  ${orDash(agent).padEnd(widths.agent)}  attempt ${transition.attempt}${detail}`;
}

function why(step: StepView): string {
  return [step.reason, step.error].filter((part): part is string => part !== null && part !== '').join(': ') || '-';
}

function indent(text: string): string {
  return text.replace(/^/gm, '  ');
}

/** Each finished step's result, pretty JSON under its id. */
export function formatResults(run: RunView): string {
  const withResults = run.steps.filter((step) => step.result !== null);
  if (withResults.length === 0) return 'results: none';
  return [
    'results:',
    ...withResults.map((step) => `  ${step.id}:\n${indent(indent(JSON.stringify(step.result, null, 2)))}`),
  ].join('\n');
}

/** The run's outcome in one line: status, and the error of a run that did not succeed. */
export function formatOutcome(run: RunView): string {
  return `run ${run.id} (${run.workflow}) ${run.status}${run.error ? `: ${run.error}` : ''}`;
}

/** `legion workflow status`: the run, a table of its steps, then the results. */
export function formatRun(run: RunView): string {
  const header = [
    formatOutcome(run),
    `trigger ${run.trigger}, started ${run.created_at}, finished ${orDash(run.finished_at)}`,
    `input: ${JSON.stringify(run.input)}`,
  ];
  const steps = formatTable([
    ['STEP', 'STATUS', 'AGENT', 'ATTEMPT', 'REASON / ERROR'],
    ...run.steps.map((step) => [step.id, step.status, orDash(step.agent), String(step.attempt), why(step)]),
  ]);
  return [...header, '', steps, '', formatResults(run)].join('\n');
}
