// What the model is told in task mode. Invariants: every function is pure (same
// request, same text); the task section names the task type and id, shows the input
// in full (it is the job; cutting it would change the task) and, with an output
// schema, the schema itself and that the final answer must be JSON matching it.
import type { TaskRequestParsed } from '../../shared/wire/task.js';
import { REPEAT_LIMIT } from './guard.js';
import { PROMOTE_TOOL } from './promotions.js';

/** Appended to the agent's chat system prompt for a task run. */
export function taskSection(request: TaskRequestParsed): string {
  const lines = [
    '## Your current task (task mode)',
    '',
    'You are running a task, not chatting: nobody reads your intermediate messages, and your final answer ' +
      "(your last message without tool calls) is the task's result.",
    '',
    `Task type: ${request.task_type}`,
    `Task id: ${request.task_id}`,
    '',
    'Input:',
    fenced(request.input),
    '',
    `You have ${request.max_iterations} model calls to finish, answers that must be redone included; use your tools as needed. ` +
      `Calling the same tool with the same arguments ${REPEAT_LIMIT} times in a row stops the task as failed.`,
    `To ask for a value to be put on the shared blackboard, call ${PROMOTE_TOOL} with {key, value}; the mesh decides whether to write it.`,
    '',
  ];
  if (request.output_schema) {
    lines.push(
      'Your final answer must be one JSON value that matches this JSON Schema, and nothing else ' +
        '(a ```json fenced block is accepted). An answer that does not match is sent back to you with the errors.',
      '',
      fenced(request.output_schema),
    );
  } else {
    lines.push(
      'Your final answer is the result: give it as JSON when the task asks for structured data, otherwise as plain text.',
    );
  }
  return lines.join('\n');
}

/** The user message that starts the run. */
export function taskStartMessage(request: TaskRequestParsed): string {
  return `Carry out task ${request.task_id} (${request.task_type}) as described in your instructions, then give your final answer.`;
}

/** The user message that sends an invalid answer back. */
export function correctionMessage(problems: readonly string[]): string {
  return [
    'Your final answer does not match the required output schema:',
    ...problems.map((problem) => `- ${problem}`),
    'Answer again with only the corrected JSON value.',
  ].join('\n');
}

/** A few words of the task for memory recall: what the agent knows about it may help. */
export function recallQuery(request: TaskRequestParsed): string {
  const input = typeof request.input === 'string' ? request.input : JSON.stringify(request.input);
  return `${request.task_type} ${input}`.slice(0, 500);
}

function fenced(value: unknown): string {
  if (typeof value === 'string') return `\`\`\`\n${value}\n\`\`\``;
  return `\`\`\`json\n${JSON.stringify(value, null, 2)}\n\`\`\``;
}
