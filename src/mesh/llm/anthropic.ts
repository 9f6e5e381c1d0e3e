// The normalized LLM contract <-> the Anthropic messages format. Invariants: the
// translation functions are pure; system messages go to the top-level `system`; a run
// of tool results becomes one user message of tool_result blocks (the API pairs them
// with the previous assistant turn's tool_use blocks); a call cancelled through its
// signal never resolves with a partial answer; SDK errors propagate raw (the proxy
// normalizes them); `temperature` is not sent: API version 2026-10-21, which this SDK
// speaks, no longer has it.
import type {
  ContentBlockParam,
  Message as AnthropicMessage,
  MessageCreateParamsNonStreaming,
  MessageParam,
  RawMessageStreamEvent,
  Tool,
  ToolResultBlockParam,
} from '@anthropic-ai/sdk/resources/messages';
import type { FinishReason, LlmChatRequestParsed, LlmChatResponse, ToolCall, ToolDef } from '../../shared/wire/llm.js';
import { abortedError } from './errors.js';
import type { ProviderCall } from './provider-call.js';
import { anthropicClient } from './clients.js';

/** The API requires max_tokens; the contract leaves it optional. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

export async function callAnthropic(call: ProviderCall): Promise<LlmChatResponse> {
  const { provider, signal, onDelta } = call;
  const client = await anthropicClient(provider);
  const params = toAnthropicParams(call.request, call.model);
  const requestOptions = signal ? { signal } : {};
  if (!onDelta) {
    const message = await client.messages.create(params, requestOptions);
    return { provider: provider.name, model: call.model, ...fromAnthropicMessage(message) };
  }
  const stream = await client.messages.create({ ...params, stream: true }, requestOptions);
  const accumulator = new AnthropicStreamAccumulator();
  for await (const event of stream) {
    const text = accumulator.push(event);
    if (text) onDelta(text);
  }
  // The SDK ends the iteration quietly when the signal fires.
  if (signal?.aborted) throw abortedError(provider);
  return { provider: provider.name, model: call.model, ...accumulator.result() };
}

type ProviderAnswer = Omit<LlmChatResponse, 'provider' | 'model'>;

export function toAnthropicParams(request: LlmChatRequestParsed, model: string): MessageCreateParamsNonStreaming {
  const system: string[] = [];
  const messages: MessageParam[] = [];
  let toolResults: ToolResultBlockParam[] = [];
  const flushToolResults = () => {
    if (toolResults.length > 0) messages.push({ role: 'user', content: toolResults });
    toolResults = [];
  };
  for (const message of request.messages) {
    if (message.role === 'tool') {
      const block: ToolResultBlockParam = {
        type: 'tool_result',
        tool_use_id: message.tool_call_id,
        content: message.content,
      };
      if (message.images && message.images.length > 0) {
        block.content = [
          { type: 'text', text: message.content },
          ...message.images.map((image) => ({
            type: 'image' as const,
            source: { type: 'base64' as const, media_type: image.media_type, data: image.data },
          })),
        ];
      }
      if (message.is_error) block.is_error = true;
      toolResults.push(block);
      continue;
    }
    flushToolResults();
    if (message.role === 'system') {
      system.push(message.content);
    } else if (message.role === 'user') {
      messages.push({ role: 'user', content: message.content });
    } else {
      const content: ContentBlockParam[] = [];
      // The API rejects empty text blocks.
      if (message.content) content.push({ type: 'text', text: message.content });
      for (const call of message.tool_calls ?? []) {
        content.push({ type: 'tool_use', id: call.id, name: call.name, input: parseToolInput(call.arguments) });
      }
      if (content.length > 0) messages.push({ role: 'assistant', content });
    }
  }
  flushToolResults();
  const params: MessageCreateParamsNonStreaming = {
    model,
    messages,
    max_tokens: request.max_tokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
  };
  if (system.length > 0) params.system = system.join('\n\n');
  if (request.tools && request.tools.length > 0) params.tools = request.tools.map(toAnthropicTool);
  return params;
}

/** tool_use input must be an object. Arguments that are not a JSON object were already
 *  answered by the agent with an error result, so an empty input keeps the pair valid. */
function parseToolInput(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...value } : {};
  } catch {
    return {};
  }
}

function toAnthropicTool(tool: ToolDef): Tool {
  return { name: tool.name, description: tool.description, input_schema: { ...tool.parameters, type: 'object' } };
}

export function fromAnthropicMessage(message: AnthropicMessage): ProviderAnswer {
  let text = '';
  const toolCalls: ToolCall[] = [];
  for (const block of message.content) {
    if (block.type === 'text') text += block.text;
    else if (block.type === 'tool_use')
      toolCalls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input) });
  }
  return {
    message: { role: 'assistant', content: text, tool_calls: toolCalls },
    finish_reason: mapAnthropicStopReason(message.stop_reason),
    usage: {
      prompt_tokens: promptTokens(message.usage),
      completion_tokens: message.usage.output_tokens,
    },
  };
}

export function mapAnthropicStopReason(reason: string | null): FinishReason {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'tool_use':
      return 'tool_calls';
    case 'max_tokens':
      return 'length';
    default:
      return 'other';
  }
}

interface InputUsage {
  input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** Cached prompt tokens are reported apart from input_tokens but were still read. */
function promptTokens(usage: InputUsage): number {
  return (usage.input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
}

/** Builds the final answer from stream events: text blocks concatenated, tool_use blocks
 *  with their input_json_delta pieces joined, usage from message_start and message_delta
 *  (whose counts are cumulative). */
export class AnthropicStreamAccumulator {
  private text = '';
  private readonly toolCalls = new Map<number, { id: string; name: string; arguments: string }>();
  private stopReason: string | null = null;
  private usage = { prompt_tokens: 0, completion_tokens: 0 };

  /** Adds one event; returns its text delta, or '' when it carries none. */
  push(event: RawMessageStreamEvent): string {
    switch (event.type) {
      case 'message_start':
        this.usage = {
          prompt_tokens: promptTokens(event.message.usage),
          completion_tokens: event.message.usage.output_tokens,
        };
        return '';
      case 'content_block_start':
        if (event.content_block.type === 'tool_use') {
          this.toolCalls.set(event.index, {
            id: event.content_block.id,
            name: event.content_block.name,
            arguments: '',
          });
        } else if (event.content_block.type === 'text' && event.content_block.text) {
          this.text += event.content_block.text;
          return event.content_block.text;
        }
        return '';
      case 'content_block_delta': {
        if (event.delta.type === 'text_delta') {
          this.text += event.delta.text;
          return event.delta.text;
        }
        const call = this.toolCalls.get(event.index);
        if (event.delta.type === 'input_json_delta' && call) call.arguments += event.delta.partial_json;
        return '';
      }
      case 'message_delta':
        if (event.delta.stop_reason) this.stopReason = event.delta.stop_reason;
        this.usage = {
          prompt_tokens:
            typeof event.usage.input_tokens === 'number' ? promptTokens(event.usage) : this.usage.prompt_tokens,
          completion_tokens: event.usage.output_tokens,
        };
        return '';
      default:
        return '';
    }
  }

  result(): ProviderAnswer {
    const toolCalls = [...this.toolCalls.entries()]
      .sort(([a], [b]) => a - b)
      // A tool without parameters streams no input_json_delta at all.
      .map(([, call]) => ({ ...call, arguments: call.arguments || '{}' }));
    return {
      message: { role: 'assistant', content: this.text, tool_calls: toolCalls },
      finish_reason: mapAnthropicStopReason(this.stopReason),
      usage: this.usage,
    };
  }
}
