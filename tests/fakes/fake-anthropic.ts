// The Anthropic messages wire format for the fake provider: request parsing into the
// normalized view (with the real API's pairing rule: tool_result blocks answer exactly
// the tool_use blocks of the previous assistant turn), JSON answers, the real stream
// event sequence (message_start, ping, content_block_start/delta/stop, message_delta,
// message_stop as `event:` + `data:` frames) and error bodies.
import {
  argumentPieces,
  isRecord,
  textChunks,
  type FakeAnswer,
  type FakeFormat,
  type FakeImage,
  type FakeMessage,
} from './fake-types.js';

export const anthropicFormat: FakeFormat = {
  provider: 'anthropic',
  path: '/v1/messages',
  idPrefixes: { answer: 'msg', toolCall: 'toolu' },

  parse(body) {
    if (!isRecord(body)) return 'the body must be a JSON object';
    if (typeof body.model !== 'string' || body.model === '') return 'model: Field required';
    if (typeof body.max_tokens !== 'number') return 'max_tokens: Field required';
    if (!Array.isArray(body.messages) || body.messages.length === 0)
      return 'messages: at least one message is required';
    const messages: FakeMessage[] = [];
    const system = blocksText(body.system);
    if (system) messages.push({ role: 'system', content: system });
    let pendingToolUses: string[] = [];
    for (const [index, raw] of body.messages.entries()) {
      if (!isRecord(raw)) return `messages.${index}: expected an object`;
      const parsed =
        raw.role === 'user' ? parseUser(raw.content) : raw.role === 'assistant' ? parseAssistant(raw.content) : null;
      if (parsed === null) return `messages.${index}.role: Input should be 'user' or 'assistant'`;
      if (typeof parsed === 'string') return `messages.${index}.content: ${parsed}`;
      const answered = parsed.filter((m) => m.role === 'tool').map((m) => m.tool_call_id ?? '');
      const unexpected = answered.filter((id) => !pendingToolUses.includes(id));
      if (unexpected.length > 0) {
        return `messages.${index}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${unexpected.join(', ')}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
      }
      const unanswered = pendingToolUses.filter((id) => !answered.includes(id));
      if (unanswered.length > 0) {
        return `messages.${index}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${unanswered.join(', ')}.`;
      }
      pendingToolUses = parsed.flatMap((m) => (m.tool_calls ?? []).map((c) => c.id));
      messages.push(...parsed);
    }
    const tools = Array.isArray(body.tools)
      ? body.tools.flatMap((tool) => (isRecord(tool) && typeof tool.name === 'string' ? [tool.name] : []))
      : [];
    return { model: body.model, stream: body.stream === true, includeUsage: false, messages, tools };
  },

  authorized(headers, apiKey) {
    return headers['x-api-key'] === apiKey || headers.authorization === `Bearer ${apiKey}`;
  },

  unauthorized() {
    return {
      status: 401,
      body: { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } },
    };
  },

  errorBody(status, message, type) {
    return { type: 'error', error: { type: type ?? defaultErrorType(status), message } };
  },

  json(answer) {
    return {
      id: answer.id,
      type: 'message',
      role: 'assistant',
      model: answer.model,
      content: contentBlocks(answer),
      stop_reason: stopReason(answer),
      stop_sequence: null,
      usage: { input_tokens: answer.usage.input, output_tokens: answer.usage.output },
    };
  },

  frames(answer) {
    const frames = [
      event('message_start', {
        type: 'message_start',
        message: {
          id: answer.id,
          type: 'message',
          role: 'assistant',
          model: answer.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: answer.usage.input, output_tokens: 1 },
        },
      }),
      event('ping', { type: 'ping' }),
    ];
    let index = 0;
    if (answer.text !== '') {
      frames.push(
        event('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }),
      );
      for (const text of textChunks(answer.text)) {
        frames.push(
          event('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text } }),
        );
      }
      frames.push(event('content_block_stop', { type: 'content_block_stop', index }));
      index += 1;
    }
    for (const call of answer.toolCalls) {
      frames.push(
        event('content_block_start', {
          type: 'content_block_start',
          index,
          content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} },
        }),
      );
      for (const piece of argumentPieces(call.arguments)) {
        frames.push(
          event('content_block_delta', {
            type: 'content_block_delta',
            index,
            delta: { type: 'input_json_delta', partial_json: piece },
          }),
        );
      }
      frames.push(event('content_block_stop', { type: 'content_block_stop', index }));
      index += 1;
    }
    frames.push(
      event('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: stopReason(answer), stop_sequence: null },
        usage: { output_tokens: answer.usage.output },
      }),
      event('message_stop', { type: 'message_stop' }),
    );
    return frames;
  },
};

/** One user turn: its tool_result blocks become tool messages, its text a user message. */
function parseUser(content: unknown): FakeMessage[] | string {
  if (typeof content === 'string') return [{ role: 'user', content }];
  if (!Array.isArray(content)) return 'expected a string or a list of content blocks';
  const messages: FakeMessage[] = [];
  const texts: string[] = [];
  for (const block of content) {
    if (!isRecord(block)) return 'expected content blocks';
    if (block.type === 'text' && typeof block.text === 'string') {
      texts.push(block.text);
    } else if (block.type === 'tool_result' && typeof block.tool_use_id === 'string') {
      const result: FakeMessage = { role: 'tool', tool_call_id: block.tool_use_id, content: blocksText(block.content) };
      if (block.is_error === true) result.is_error = true;
      const images = Array.isArray(block.content)
        ? block.content.flatMap((b): FakeImage[] =>
            isRecord(b) &&
            b.type === 'image' &&
            isRecord(b.source) &&
            b.source.type === 'base64' &&
            typeof b.source.media_type === 'string' &&
            typeof b.source.data === 'string'
              ? [{ media_type: b.source.media_type, data: b.source.data }]
              : [],
          )
        : [];
      if (images.length > 0) result.images = images;
      messages.push(result);
    } else {
      return `unsupported content block ${JSON.stringify(block.type)}`;
    }
  }
  if (texts.length > 0) messages.push({ role: 'user', content: texts.join('') });
  return messages;
}

function parseAssistant(content: unknown): FakeMessage[] | string {
  if (typeof content === 'string') return [{ role: 'assistant', content }];
  if (!Array.isArray(content)) return 'expected a string or a list of content blocks';
  let text = '';
  const toolCalls = [];
  for (const block of content) {
    if (!isRecord(block)) return 'expected content blocks';
    if (block.type === 'text' && typeof block.text === 'string') {
      if (block.text === '') return 'text content blocks must be non-empty';
      text += block.text;
    } else if (block.type === 'tool_use' && typeof block.id === 'string' && typeof block.name === 'string') {
      if (!isRecord(block.input)) return 'tool_use.input: Input should be a valid dictionary';
      toolCalls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input) });
    } else {
      return `unsupported content block ${JSON.stringify(block.type)}`;
    }
  }
  return [
    toolCalls.length > 0
      ? { role: 'assistant', content: text, tool_calls: toolCalls }
      : { role: 'assistant', content: text },
  ];
}

/** A string, or the text of a list of text blocks. */
function blocksText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((block) => (isRecord(block) && typeof block.text === 'string' ? block.text : '')).join('');
}

function contentBlocks(answer: FakeAnswer): unknown[] {
  const blocks: unknown[] = answer.text === '' ? [] : [{ type: 'text', text: answer.text }];
  for (const call of answer.toolCalls) {
    blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: JSON.parse(call.arguments) as unknown });
  }
  return blocks;
}

function stopReason(answer: FakeAnswer): string {
  return answer.toolCalls.length > 0 ? 'tool_use' : 'end_turn';
}

function defaultErrorType(status: number): string {
  switch (status) {
    case 400:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 429:
      return 'rate_limit_error';
    case 529:
      return 'overloaded_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

function event(name: string, value: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(value)}\n\n`;
}
