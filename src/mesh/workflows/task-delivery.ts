// Hands a workflow step's lane item (kind 'task') to its agent in task mode and holds
// the lane until the task is final, so an agent does one thing at a time. Flow: ask
// the orchestrator whether the step still wants this attempt (a cancelled run or a
// superseded attempt is answered without touching the agent); POST /task (202 new,
// 200 known id: the agent's stored result, so a re-delivery after a mesh restart never
// runs a task twice); tell the orchestrator the step runs; long-poll GET /result until
// the result is final and hand it over. The same task id is posted again when the
// agent no longer knows it (404) or reports it `interrupted` (the agent restarted).
// A failed hand-over (agent unreachable, an error answer) throws, so the dispatcher's
// retry and release rules apply; an attempt the orchestrator gave up on meanwhile
// (timeout, cancel) is cancelled on the agent, and the lane moves on.
import { z } from 'zod';
import { LegionError } from '../../shared/errors.js';
import {
  TaskRequestSchema,
  isFinalTaskStatus,
  type TaskRequestParsed,
  type TaskResult,
} from '../../shared/wire/task.js';
import { cancelTask, fetchTaskResult, postTask, type AgentEndpoint } from '../runtime/agent-client.js';
import type { LaneItem } from '../lanes/store.js';

/** Seconds one GET /result waits for the task; the orchestrator's view is re-read between waits. */
export const RESULT_WAIT_S = 10;
/** Posts of one task id within one hand-over, before it counts as failed. */
const MAX_POSTS = 3;

export const TaskItemBodySchema = z.object({
  run_id: z.string(),
  step_id: z.string(),
  attempt: z.number().int().positive(),
  request: TaskRequestSchema,
});
export type TaskItemBody = z.infer<typeof TaskItemBodySchema>;

/** What the delivery needs from the orchestrator; none of these throws. */
export interface TaskSteps {
  /** The task while its step still wants this attempt; null once the run or step moved on. */
  wanted(body: TaskItemBody): TaskRequestParsed | null;
  /** The agent took the task: the step runs (its timeout counts from now). */
  handedOver(body: TaskItemBody): void;
  /** The task's final result. */
  finished(body: TaskItemBody, result: TaskResult): void;
}

function interrupted(result: TaskResult): boolean {
  return result.status === 'failed' && result.error?.code === 'interrupted';
}

/** Delivers one task lane item; resolves with the lane item's reply. */
export async function deliverTask(
  endpoint: AgentEndpoint,
  item: LaneItem,
  steps: TaskSteps,
  signal: AbortSignal,
): Promise<string> {
  const body = TaskItemBodySchema.parse(item.body);
  const taskId = body.request.task_id;
  let posts = 0;
  const post = async (request: TaskRequestParsed): Promise<TaskResult> => {
    posts += 1;
    if (posts > MAX_POSTS)
      throw new LegionError(
        'task_lost',
        `agent ${endpoint.agent} lost task ${taskId} ${MAX_POSTS} times in one hand-over`,
      );
    const { result } = await postTask(endpoint, request, signal);
    steps.handedOver(body);
    return result;
  };

  const first = steps.wanted(body);
  if (first === null) return `task ${taskId} is no longer needed; not handed over`;
  let result = await post(first);
  for (;;) {
    if (isFinalTaskStatus(result.status) && !interrupted(result)) {
      steps.finished(body, result);
      return `task ${taskId} ${result.status}`;
    }
    const request = steps.wanted(body);
    if (request === null) {
      await cancelTask(endpoint, taskId);
      return `task ${taskId} is no longer needed; cancelled on ${endpoint.agent}`;
    }
    if (interrupted(result)) {
      result = await post(request);
      continue;
    }
    const next = await fetchTaskResult(endpoint, taskId, RESULT_WAIT_S, signal);
    result = next ?? (await post(request));
  }
}
