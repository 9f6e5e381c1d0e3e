// legion workflow list|run|status|runs|cancel, and the REPL's /workflow, over the admin
// API. `run --follow` polls the run's transitions (after the last seq seen) and prints
// each as one line as it happens, so parallel steps visibly overlap; stopping the
// follow (Ctrl-C) never cancels the run. `list` works without a running mesh: it then
// loads config/workflows itself, so files can be checked before the fleet starts.
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { loadProject } from '../../shared/config/project.js';
import { FINAL_RUN_STATUSES, type RunView, type WorkflowSummary } from '../../shared/wire/workflow.js';
import { loadWorkflows, summarizeWorkflow } from '../../shared/config/workflows/load.js';
import { MeshClient } from '../mesh-client.js';
import { commandAction, projectDir } from '../run.js';
import {
  formatOutcome,
  formatResults,
  formatRun,
  formatRuns,
  formatTransition,
  formatWorkflows,
  readWorkflowInput,
  type WorkflowReplRequest,
} from '../workflow-view.js';

/** How often `--follow` asks for new transitions. */
export const FOLLOW_POLL_MS = 150;

function count(text: string): number {
  if (!/^\d{1,4}$/.test(text) || Number(text) < 1)
    throw new InvalidArgumentError(`expected a number of runs from 1 to 9999, got "${text}"`);
  return Number(text);
}

/**
 * Prints each transition of `run` as it happens, until the run is final; resolves with
 * the final run, or null when `signal` stopped the following first. A step's agent is
 * read from the run when it is dispatched (a capability step picks it then).
 */
export async function followRun(
  client: MeshClient,
  run: RunView,
  write: (text: string) => void,
  signal: AbortSignal,
): Promise<RunView | null> {
  const agents = new Map(run.steps.map((step) => [step.id, step.agent]));
  const widths = { step: Math.max(3, ...run.steps.map((step) => step.id.length)), agent: 1 };
  let after = 0;
  try {
    for (;;) {
      const page = await client.workflowTransitions(run.id, after, signal);
      if (
        page.transitions.some(
          (t) => t.step !== null && (t.status === 'queued' || t.status === 'running' || !agents.get(t.step)),
        )
      ) {
        for (const step of (await client.workflowRun(run.id)).steps) agents.set(step.id, step.agent);
      }
      widths.agent = Math.max(widths.agent, ...[...agents.values()].map((agent) => agent?.length ?? 1));
      for (const transition of page.transitions) {
        write(
          `${formatTransition(transition, transition.step === null ? null : (agents.get(transition.step) ?? null), widths)}\n`,
        );
        after = transition.seq;
      }
      // A final status with nothing left to read: every transition has been printed.
      if (FINAL_RUN_STATUSES.includes(page.run_status) && page.transitions.length === 0) break;
      if (page.transitions.length === 0) await sleep(FOLLOW_POLL_MS, undefined, { signal });
    }
  } catch (err) {
    if (signal.aborted) return null;
    throw err;
  }
  return client.workflowRun(run.id);
}

function finalReport(run: RunView): string {
  return `${formatOutcome(run)}\n${formatResults(run)}\n`;
}

/** The local view of config/workflows, loaded and checked as the mesh would at start. */
function localWorkflows(dir: string): WorkflowSummary[] {
  const project = loadProject(dir);
  return [...loadWorkflows(project.dir, project.agents).values()].map(summarizeWorkflow);
}

export function registerWorkflow(program: Command): void {
  const workflow = program
    .command('workflow')
    .description('deterministic YAML workflows (config/workflows/*.yaml): list, run, follow, status, cancel');

  workflow
    .command('list')
    .description('workflows with their trigger and steps; without a running fleet, checks config/workflows locally')
    .option('--json', 'print the list as JSON')
    .action(
      commandAction(async (options: { json?: boolean }) => {
        const dir = projectDir();
        const client = MeshClient.find(dir);
        let workflows: WorkflowSummary[];
        if (client && (await client.alive())) {
          workflows = (await client.listWorkflows()).workflows;
        } else {
          workflows = localWorkflows(dir);
          process.stderr.write(
            'the fleet is not running: these are the files in config/workflows, loaded and checked locally\n',
          );
        }
        process.stdout.write(`${options.json ? JSON.stringify(workflows, null, 2) : formatWorkflows(workflows)}\n`);
      }),
    );

  workflow
    .command('run <name>')
    .description(
      'start a run; prints its run id (last line). --follow prints each step as it changes, then the results',
    )
    .option('--input <json|@file>', "the run's trigger.payload: JSON text, or @path of a JSON file")
    .option(
      '--follow',
      'print transitions as they happen and the final results; exit 0 when the run is done, 1 otherwise',
    )
    .action(
      commandAction(async (name: string, options: { input?: string; follow?: boolean }) => {
        const input = options.input === undefined ? undefined : readWorkflowInput(options.input, projectDir());
        const client = MeshClient.connect(projectDir());
        const run = await client.startWorkflowRun(name, input);
        if (!options.follow) {
          process.stdout.write(
            `started run of ${run.workflow}; see it with \`legion workflow status ${run.id}\`\n${run.id}\n`,
          );
          return;
        }
        process.stdout.write(`run ${run.id} of ${run.workflow} started (Ctrl-C stops following; the run goes on)\n`);
        const following = new AbortController();
        const stop = () => following.abort();
        process.once('SIGINT', stop);
        try {
          const final = await followRun(client, run, (text) => process.stdout.write(text), following.signal);
          if (final === null) {
            process.stderr.write(
              `\nstopped following run ${run.id}; it keeps running. Cancel it with \`legion workflow cancel ${run.id}\`\n`,
            );
            process.exitCode = 130;
            return;
          }
          process.stdout.write(finalReport(final));
          if (final.status !== 'done') process.exitCode = 1;
        } finally {
          process.off('SIGINT', stop);
        }
      }),
    );

  workflow
    .command('status <run-id>')
    .description("a run's status, its steps (status, agent, attempt, reason or error) and their results")
    .option('--json', 'print the run as JSON')
    .action(
      commandAction(async (id: string, options: { json?: boolean }) => {
        const run = await MeshClient.connect(projectDir()).workflowRun(id);
        process.stdout.write(`${options.json ? JSON.stringify(run, null, 2) : formatRun(run)}\n`);
      }),
    );

  workflow
    .command('runs')
    .description('recent runs, newest first: id, workflow, status, trigger, times, error')
    .option('-n, --lines <n>', 'how many runs', count, 20)
    .option('--json', 'print the runs as JSON')
    .action(
      commandAction(async (options: { lines: number; json?: boolean }) => {
        const { runs } = await MeshClient.connect(projectDir()).listWorkflowRuns(Math.min(options.lines, 200));
        process.stdout.write(`${options.json ? JSON.stringify(runs, null, 2) : formatRuns(runs)}\n`);
      }),
    );

  workflow
    .command('cancel <run-id>')
    .description('cancel a run: its running steps are cancelled, nothing else starts')
    .action(
      commandAction(async (id: string) => {
        const run = await MeshClient.connect(projectDir()).cancelWorkflowRun(id);
        process.stdout.write(`${formatOutcome(run)}\n`);
      }),
    );
}

/**
 * The REPL's /workflow. `run` follows the run inline like --follow; `signal` (the
 * REPL's Ctrl-C) stops the following, never the run.
 */
export async function workflowReplCommand(
  client: MeshClient,
  request: WorkflowReplRequest,
  write: (text: string) => void,
  signal: AbortSignal,
): Promise<void> {
  switch (request.action) {
    case 'list':
      write(`${formatWorkflows((await client.listWorkflows()).workflows)}\n`);
      return;
    case 'runs':
      write(`${formatRuns((await client.listWorkflowRuns(20)).runs)}\n`);
      return;
    case 'status':
      write(`${formatRun(await client.workflowRun(request.id))}\n`);
      return;
    case 'cancel':
      write(`${formatOutcome(await client.cancelWorkflowRun(request.id))}\n`);
      return;
    case 'run': {
      const run = await client.startWorkflowRun(request.name, request.input);
      write(`run ${run.id} of ${run.workflow} started (Ctrl-C stops following; the run goes on)\n`);
      const final = await followRun(client, run, write, signal);
      write(
        final
          ? finalReport(final)
          : `run ${run.id} keeps running; /workflow status ${run.id} shows it, /workflow cancel ${run.id} stops it\n`,
      );
      return;
    }
  }
}
