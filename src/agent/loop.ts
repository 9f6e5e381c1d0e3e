// One chat turn: the model answers, asks for tools, sees their results, and answers
// again until it stops asking or the round limit is reached.
// Invariants: a turn is atomic for the session — its messages are committed to
// session.messages only when the turn completes, so a failed or cancelled turn leaves
// no half-finished exchange (an assistant tool call without its result) behind; the one
// exception is a compaction, which hands the session its compacted history of finished
// turns at once (see TurnConversation); every tool call gets a tool_call event, then a
// tool_result event, then a tool message with the same id; at most
// config.max_tool_rounds rounds of tools run. Before every model call the context is
// checked against 70% of config.context_window and compacted (facts to MEMORY.md
// first); a call the provider refuses as too long is compacted harder and retried
// once. A failed tool call is appended to learnings/errors.md; failing to record it
// never fails the turn.
import type { ChatEvent } from '../shared/wire/chat.js';
import type { AgentRuntimeConfig } from '../shared/wire/agent.js';
import type { ImagePart, LlmChatResponse, Message, ToolCall, Usage } from '../shared/wire/llm.js';
import { LegionError } from '../shared/errors.js';
import { KEEP_LAST_ON_OVERFLOW, chooseCompaction, decideCompaction, isContextOverflow } from './context/compaction.js';
import { Compactor, type TurnLogger } from './context/compactor.js';
import { TurnConversation, type ConversationSession } from './context/conversation.js';
import { estimateTokens } from './context/tokens.js';
import { recordToolError } from './learnings/store.js';
import type { LlmClient } from './mesh-client.js';
import { runToolCall, toolDefs, type Tool, type ToolContext, type ToolResult } from './tools/registry.js';

export interface ChatSession extends ConversationSession {
  id: string;
}

export type DoneEvent = Extract<ChatEvent, { type: 'done' }>;

export interface ChatTurnInput {
  llm: LlmClient;
  /** Read again before every model call: reload_skills changes the list in place, mid-turn. */
  tools: readonly Tool[];
  /** Where tools run; its signal is replaced by the turn's own. */
  toolContext: Omit<ToolContext, 'signal'>;
  config: AgentRuntimeConfig;
  systemPrompt: string;
  session: ChatSession;
  userMessage: string;
  emit: (event: ChatEvent) => void;
  signal: AbortSignal;
  /** Compactions and failures to record learnings are logged here, not shown to the user. */
  logger: TurnLogger;
  /** Sees each answer of the model before any of its tool calls runs; throwing ends the
   *  turn with that error. Task mode uses it for its iteration budget and loop guard. */
  inspectAnswer?: (response: LlmChatResponse) => void;
}

export async function runChatTurn(input: ChatTurnInput): Promise<DoneEvent> {
  const { llm, tools, config, emit, signal, logger } = input;
  const definitions = toolDefs(tools);
  const toolContext: ToolContext = { ...input.toolContext, signal };
  const usage: Usage = { prompt_tokens: 0, completion_tokens: 0 };
  const addUsage = (more: Usage): void => {
    usage.prompt_tokens += more.prompt_tokens;
    usage.completion_tokens += more.completion_tokens;
  };
  const conversation = new TurnConversation(input.session, { role: 'user', content: input.userMessage });
  // Every request repeats the system prompt and the tool definitions.
  const fixedTokens = estimateTokens(input.systemPrompt) + estimateTokens(JSON.stringify(definitions));
  const compactor = new Compactor({
    llm,
    model: config.model,
    window: config.context_window,
    workspaceDir: toolContext.workspaceDir,
    logger,
    trace: toolContext.trace,
    signal,
    onUsage: addUsage,
  });

  // Pictures from the last round of tools (screenshots): sent with the next call only, so
  // the session (and every later call) carries just the tool's text.
  let pictures = new Map<string, ImagePart[]>();
  const withPictures = (messages: readonly Message[]): Message[] =>
    pictures.size === 0
      ? [...messages]
      : messages.map((m) =>
          m.role === 'tool' && pictures.has(m.tool_call_id) ? { ...m, images: pictures.get(m.tool_call_id) } : m,
        );

  const callModel = (): Promise<LlmChatResponse> => {
    const current = toolDefs(tools);
    return llm.llmChat(
      {
        model: config.model,
        messages: [{ role: 'system', content: input.systemPrompt }, ...withPictures(conversation.messages)],
        tools: current.length > 0 ? current : undefined,
      },
      { onDelta: (text) => emit({ type: 'token', text }), signal, trace: toolContext.trace },
    );
  };

  const makeRoom = async (): Promise<void> => {
    const decision = decideCompaction({
      messages: conversation.messages,
      tokens: conversation.tokens(fixedTokens),
      window: config.context_window,
    });
    if (decision.action === 'nothing-to-drop') {
      logger.debug(
        { event: 'context_full', tokens: decision.tokens, window: config.context_window },
        'context above the threshold, but only the latest messages are left',
      );
    }
    if (decision.action !== 'compact') return;
    const outcome = await compactor.compact(decision.plan, 'threshold');
    if (outcome.status === 'compacted') conversation.applyCompaction(outcome);
  };

  const callWithOverflowRetry = async (): Promise<LlmChatResponse> => {
    try {
      return await callModel();
    } catch (err) {
      if (!isContextOverflow(err)) throw err;
      const plan = chooseCompaction(conversation.messages, KEEP_LAST_ON_OVERFLOW);
      if (!plan) throw err;
      logger.warn(
        { event: 'context_overflow', err: err instanceof Error ? err.message : String(err) },
        'the provider reported a context overflow; compacting harder and retrying once',
      );
      const outcome = await compactor.compact(plan, 'overflow');
      if (outcome.status !== 'compacted') throw err;
      conversation.applyCompaction(outcome);
      return await callModel();
    }
  };

  let toolRounds = 0;
  for (;;) {
    throwIfCancelled(signal);
    await makeRoom();
    throwIfCancelled(signal);
    const response = await callWithOverflowRetry();
    pictures = new Map();
    addUsage(response.usage);
    input.inspectAnswer?.(response);
    const { content, tool_calls: calls } = response.message;

    if (calls.length === 0) {
      conversation.push({ role: 'assistant', content });
      return finish(input, conversation, response, { type: 'done', reply: content, tool_rounds: toolRounds, usage });
    }
    if (toolRounds >= config.max_tool_rounds) {
      // The unanswered tool calls are dropped so the history stays valid for the next turn.
      const note = `[stopped: the model still wanted tools after ${config.max_tool_rounds} tool rounds, the limit for one turn; ask again to continue or raise max_tool_rounds]`;
      const separator = content ? '\n\n' : '';
      emit({ type: 'token', text: `${separator}${note}` });
      const reply = `${content}${separator}${note}`;
      conversation.push({ role: 'assistant', content: reply });
      return finish(input, conversation, response, { type: 'done', reply, tool_rounds: toolRounds, usage });
    }

    toolRounds += 1;
    conversation.push({ role: 'assistant', content: content || null, tool_calls: calls });
    conversation.recordUsage(response.usage);
    for (const call of calls) {
      throwIfCancelled(signal);
      emit({ type: 'tool_call', id: call.id, name: call.name, arguments: call.arguments });
      const result = await runToolCall(tools, call, toolContext);
      emit({ type: 'tool_result', id: call.id, name: call.name, ok: result.ok, output: result.output });
      if (!result.ok) await learnFromFailure(input, call, result);
      conversation.push({
        role: 'tool',
        tool_call_id: call.id,
        name: call.name,
        content: result.output,
        is_error: !result.ok,
      });
      if (result.image) pictures.set(call.id, [result.image]);
    }
  }
}

function finish(
  input: ChatTurnInput,
  conversation: TurnConversation,
  response: LlmChatResponse,
  done: DoneEvent,
): DoneEvent {
  conversation.recordUsage(response.usage);
  conversation.commit();
  input.emit(done);
  return done;
}

/** Appends the failure to learnings/errors.md; a failure to write is logged, not raised. */
async function learnFromFailure(input: ChatTurnInput, call: ToolCall, result: ToolResult): Promise<void> {
  try {
    await recordToolError(input.toolContext.workspaceDir, {
      time: new Date(),
      tool: call.name,
      arguments: call.arguments,
      error: result.output,
    });
  } catch (err) {
    input.logger.warn(
      { event: 'learning_write_failed', tool: call.name, err: err instanceof Error ? err.message : String(err) },
      'could not record a failed tool call in learnings/errors.md',
    );
  }
}

function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new LegionError('aborted', 'the chat turn was cancelled');
}
