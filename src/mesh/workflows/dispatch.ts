// Puts one attempt of a step on an agent's lane as a task item. The agent is the
// step's own, or for a capability step the agent with that role whose lane is least
// deep (ties: the first by name); the input is rendered from the run's scope; the task
// id is "<run id>.<step id>.<attempt>", the agent's idempotency key, so a re-delivery
// of the same attempt never runs it twice. Invariants: called inside the orchestrator's
// transaction; the step row, its `queued` transition and the lane item are written
// together, or (when the attempt cannot be queued: no such agent, a full lane, an
// input the task contract refuses) only the attempt number, and the reason is returned.
import { LegionError } from '../../shared/errors.js';
import { TaskRequestSchema } from '../../shared/wire/task.js';
import { formatZodIssues } from '../../shared/zod-format.js';
import type { LaneStore } from '../lanes/store.js';
import type { AgentRoles } from '../../shared/config/workflows/load.js';
import type { RunPlan } from './plan.js';
import type { WorkflowScope } from '../../shared/config/workflows/scope.js';
import type { RunRecord, WorkflowStore } from './store.js';
import type { TaskItemBody } from './task-delivery.js';
import { renderTemplate } from '../../shared/config/workflows/template.js';
import type { WorkflowStep } from '../../shared/config/workflow.js';

export interface DispatchDeps {
  store: WorkflowStore;
  lanes: LaneStore;
  agents: () => AgentRoles;
}

export type DispatchOutcome = { ok: true; agent: string } | { ok: false; error: string };

export function taskIdOf(runId: string, stepId: string, attempt: number): string {
  return `${runId}.${stepId}.${attempt}`;
}

/** The agent for the step, or why there is none. */
export function pickAgent(
  step: WorkflowStep,
  agents: AgentRoles,
  depth: (agent: string) => number,
): { agent: string } | { error: string } {
  if (step.agent !== undefined) {
    return Object.hasOwn(agents, step.agent)
      ? { agent: step.agent }
      : { error: `agent ${step.agent} is not configured in config/agents.yaml any more` };
  }
  const candidates = Object.keys(agents)
    .filter((name) => agents[name]?.role === step.capability)
    .sort();
  if (candidates.length === 0) return { error: `no configured agent has the role "${step.capability ?? ''}"` };
  let best = candidates[0] as string;
  let bestDepth = depth(best);
  for (const candidate of candidates.slice(1)) {
    const candidateDepth = depth(candidate);
    if (candidateDepth < bestDepth) {
      best = candidate;
      bestDepth = candidateDepth;
    }
  }
  return { agent: best };
}

export function dispatchStep(
  deps: DispatchDeps,
  run: RunRecord,
  plan: RunPlan,
  stepId: string,
  attempt: number,
  scope: WorkflowScope,
): DispatchOutcome {
  const { store, lanes } = deps;
  const planned = plan.steps.get(stepId);
  if (!planned) return { ok: false, error: `step ${stepId} is not in the run's definition` };
  const { step } = planned;
  const taskId = taskIdOf(run.id, stepId, attempt);
  store.updateStep(run.id, stepId, {
    attempt,
    task_id: taskId,
    lane_item: null,
    not_before: null,
    attempt_started_at: null,
  });
  const picked = pickAgent(step, deps.agents(), (agent) => {
    const { queued, inflight } = lanes.depth(agent);
    return queued + inflight;
  });
  if ('error' in picked) return { ok: false, error: picked.error };
  const parsed = TaskRequestSchema.safeParse({
    task_id: taskId,
    task_type: step.task_type,
    input: renderTemplate(step.input, scope),
    ...(step.output_schema === undefined ? {} : { output_schema: step.output_schema }),
    ...(step.max_iterations === undefined ? {} : { max_iterations: step.max_iterations }),
    trace: run.id,
  });
  if (!parsed.success)
    return { ok: false, error: formatZodIssues(`the task of step ${stepId}`, parsed.error).join('; ') };
  const body: TaskItemBody = { run_id: run.id, step_id: stepId, attempt, request: parsed.data };
  let laneItem: string;
  try {
    laneItem = lanes.enqueue(picked.agent, 'task', body, run.id);
  } catch (err) {
    if (err instanceof LegionError) return { ok: false, error: err.message };
    throw err;
  }
  store.updateStep(run.id, stepId, { status: 'queued', agent: picked.agent, lane_item: laneItem, error: null });
  store.record({
    run,
    step: stepId,
    status: 'queued',
    attempt,
    detail: `task ${taskId} on ${picked.agent}`,
    agent: picked.agent,
  });
  return { ok: true, agent: picked.agent };
}
