// One task run: the chat loop (runChatTurn, with its context manager and tools) in a
// session of the task's own, bounded by the iteration budget and the loop guard, with
// the final answer judged against the output schema and sent back with the errors
// while the budget lasts. Invariants: runTask never throws: every ending is an outcome
// carrying the usage of every model call made, compaction included; once the signal
// is aborted the outcome is `aborted`, whatever error the abort surfaced as; the
// promotions the model asked for are reported only with `done`.
import { errorBody, type ErrorCode } from '../../shared/errors.js';
import type { AgentRuntimeConfig } from '../../shared/wire/agent.js';
import type { ChatEvent } from '../../shared/wire/chat.js';
import type { Usage } from '../../shared/wire/llm.js';
import type { TaskPromotion, TaskRequestParsed } from '../../shared/wire/task.js';
import type { TurnLogger } from '../context/compactor.js';
import { runChatTurn, type ChatSession } from '../loop.js';
import type { LlmClient } from '../mesh-client.js';
import type { Tool, ToolContext } from '../tools/registry.js';
import { TaskGuard, type AnswerDecision } from './guard.js';
import { judgeAnswer, type Json, type OutputValidator } from './output.js';
import { Promotions } from './promotions.js';
import { correctionMessage, taskSection, taskStartMessage } from './prompt.js';

export interface TaskRunInput {
  request: TaskRequestParsed;
  /** The compiled output_schema, or null when the task has none. */
  validator: OutputValidator | null;
  llm: LlmClient;
  tools: readonly Tool[];
  toolContext: Omit<ToolContext, 'signal'>;
  config: AgentRuntimeConfig;
  /** The agent's chat system prompt; the task section is appended to it. */
  systemPrompt: string;
  signal: AbortSignal;
  logger: TurnLogger;
}

export type TaskError = { code: ErrorCode; message: string };

type TaskEnding =
  | { status: 'done'; output: Json; promotions: TaskPromotion[] }
  | { status: 'failed'; error: TaskError }
  | { status: 'aborted' };

export type TaskOutcome = TaskEnding & { usage: Usage; iterations: number };

/** Thrown from inside the chat loop to end the run at a bound. */
class TaskStop extends Error {
  constructor(readonly error: TaskError) {
    super(error.message);
  }
}

export async function runTask(input: TaskRunInput): Promise<TaskOutcome> {
  const { request, signal, logger } = input;
  const usage: Usage = { prompt_tokens: 0, completion_tokens: 0 };
  // Counted here rather than from the turn's done event: a turn that ends at a bound
  // or in an error has no done event, and compaction calls cost tokens too.
  const llm: LlmClient = {
    llmChat: async (chatRequest, options) => {
      const response = await input.llm.llmChat(chatRequest, options);
      usage.prompt_tokens += response.usage.prompt_tokens;
      usage.completion_tokens += response.usage.completion_tokens;
      return response;
    },
  };
  const guard = new TaskGuard(request.max_iterations);
  const promotions = new Promotions();
  const session: ChatSession = { id: `task_${request.task_id}`, messages: [], usageMark: null };
  const systemPrompt = `${input.systemPrompt}\n\n${taskSection(request)}`;
  const end = (ending: TaskEnding): TaskOutcome => ({ ...ending, usage: { ...usage }, iterations: guard.iterations });

  let userMessage = taskStartMessage(request);
  try {
    for (;;) {
      const done = await runChatTurn({
        llm,
        tools: [...input.tools, promotions.tool],
        toolContext: input.toolContext,
        // The task's budget bounds the run; the chat round limit must never end it first.
        config: { ...input.config, max_tool_rounds: request.max_iterations },
        systemPrompt,
        session,
        userMessage,
        emit: (event) => logToolActivity(logger, event),
        signal,
        logger,
        inspectAnswer: (response) => {
          const decision = guard.inspect(response);
          if (decision.action !== 'continue') throw new TaskStop(describeStop(decision));
        },
      });
      const verdict = judgeAnswer(done.reply, input.validator);
      if (verdict.ok) return end({ status: 'done', output: verdict.output, promotions: promotions.list() });
      if (guard.exhausted) {
        const message = `the final answer still did not match the output schema after ${guard.iterations} model calls (max_iterations): ${verdict.problems.join('; ')}`;
        return end({ status: 'failed', error: { code: 'invalid_output', message } });
      }
      logger.info(
        { event: 'task_answer_invalid', task: request.task_id, problems: verdict.problems },
        'the answer does not match the output schema; sending it back',
      );
      userMessage = correctionMessage(verdict.problems);
    }
  } catch (err) {
    if (signal.aborted) return end({ status: 'aborted' });
    if (err instanceof TaskStop) return end({ status: 'failed', error: err.error });
    const { code, message } = errorBody(err);
    return end({ status: 'failed', error: { code, message } });
  }
}

const ARGUMENTS_PREVIEW_CHARS = 200;

function describeStop(decision: Exclude<AnswerDecision, { action: 'continue' }>): TaskError {
  if (decision.action === 'iteration_limit') {
    return {
      code: 'iteration_limit',
      message: `the task used all ${decision.iterations} model calls (max_iterations) and the model still wanted to call tools; raise max_iterations or narrow the task`,
    };
  }
  const { call, repeats } = decision;
  const args =
    call.arguments.length > ARGUMENTS_PREVIEW_CHARS
      ? `${call.arguments.slice(0, ARGUMENTS_PREVIEW_CHARS)}…`
      : call.arguments;
  return {
    code: 'loop_guard',
    message: `stopped by the loop guard: the model called ${call.name} with the same arguments ${repeats} times in a row (${args}); the task looks stuck`,
  };
}

/** Nobody watches a task's stream; its tool activity goes to the debug log instead. */
function logToolActivity(logger: TurnLogger, event: ChatEvent): void {
  if (event.type === 'tool_call')
    logger.debug({ event: 'task_tool_call', tool: event.name, id: event.id }, 'task tool call');
  else if (event.type === 'tool_result' && !event.ok)
    logger.debug({ event: 'task_tool_failed', tool: event.name, id: event.id }, 'task tool call failed');
}
