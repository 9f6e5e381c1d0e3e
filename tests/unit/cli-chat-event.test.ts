// The CLI reads chat events without zod (chat-event.ts); it must accept and return
// exactly what the wire schema does, or `legion chat` would drop or garble events the
// mesh sends (or print ones it should refuse).
import { describe, expect, it } from 'vitest';
import { readChatEvent } from '../../src/cli/chat-event.js';
import { ChatEventSchema } from '../../src/shared/wire/chat.js';

const valid: Record<string, unknown>[] = [
  { type: 'token', text: 'hel' },
  { type: 'token', text: '' },
  { type: 'tool_call', id: 'c1', name: 'memory_search', arguments: '{"q":"x"}' },
  { type: 'tool_result', id: 'c1', name: 'memory_search', ok: true, output: 'found' },
  { type: 'tool_result', id: 'c1', name: 'exec', ok: false, output: '' },
  { type: 'done', reply: 'hi', tool_rounds: 0, usage: { prompt_tokens: 12, completion_tokens: 3 } },
  { type: 'done', reply: '', tool_rounds: 4, usage: { prompt_tokens: 0, completion_tokens: 0 } },
  { type: 'error', error: { code: 'budget_exceeded', message: 'over budget' } },
  {
    type: 'error',
    error: { code: 'provider_error', message: 'upstream', provider: 'openai', status: 502, path: '/v1/chat' },
  },
];

/** Every way of breaking one event: each field dropped, given a wrong type, or an extra key added. */
function variants(event: Record<string, unknown>): unknown[] {
  const out: unknown[] = [{ ...event, extra: 'kept out' }];
  for (const [key, value] of Object.entries(event)) {
    const { [key]: _dropped, ...rest } = event;
    out.push(rest);
    for (const wrong of [null, 1.5, -1, 2 ** 60, 'text', true, {}, []]) {
      if (wrong !== value) out.push({ ...event, [key]: wrong });
    }
    if (typeof value === 'object' && value !== null) {
      for (const inner of variants(value as Record<string, unknown>)) out.push({ ...event, [key]: inner });
    }
  }
  return out;
}

describe('readChatEvent', () => {
  const cases: unknown[] = [...valid, ...valid.flatMap(variants), null, 'token', [], { type: 'thinking', text: 'x' }];

  it('accepts exactly the events the wire schema accepts, with the same result', () => {
    let accepted = 0;
    for (const raw of cases) {
      const schema = ChatEventSchema.safeParse(raw);
      expect(readChatEvent(raw), JSON.stringify(raw)).toEqual(schema.success ? schema.data : null);
      if (schema.success) accepted++;
    }
    // Both valid and broken events were tried.
    expect(accepted).toBeGreaterThanOrEqual(valid.length);
    expect(cases.length - accepted).toBeGreaterThan(100);
  });
});
