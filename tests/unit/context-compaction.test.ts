// The pure side of compaction: when it starts, what it keeps (the last 4 messages,
// never a tool result without its call), how an overflow is recognized, and what the
// model is shown and what is kept of its answers.
import { describe, expect, it } from 'vitest';
import {
  KEEP_LAST_MESSAGES,
  KEEP_LAST_ON_OVERFLOW,
  chooseCompaction,
  chooseKeepFrom,
  decideCompaction,
  isContextOverflow,
} from '../../src/agent/context/compaction.js';
import {
  factsSection,
  isSummaryMessage,
  normalizeFacts,
  renderTranscript,
  splitTranscript,
  summaryMessage,
} from '../../src/agent/context/transcript.js';
import { LegionError } from '../../src/shared/errors.js';
import type { Message } from '../../src/shared/wire/llm.js';
import { toolPairingProblems } from '../helpers/tool-pairs.js';

const user = (content: string): Message => ({ role: 'user', content });
const assistant = (content: string): Message => ({ role: 'assistant', content });
const calls = (...ids: string[]): Message => ({
  role: 'assistant',
  content: null,
  tool_calls: ids.map((id) => ({ id, name: 'exec', arguments: '{}' })),
});
const result = (id: string): Message => ({ role: 'tool', tool_call_id: id, name: 'exec', content: `out ${id}` });

describe('chooseKeepFrom', () => {
  it('keeps the last 4 messages of a plain conversation', () => {
    const messages = [user('u1'), assistant('a1'), user('u2'), assistant('a2'), user('u3'), assistant('a3')];
    expect(KEEP_LAST_MESSAGES).toBe(4);
    expect(chooseKeepFrom(messages, KEEP_LAST_MESSAGES)).toBe(2);
  });

  it('moves back to the call when the 4th-from-last message is a tool result', () => {
    // u1 a1 [call c1 c2] [c1] [c2] a2 u2: the last 4 start at the result of c2.
    const messages = [
      user('u1'),
      assistant('a1'),
      calls('c1', 'c2'),
      result('c1'),
      result('c2'),
      assistant('a2'),
      user('u2'),
    ];
    const keepFrom = chooseKeepFrom(messages, 4);
    expect(keepFrom).toBe(2);
    expect(toolPairingProblems(messages.slice(keepFrom))).toEqual([]);
  });

  it('keeps everything when the walk back reaches the start', () => {
    const messages = [calls('c1', 'c2'), result('c1'), result('c2'), assistant('done')];
    expect(chooseKeepFrom(messages, 3)).toBe(0);
  });

  it('never splits a pair, whatever the history and the number kept', () => {
    const messages = [
      user('u1'),
      calls('a', 'b', 'c'),
      result('a'),
      result('b'),
      result('c'),
      calls('d'),
      result('d'),
      assistant('x'),
      user('u2'),
      calls('e'),
      result('e'),
    ];
    for (let keep = 1; keep <= messages.length; keep += 1) {
      const keepFrom = chooseKeepFrom(messages, keep);
      expect(messages.length - keepFrom).toBeGreaterThanOrEqual(keep);
      expect(toolPairingProblems(messages.slice(keepFrom)), `keep ${keep}`).toEqual([]);
    }
  });
});

describe('chooseCompaction', () => {
  it('splits into older and kept', () => {
    const messages = [user('u1'), assistant('a1'), user('u2'), assistant('a2'), user('u3')];
    expect(chooseCompaction(messages, 4)).toEqual({ keepFrom: 1, older: [user('u1')], kept: messages.slice(1) });
  });

  it('has nothing to do when only an earlier summary would go', () => {
    const summary = summaryMessage('we talked', 6);
    expect(chooseCompaction([summary, user('u'), assistant('a'), user('u'), assistant('a')], 4)).toBeNull();
    expect(chooseCompaction([user('u'), assistant('a')], 4)).toBeNull();
    expect(
      chooseCompaction([summary, user('u'), assistant('a'), user('u'), assistant('a')], KEEP_LAST_ON_OVERFLOW)?.older,
    ).toHaveLength(4);
  });
});

describe('decideCompaction', () => {
  const messages = [user('u1'), assistant('a1'), user('u2'), assistant('a2'), user('u3')];

  it('continues below 70% of the window and compacts at 70%', () => {
    expect(decideCompaction({ messages, tokens: 699, window: 1000 })).toEqual({
      action: 'continue',
      tokens: 699,
      threshold: 700,
    });
    const at = decideCompaction({ messages, tokens: 700, window: 1000 });
    expect(at.action).toBe('compact');
    expect(at.action === 'compact' ? at.plan.keepFrom : -1).toBe(1);
    expect(decideCompaction({ messages, tokens: 5000, window: 1000 }).action).toBe('compact');
  });

  it('says so when the window is full but nothing old is left', () => {
    expect(decideCompaction({ messages: [user('huge')], tokens: 950, window: 1000 })).toEqual({
      action: 'nothing-to-drop',
      tokens: 950,
      threshold: 700,
    });
  });
});

describe('isContextOverflow', () => {
  const providerError = (message: string) => new LegionError('provider_error', message, { provider: 'x', status: 400 });

  it('recognizes the OpenAI, Anthropic and local-server wordings', () => {
    expect(
      isContextOverflow(
        providerError(
          "openai returned 400: This model's maximum context length is 8192 tokens. However, your messages resulted in 9001 tokens.",
        ),
      ),
    ).toBe(true);
    expect(isContextOverflow(providerError('openai returned 400: context_length_exceeded'))).toBe(true);
    expect(
      isContextOverflow(providerError('anthropic returned 400: prompt is too long: 210012 tokens > 200000 maximum')),
    ).toBe(true);
    expect(
      isContextOverflow(
        providerError(
          'anthropic returned 400: input length and `max_tokens` exceed context limit: 198000 + 4096 > 200000',
        ),
      ),
    ).toBe(true);
    expect(isContextOverflow(providerError('ollama returned 400: the input exceeds the context window'))).toBe(true);
  });

  it('ignores other errors, and overflow wording under another code', () => {
    expect(isContextOverflow(providerError('openai returned 429: Rate limit reached'))).toBe(false);
    expect(isContextOverflow(new LegionError('budget_exceeded', 'prompt is too long for the budget'))).toBe(false);
    expect(isContextOverflow(new Error('maximum context length'))).toBe(false);
  });
});

describe('transcript and facts', () => {
  it('renders every message in full, tool calls and results included', () => {
    const long = 'z'.repeat(10_000);
    const text = renderTranscript([
      user('hello'),
      calls('c1'),
      { role: 'tool', tool_call_id: 'c1', name: 'exec', content: long, is_error: true },
      summaryMessage('earlier', 3),
    ]);
    expect(text).toContain('[user]\nhello');
    expect(text).toContain('[assistant called the tool exec with {}]');
    expect(text).toContain(`[result of exec, an error]\n${long}`);
    expect(text).toContain('[earlier summary]');
  });

  it('splits between messages, and inside a message only when it alone is too long', () => {
    expect(splitTranscript('aaaa\n\nbbbb\n\ncccc', 10)).toEqual(['aaaa\n\nbbbb', 'cccc']);
    const pieces = splitTranscript(`short\n\n${'x'.repeat(25)}`, 10);
    expect(pieces).toEqual(['short', 'x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
    expect(pieces.join('').replace('short', '')).toBe('x'.repeat(25));
  });

  it('keeps facts as bullet lines that cannot start a heading; NONE is no facts', () => {
    expect(normalizeFacts('- The cat is Whiskerino\n* Deadline: May 1\n\n## Sneaky heading\n3. third')).toEqual([
      '- The cat is Whiskerino',
      '- Deadline: May 1',
      '- Sneaky heading',
      '- third',
    ]);
    expect(normalizeFacts('NONE')).toEqual([]);
    expect(normalizeFacts('  none.  ')).toEqual([]);
  });

  it('dates the facts section', () => {
    expect(factsSection(['- a', '- b'], new Date('2031-05-01T09:07:00Z'))).toBe(
      '## Facts saved 2031-05-01 09:07 UTC (context compaction)\n\n- a\n- b\n',
    );
  });

  it('marks the summary message as a summary', () => {
    const message = summaryMessage('They agreed on a plan.', 7);
    expect(message.role).toBe('user');
    expect(isSummaryMessage(message)).toBe(true);
    expect(message.content).toMatch(
      /^\[Summary of the earlier conversation: it replaces 7 older messages.*MEMORY\.md\]\n\nThey agreed on a plan\.$/,
    );
    expect(isSummaryMessage(user('Summary of the earlier conversation'))).toBe(false);
  });
});
