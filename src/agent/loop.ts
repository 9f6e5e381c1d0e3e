// One chat turn: the model answers, asks for tools, sees their results, and answers
// again until it stops asking or the round limit is reached.
// Invariants: a turn is atomic for the session — its messages are committed to
// session.messages only when the turn completes, so a failed or cancelled turn leaves
// no half-finished exchange (an assistant tool call without its result) behind;
// every tool call gets a tool_call event, then a tool_result event, then a tool
// message with the same id; at most config.max_tool_rounds rounds of tools run.
import type { ChatEvent } from '../shared/wire/chat.js';
import type { AgentRuntimeConfig } from '../shared/wire/agent.js';
import type { Message, Usage } from '../shared/wire/llm.js';
import { LegionError } from '../shared/errors.js';
import type { LlmClient } from './mesh-client.js';
import { runToolCall, toolDefs, type Tool, type ToolContext } from './tools/registry.js';

export interface ChatSession {
  id: string;
  messages: Message[];
}

export type DoneEvent = Extract<ChatEvent, { type: 'done' }>;

export interface ChatTurnInput {
  llm: LlmClient;
  tools: readonly Tool[];
  /** Where tools run; its signal is replaced by the turn's own. */
  toolContext: Omit<ToolContext, 'signal'>;
  config: AgentRuntimeConfig;
  systemPrompt: string;
  session: ChatSession;
  userMessage: string;
  emit: (event: ChatEvent) => void;
  signal: AbortSignal;
}

export async function runChatTurn(input: ChatTurnInput): Promise<DoneEvent> {
  const { llm, tools, config, emit, signal } = input;
  const messages: Message[] = [...input.session.messages, { role: 'user', content: input.userMessage }];
  const definitions = toolDefs(tools);
  const toolContext: ToolContext = { ...input.toolContext, signal };
  const usage: Usage = { prompt_tokens: 0, completion_tokens: 0 };
  let toolRounds = 0;

  for (;;) {
    throwIfCancelled(signal);
    const response = await llm.llmChat(
      {
        model: config.model,
        messages: [{ role: 'system', content: input.systemPrompt }, ...messages],
        tools: definitions.length > 0 ? definitions : undefined,
      },
      { onDelta: (text) => emit({ type: 'token', text }), signal, trace: toolContext.trace },
    );
    usage.prompt_tokens += response.usage.prompt_tokens;
    usage.completion_tokens += response.usage.completion_tokens;
    const { content, tool_calls: calls } = response.message;

    if (calls.length === 0) {
      messages.push({ role: 'assistant', content });
      return finish(input, messages, { type: 'done', reply: content, tool_rounds: toolRounds, usage });
    }
    if (toolRounds >= config.max_tool_rounds) {
      // The unanswered tool calls are dropped so the history stays valid for the next turn.
      const note = `[stopped: the model still wanted tools after ${config.max_tool_rounds} tool rounds, the limit for one turn; ask again to continue or raise max_tool_rounds]`;
      const separator = content ? '\n\n' : '';
      emit({ type: 'token', text: `${separator}${note}` });
      const reply = `${content}${separator}${note}`;
      messages.push({ role: 'assistant', content: reply });
      return finish(input, messages, { type: 'done', reply, tool_rounds: toolRounds, usage });
    }

    toolRounds += 1;
    messages.push({ role: 'assistant', content: content || null, tool_calls: calls });
    for (const call of calls) {
      throwIfCancelled(signal);
      emit({ type: 'tool_call', id: call.id, name: call.name, arguments: call.arguments });
      const result = await runToolCall(tools, call, toolContext);
      emit({ type: 'tool_result', id: call.id, name: call.name, ok: result.ok, output: result.output });
      messages.push({ role: 'tool', tool_call_id: call.id, name: call.name, content: result.output, is_error: !result.ok });
    }
  }
}

function finish(input: ChatTurnInput, messages: Message[], done: DoneEvent): DoneEvent {
  input.session.messages = messages;
  input.emit(done);
  return done;
}

function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new LegionError('aborted', 'the chat turn was cancelled', 499);
}
