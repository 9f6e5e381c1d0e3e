// The normalized LLM contract <-> the OpenAI chat-completions format, for OpenAI itself
// and every OpenAI-compatible server (Ollama, vLLM, Groq...). Invariants: the
// translation functions are pure; tool-call arguments pass through as the exact JSON
// text the model produced; a call cancelled through its signal never resolves with a
// partial answer; SDK errors propagate raw (the proxy normalizes them).
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionContentPart,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import type {
  FinishReason,
  LlmChatRequestParsed,
  LlmChatResponse,
  Message,
  ToolCall,
  ToolDef,
} from '../../shared/wire/llm.js';
import { abortedError } from './errors.js';
import { isDefaultBaseUrl } from '../../shared/config/providers.js';
import type { ProviderCall } from './provider-call.js';
import { openAiClient } from './clients.js';

export async function callOpenAi(call: ProviderCall): Promise<LlmChatResponse> {
  const { provider, signal, onDelta } = call;
  const client = await openAiClient(provider);
  // api.openai.com deprecated max_tokens (reasoning models reject it); compatible servers mostly know only max_tokens.
  const params = toOpenAiParams(
    call.request,
    call.model,
    isDefaultBaseUrl(provider) ? 'max_completion_tokens' : 'max_tokens',
  );
  const requestOptions = signal ? { signal } : {};
  if (!onDelta) {
    const completion = await client.chat.completions.create(params, requestOptions);
    return { provider: provider.name, model: call.model, ...fromOpenAiCompletion(completion) };
  }
  const stream = await client.chat.completions.create(
    { ...params, stream: true, stream_options: { include_usage: true } },
    requestOptions,
  );
  const accumulator = new OpenAiStreamAccumulator();
  for await (const chunk of stream) {
    const text = accumulator.push(chunk);
    if (text) onDelta(text);
  }
  // The SDK ends the iteration quietly when the signal fires.
  if (signal?.aborted) throw abortedError(provider);
  return { provider: provider.name, model: call.model, ...accumulator.result() };
}

type ProviderAnswer = Omit<LlmChatResponse, 'provider' | 'model'>;

export function toOpenAiParams(
  request: LlmChatRequestParsed,
  model: string,
  tokenLimitField: 'max_tokens' | 'max_completion_tokens',
): ChatCompletionCreateParamsNonStreaming {
  const params: ChatCompletionCreateParamsNonStreaming = { model, messages: toOpenAiMessages(request.messages) };
  if (request.tools && request.tools.length > 0) params.tools = request.tools.map(toOpenAiTool);
  if (request.max_tokens !== undefined) params[tokenLimitField] = request.max_tokens;
  if (request.temperature !== undefined) params.temperature = request.temperature;
  return params;
}

/** Tool messages take only text in this format: the pictures of a run of tool results
 *  follow it as one user message of image parts (data URLs), named by tool call. */
function toOpenAiMessages(messages: readonly Message[]): ChatCompletionMessageParam[] {
  const out: ChatCompletionMessageParam[] = [];
  let pictures: ChatCompletionContentPart[] = [];
  const flush = () => {
    if (pictures.length > 0) out.push({ role: 'user', content: pictures });
    pictures = [];
  };
  for (const message of messages) {
    if (message.role !== 'tool') flush();
    out.push(toOpenAiMessage(message));
    if (message.role === 'tool' && message.images && message.images.length > 0) {
      pictures.push({
        type: 'text',
        text: `Picture(s) from the ${message.name ?? 'tool'} call ${message.tool_call_id}:`,
      });
      for (const image of message.images)
        pictures.push({ type: 'image_url', image_url: { url: `data:${image.media_type};base64,${image.data}` } });
    }
  }
  flush();
  return out;
}

function toOpenAiMessage(message: Message): ChatCompletionMessageParam {
  switch (message.role) {
    case 'system':
    case 'user':
      return { role: message.role, content: message.content };
    case 'assistant': {
      const calls = message.tool_calls ?? [];
      // OpenAI rejects an empty tool_calls array, and null content without tool calls.
      if (calls.length === 0) return { role: 'assistant', content: message.content ?? '' };
      return {
        role: 'assistant',
        content: message.content,
        tool_calls: calls.map((c) => ({
          id: c.id,
          type: 'function',
          function: { name: c.name, arguments: c.arguments },
        })),
      };
    }
    case 'tool':
      // The format has no error flag; the agent's result text already says what failed.
      return { role: 'tool', tool_call_id: message.tool_call_id, content: message.content };
  }
}

function toOpenAiTool(tool: ToolDef): ChatCompletionTool {
  return {
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.parameters },
  };
}

export function fromOpenAiCompletion(completion: ChatCompletion): ProviderAnswer {
  const choice = completion.choices[0];
  const toolCalls: ToolCall[] = [];
  for (const call of choice?.message.tool_calls ?? []) {
    if (call.type === 'function')
      toolCalls.push({ id: call.id, name: call.function.name, arguments: call.function.arguments });
  }
  return {
    message: { role: 'assistant', content: choice?.message.content ?? '', tool_calls: toolCalls },
    finish_reason: mapOpenAiFinishReason(choice?.finish_reason ?? null),
    usage: {
      prompt_tokens: completion.usage?.prompt_tokens ?? 0,
      completion_tokens: completion.usage?.completion_tokens ?? 0,
    },
  };
}

export function mapOpenAiFinishReason(reason: string | null): FinishReason {
  switch (reason) {
    case 'stop':
      return 'stop';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case 'length':
      return 'length';
    default:
      return 'other';
  }
}

/** Builds the final answer from stream chunks: text deltas in order, tool calls merged by
 *  index (id and name arrive once, arguments in pieces), usage from the last chunk. */
export class OpenAiStreamAccumulator {
  private text = '';
  private readonly toolCalls = new Map<number, { id: string; name: string; arguments: string }>();
  private finishReason: string | null = null;
  private usage = { prompt_tokens: 0, completion_tokens: 0 };

  /** Adds one chunk; returns its text delta, or '' when it carries none. */
  push(chunk: ChatCompletionChunk): string {
    if (chunk.usage) {
      this.usage = { prompt_tokens: chunk.usage.prompt_tokens, completion_tokens: chunk.usage.completion_tokens };
    }
    const choice = chunk.choices[0];
    if (!choice) return '';
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    for (const delta of choice.delta.tool_calls ?? []) {
      const current = this.toolCalls.get(delta.index) ?? { id: '', name: '', arguments: '' };
      if (delta.id) current.id = delta.id;
      if (delta.function?.name) current.name = delta.function.name;
      if (delta.function?.arguments) current.arguments += delta.function.arguments;
      this.toolCalls.set(delta.index, current);
    }
    const text = choice.delta.content ?? '';
    this.text += text;
    return text;
  }

  result(): ProviderAnswer {
    const toolCalls = [...this.toolCalls.entries()]
      .sort(([a], [b]) => a - b)
      // Some compatible servers stream calls without ids; the agent needs one to pair the result.
      .map(([index, call]) => ({ ...call, id: call.id || `call_${index}` }));
    return {
      message: { role: 'assistant', content: this.text, tool_calls: toolCalls },
      finish_reason: mapOpenAiFinishReason(this.finishReason),
      usage: this.usage,
    };
  }
}
