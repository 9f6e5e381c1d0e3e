// Reads one chat event the mesh streamed to the CLI. It accepts and returns exactly what
// ChatEventSchema (shared/wire/chat.ts) does, unknown keys dropped, but without zod:
// loading zod costs `legion chat -m` about 100 ms of its 350 ms budget.
// tests/unit/cli-chat-event.test.ts keeps the two in agreement.
import type { ErrorBody } from '../shared/errors.js';
import type { ChatEvent } from '../shared/wire/chat.js';

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null;
const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

function strings<K extends string>(raw: Fields, keys: readonly K[]): Record<K, string> | null {
  const out: Partial<Record<K, string>> = {};
  for (const key of keys) {
    const value = raw[key];
    if (typeof value !== 'string') return null;
    out[key] = value;
  }
  return out as Record<K, string>;
}

function errorBody(raw: unknown): ErrorBody | null {
  if (!isObject(raw)) return null;
  const base = strings(raw, ['code', 'message']);
  if (!base) return null;
  const body: ErrorBody = base;
  for (const key of ['provider', 'path'] as const) {
    const value = raw[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') return null;
    body[key] = value;
  }
  if (raw.status !== undefined) {
    if (!Number.isSafeInteger(raw.status)) return null;
    body.status = raw.status as number;
  }
  return body;
}

/** The event `raw` is, or null when it is not a chat event. */
export function readChatEvent(raw: unknown): ChatEvent | null {
  if (!isObject(raw)) return null;
  switch (raw.type) {
    case 'token': {
      const fields = strings(raw, ['text']);
      return fields && { type: 'token', ...fields };
    }
    case 'tool_call': {
      const fields = strings(raw, ['id', 'name', 'arguments']);
      return fields && { type: 'tool_call', ...fields };
    }
    case 'tool_result': {
      const fields = strings(raw, ['id', 'name', 'output']);
      if (!fields || typeof raw.ok !== 'boolean') return null;
      return { type: 'tool_result', id: fields.id, name: fields.name, ok: raw.ok, output: fields.output };
    }
    case 'done': {
      const usage = raw.usage;
      if (typeof raw.reply !== 'string' || !isCount(raw.tool_rounds) || !isObject(usage)) return null;
      if (!isCount(usage.prompt_tokens) || !isCount(usage.completion_tokens)) return null;
      return {
        type: 'done',
        reply: raw.reply,
        tool_rounds: raw.tool_rounds,
        usage: { prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens },
      };
    }
    case 'error': {
      const error = errorBody(raw.error);
      return error && { type: 'error', error };
    }
    default:
      return null;
  }
}
