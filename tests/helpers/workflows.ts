// Helpers for workflow tests: a fake-provider responder that reads what a task step
// should do from its task type, so a workflow file scripts its own steps, and ways to
// wait for a run and count the model calls of each step.
//
// Task types (the first word is the verb):
//   answer <text>            the final answer is <text> (JSON text is used as JSON)
//   echo                     the final answer is the task's input, as the model saw it
//   fail                     every model call fails (an HTTP 400 from the provider)
//   fail_until <n> <text>    attempts before <n> fail as above; attempt <n> on answers <text>
//   sleep <seconds> <text>   runs `sleep <seconds>` with the exec tool, then answers <text>
//   promote <json>           asks (promote tool) for each {key, value} of the JSON list, then answers "promoted"
// Anything that is not a task (a chat turn) gets the directive responder.
import type { MeshClient } from '../../src/cli/mesh-client.js';
import { FINAL_RUN_STATUSES, type RunView } from '../../src/shared/wire/workflow.js';
import { directiveResponder, type FakeCall, type FakeStep } from '../fakes/fake-provider.js';
import { eventually } from './triggers.js';

export interface TaskCall {
  type: string;
  /** <run id>.<step id>.<attempt> */
  id: string;
  run: string;
  step: string;
  attempt: number;
  /** The input block of the task prompt, as the model saw it. */
  input: string;
}

/** What task a model call belongs to, read from the task prompt; null for a chat turn. */
export function taskOf(call: FakeCall): TaskCall | null {
  const system = call.messages.find((m) => m.role === 'system')?.content ?? '';
  const type = /^Task type: (.+)$/m.exec(system)?.[1];
  const id = /^Task id: (\S+)$/m.exec(system)?.[1];
  if (type === undefined || id === undefined) return null;
  const [run = '', step = '', attempt = '0'] = id.split('.');
  const input = /\nInput:\n```(?:json)?\n([\s\S]*?)\n```\n/.exec(system)?.[1] ?? '';
  return { type, id, run, step, attempt: Number(attempt), input };
}

const FAILURE: FakeStep = { error: { status: 400, message: 'scripted failure of this task step' } };

export function workflowResponder(call: FakeCall): FakeStep {
  const task = taskOf(call);
  if (!task) return directiveResponder(call);
  const afterTool = call.messages.at(-1)?.role === 'tool';
  const [verb = '', ...rest] = task.type.split(' ');
  const text = rest.join(' ');
  switch (verb) {
    case 'answer':
      return { text };
    case 'echo':
      return { text: task.input };
    case 'fail':
      return FAILURE;
    case 'fail_until': {
      const [until = '1', ...answer] = rest;
      return task.attempt < Number(until) ? FAILURE : { text: answer.join(' ') };
    }
    case 'sleep': {
      const [seconds = '1', ...answer] = rest;
      return afterTool
        ? { text: answer.join(' ') }
        : { tool_calls: [{ name: 'exec', arguments: { command: `sleep ${seconds}`, timeout_s: 120 } }] };
    }
    case 'promote': {
      if (afterTool) return { text: 'promoted' };
      const promotions = JSON.parse(text) as { key: string; value: unknown }[];
      return { tool_calls: promotions.map((arguments_) => ({ name: 'promote', arguments: arguments_ })) };
    }
    default:
      return { text: `unknown scripted task type: ${task.type}` };
  }
}

/** Model calls made for one step of one run (every attempt), in order. */
export function stepCalls(calls: FakeCall[], runId: string, stepId: string): TaskCall[] {
  return calls
    .map(taskOf)
    .filter((task): task is TaskCall => task !== null && task.run === runId && task.step === stepId);
}

/** Waits until the run is final and returns it. */
export async function finalRun(client: MeshClient, runId: string, timeoutMs = 20_000): Promise<RunView> {
  return eventually(
    async () => {
      const run = await client.workflowRun(runId);
      return FINAL_RUN_STATUSES.includes(run.status) ? run : null;
    },
    `run ${runId} to finish`,
    timeoutMs,
  );
}

export function stepOf(run: RunView, stepId: string): RunView['steps'][number] {
  const step = run.steps.find((s) => s.id === stepId);
  if (!step) throw new Error(`run ${run.id} has no step ${stepId}`);
  return step;
}
