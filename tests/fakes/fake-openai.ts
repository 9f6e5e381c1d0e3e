// The OpenAI chat-completions wire format for the fake provider: request parsing into
// the normalized view, JSON answers, `data:` stream chunks ending in `data: [DONE]`
// (tool calls as delta.tool_calls by index, usage in a last choice-less chunk when
// stream_options.include_usage is set) and error bodies, all as api.openai.com sends them.
import {
  argumentPieces,
  isRecord,
  textChunks,
  type FakeAnswer,
  type FakeFormat,
  type FakeImage,
  type FakeMessage,
} from './fake-types.js';

export const openAiFormat: FakeFormat = {
  provider: 'openai',
  path: '/v1/chat/completions',
  idPrefixes: { answer: 'chatcmpl', toolCall: 'call' },

  parse(body) {
    if (!isRecord(body)) return 'the body must be a JSON object';
    if (typeof body.model !== 'string' || body.model === '') return 'you must provide a model parameter';
    if (!Array.isArray(body.messages) || body.messages.length === 0) return "'messages' must be a non-empty array";
    const messages: FakeMessage[] = [];
    for (const [index, raw] of body.messages.entries()) {
      const message = parseMessage(raw);
      if (typeof message === 'string') return `messages[${index}]: ${message}`;
      messages.push(message);
    }
    const tools = Array.isArray(body.tools)
      ? body.tools.flatMap((tool) =>
          isRecord(tool) && isRecord(tool.function) && typeof tool.function.name === 'string'
            ? [tool.function.name]
            : [],
        )
      : [];
    const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
    return { model: body.model, stream: body.stream === true, includeUsage, messages, tools };
  },

  authorized(headers, apiKey) {
    return headers.authorization === `Bearer ${apiKey}`;
  },

  unauthorized(headers) {
    const given = typeof headers.authorization === 'string' ? headers.authorization.replace(/^Bearer\s+/, '') : '';
    const message = given
      ? `Incorrect API key provided: ${maskKey(given)}. You can find your API key at https://platform.openai.com/account/api-keys.`
      : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth.";
    return {
      status: 401,
      body: { error: { message, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } },
    };
  },

  errorBody(status, message, type) {
    return { error: { message, type: type ?? defaultErrorType(status), param: null, code: null } };
  },

  json(answer) {
    return {
      id: answer.id,
      object: 'chat.completion',
      created: nowSeconds(),
      model: answer.model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: answer.toolCalls.length > 0 && answer.text === '' ? null : answer.text,
            refusal: null,
            ...(answer.toolCalls.length > 0
              ? {
                  tool_calls: answer.toolCalls.map((c) => ({
                    id: c.id,
                    type: 'function',
                    function: { name: c.name, arguments: c.arguments },
                  })),
                }
              : {}),
          },
          logprobs: null,
          finish_reason: finishReason(answer),
        },
      ],
      usage: usage(answer),
      system_fingerprint: null,
    };
  },

  frames(answer, request) {
    const created = nowSeconds();
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      data({
        id: answer.id,
        object: 'chat.completion.chunk',
        created,
        model: answer.model,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
        ...(request.includeUsage ? { usage: null } : {}),
      });
    const frames = [chunk({ role: 'assistant', content: '', refusal: null }, null)];
    for (const text of textChunks(answer.text)) frames.push(chunk({ content: text }, null));
    answer.toolCalls.forEach((call, index) => {
      frames.push(
        chunk(
          { tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] },
          null,
        ),
      );
      for (const piece of argumentPieces(call.arguments)) {
        frames.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }, null));
      }
    });
    frames.push(chunk({}, finishReason(answer)));
    if (request.includeUsage) {
      frames.push(
        data({
          id: answer.id,
          object: 'chat.completion.chunk',
          created,
          model: answer.model,
          choices: [],
          usage: usage(answer),
        }),
      );
    }
    frames.push('data: [DONE]\n\n');
    return frames;
  },
};

function parseMessage(raw: unknown): FakeMessage | string {
  if (!isRecord(raw)) return 'expected an object';
  const content = contentText(raw.content);
  if (content === null) return 'content must be a string, null or an array of text parts';
  switch (raw.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content };
    case 'user': {
      const images = imageParts(raw.content);
      if (typeof images === 'string') return images;
      return images.length > 0 ? { role: 'user', content, images } : { role: 'user', content };
    }
    case 'assistant': {
      if (raw.tool_calls === undefined) return { role: 'assistant', content };
      if (!Array.isArray(raw.tool_calls) || raw.tool_calls.length === 0) return 'tool_calls must be a non-empty array';
      const toolCalls = [];
      for (const call of raw.tool_calls) {
        if (!isRecord(call) || typeof call.id !== 'string' || !isRecord(call.function)) return 'invalid tool call';
        const { name, arguments: args } = call.function;
        if (typeof name !== 'string' || typeof args !== 'string')
          return 'tool call function needs name and arguments strings';
        toolCalls.push({ id: call.id, name, arguments: args });
      }
      return { role: 'assistant', content, tool_calls: toolCalls };
    }
    case 'tool':
      if (typeof raw.tool_call_id !== 'string') return "tool messages need a 'tool_call_id'";
      // As the real API: a tool message's content parts are text only.
      if (Array.isArray(raw.content) && raw.content.some((part) => !isRecord(part) || part.type !== 'text'))
        return 'tool message content parts must be of type text';
      return { role: 'tool', content, tool_call_id: raw.tool_call_id };
    default:
      return `unknown role ${JSON.stringify(raw.role)}`;
  }
}

/** The data-URL pictures of a user message's image_url parts. */
function imageParts(content: unknown): FakeImage[] | string {
  if (!Array.isArray(content)) return [];
  const images: FakeImage[] = [];
  for (const part of content) {
    if (!isRecord(part) || part.type !== 'image_url') continue;
    const url = isRecord(part.image_url) && typeof part.image_url.url === 'string' ? part.image_url.url : '';
    const match = /^data:(image\/[a-z]+);base64,([A-Za-z0-9+/]+=*)$/.exec(url);
    if (!match?.[1] || !match[2]) return 'image_url.url must be an http(s) URL or a base64 data URL';
    images.push({ media_type: match[1], data: match[2] });
  }
  return images;
}

function contentText(content: unknown): string | null {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return null;
  return content.map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : '')).join('');
}

function finishReason(answer: FakeAnswer): string {
  return answer.toolCalls.length > 0 ? 'tool_calls' : 'stop';
}

function usage(answer: FakeAnswer): Record<string, number> {
  return {
    prompt_tokens: answer.usage.input,
    completion_tokens: answer.usage.output,
    total_tokens: answer.usage.input + answer.usage.output,
  };
}

function defaultErrorType(status: number): string {
  if (status === 429) return 'requests';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** How OpenAI quotes a wrong key back: its start and end only. */
function maskKey(key: string): string {
  return key.length <= 8 ? '***' : `${key.slice(0, 3)}${'*'.repeat(8)}${key.slice(-4)}`;
}

function data(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
