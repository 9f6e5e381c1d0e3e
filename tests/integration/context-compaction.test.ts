// Write then compact through the real mesh, a real agent process and the fake provider:
// a long conversation crosses 70% of a small configured window; the facts of the older
// turns are in MEMORY.md (read from disk the moment each request reaches the fake)
// before the first request with a shortened history; the conversation goes on; no
// request ever separates a tool call from its result; a provider overflow is compacted
// harder and retried.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FACTS_INSTRUCTIONS, SUMMARY_INSTRUCTIONS, SUMMARY_MARKER } from '../../src/agent/context/transcript.js';
import { directiveResponder, type FakeCall } from '../fakes/fake-provider.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';
import { REPO_ROOT } from '../helpers/project.js';
import { toolPairingProblems } from '../helpers/tool-pairs.js';

// The system prompt and the tool definitions alone take about 2,200 tokens, so the
// smallest window that leaves room for a conversation is about twice that.
const WINDOW = 4_000;
const WORDS = [
  'amber',
  'birch',
  'cobalt',
  'dune',
  'ember',
  'fjord',
  'garnet',
  'harbor',
  'indigo',
  'juniper',
  'kestrel',
  'lagoon',
  'marble',
  'nectar',
];
const FILLER = 'The weather report, the shopping list and other small talk fill this part. '.repeat(26);

type Kind = 'facts' | 'summary' | 'chat';

function kindOf(call: FakeCall): Kind {
  const system = call.messages.find((m) => m.role === 'system')?.content;
  return system === FACTS_INSTRUCTIONS ? 'facts' : system === SUMMARY_INSTRUCTIONS ? 'summary' : 'chat';
}

const isShortened = (call: FakeCall) =>
  call.messages.some((m) => m.role === 'user' && m.content.startsWith(SUMMARY_MARKER));
const factNumbers = (text: string) => [...text.matchAll(/fact #(\d+):/g)].map((m) => Number(m[1]));

describe('context compaction', () => {
  let h: Harness;
  let memoryFile: string;
  /** MEMORY.md as it was when the fake received calls[i]. */
  const memoryAt: string[] = [];
  const replies: string[] = [];

  beforeAll(async () => {
    h = await startHarness({
      agentsYaml: `agents:\n  keeper:\n    role: remembers things\n    context_window: ${WINDOW}\n`,
    });
    memoryFile = join(h.runtime.dataDir('keeper'), 'workspace', 'MEMORY.md');
    h.fake.respondWith((call) => {
      memoryAt[h.fake.calls.indexOf(call)] = readFileSync(memoryFile, 'utf8');
      const transcript = call.messages.find((m) => m.role === 'user')?.content ?? '';
      switch (kindOf(call)) {
        case 'facts': {
          const facts = [...transcript.matchAll(/fact #\d+: the code word for day \d+ is \w+/g)].map(
            (m) => `- ${m[0]}`,
          );
          return { text: [...new Set(facts)].join('\n') || 'NONE' };
        }
        case 'summary':
          return {
            text: `The user shared the code words of days ${[...new Set(factNumbers(transcript))].join(', ')}.`,
          };
        case 'chat': {
          const last = call.messages.at(-1);
          const text = last?.role === 'user' ? last.content : '';
          // A long message gets a short answer, so the context grows most when a turn
          // starts, and the turn before it ended with tool results.
          const long = /^Remember fact #(\d+):/.exec(text);
          if (long) return { text: `noted fact #${long[1]}` };
          // "save twice" asks for two tool calls in one answer, so the last 4 messages
          // at the next turn's start begin between a call's two results.
          const twice = /^save twice \(day (\d+)\): ([\s\S]*)$/.exec(text);
          if (!twice) return directiveResponder(call);
          const [, day = '', content = ''] = twice;
          return {
            tool_calls: ['a', 'b'].map((part) => ({
              name: 'write_file',
              arguments: { path: `notes/day${day}-${part}.md`, content },
            })),
          };
        }
      }
    });

    for (const [index, word] of WORDS.entries()) {
      const day = index + 1;
      const fact = `Remember fact #${day}: the code word for day ${day} is ${word}.`;
      // Every other turn goes through tools, so there are calls and results to keep together.
      const message = day % 2 === 0 ? `save twice (day ${day}): ${fact}` : `${fact} ${FILLER}`;
      replies.push(await h.say('keeper', message));
    }
  }, 120_000);
  afterAll(async () => h?.close());

  it('gets its window from agents.yaml through the mesh, over the shipped table', async () => {
    const token = h.runtime.launches.get('keeper')?.secrets.mesh_token ?? '';
    const response = await fetch(`${h.mesh.agentApiUrl}/mesh/agent/config`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await response.json()).toMatchObject({
      agent: 'keeper',
      model: 'openai/gpt-4o-mini',
      context_window: WINDOW,
    });
  });

  it('saves the facts to MEMORY.md before the first request with a shortened history', () => {
    const calls = h.fake.calls;
    const kinds = calls.map(kindOf);
    const firstFacts = kinds.indexOf('facts');
    const firstShortened = calls.findIndex((call) => kindOf(call) === 'chat' && isShortened(call));
    expect(firstFacts).toBeGreaterThan(0);
    expect(firstShortened).toBeGreaterThan(firstFacts);
    expect(kinds.slice(firstFacts, firstShortened)).toContain('summary');

    // Until the extraction, every chat request carried the whole conversation.
    const before = calls.slice(0, firstFacts).map((call) => call.messages.length);
    expect(before).toEqual([...before].sort((a, b) => a - b));

    // The facts of every turn the shortened request no longer carries were on disk by then.
    const previous = calls
      .slice(0, firstFacts)
      .filter((call) => kindOf(call) === 'chat')
      .at(-1);
    const kept = new Set(
      factNumbers(
        (calls[firstShortened]?.messages ?? [])
          .filter((m) => !m.content.startsWith(SUMMARY_MARKER))
          .map((m) => m.content)
          .join('\n'),
      ),
    );
    const dropped = [...new Set(factNumbers((previous?.messages ?? []).map((m) => m.content).join('\n')))].filter(
      (n) => !kept.has(n),
    );
    expect(dropped.length).toBeGreaterThan(0);
    const memory = memoryAt[firstShortened] ?? '';
    expect(memory).toMatch(/## Facts saved \d{4}-\d\d-\d\d \d\d:\d\d UTC \(context compaction\)/);
    for (const day of dropped)
      expect(memory).toContain(`- fact #${day}: the code word for day ${day} is ${WORDS[day - 1]}`);
    // The extraction request itself saw MEMORY.md without them: they were written in between.
    expect(memoryAt[firstFacts]).not.toContain('## Facts saved');
  });

  it('keeps the summary plus the last messages, and the conversation goes on', () => {
    const shortened = h.fake.calls.filter((call) => kindOf(call) === 'chat' && isShortened(call));
    expect(shortened.length).toBeGreaterThan(0);
    for (const call of shortened) {
      const summaryAt = call.messages.findIndex((m) => m.content.startsWith(SUMMARY_MARKER));
      expect(summaryAt).toBe(1);
      expect(call.messages.length - 2).toBeGreaterThanOrEqual(4);
    }
    for (const [index, reply] of replies.entries()) {
      const day = index + 1;
      if (day % 2 === 0)
        expect(reply).toMatch(new RegExp(`^tool write_file returned: wrote \\d+ bytes to notes/day${day}-b\\.md$`));
      else expect(reply).toBe(`noted fact #${day}`);
    }
    const memory = readFileSync(memoryFile, 'utf8');
    expect(
      memory.startsWith(readFileSync(join(REPO_ROOT, 'agent-image', 'workspace', 'MEMORY.md'), 'utf8').trimEnd()),
    ).toBe(true);
    expect(factNumbers(memory).length).toBeGreaterThanOrEqual(4);
  });

  it('never sends a tool call without its result, or a result without its call', () => {
    const chats = h.fake.calls.filter((call) => kindOf(call) === 'chat');
    for (const call of chats) expect(toolPairingProblems(call.messages)).toEqual([]);
    // At least once the last 4 messages began at a call's second result, and the kept
    // window reached back to the call: summary, call, both results and what followed.
    const extended = chats.filter(
      (call) =>
        isShortened(call) && call.messages[2]?.role === 'assistant' && (call.messages[2].tool_calls?.length ?? 0) === 2,
    );
    expect(extended.length).toBeGreaterThan(0);
    for (const call of extended) expect(call.messages.length - 2).toBeGreaterThan(4);
  });

  it('compacts harder and retries once when the provider reports an overflow anyway', async () => {
    await h.client.reset('keeper');
    expect(await h.say('keeper', 'short one')).toBe('echo: short one');
    expect(await h.say('keeper', 'short two')).toBe('echo: short two');
    const from = h.fake.calls.length;
    h.fake.script({
      error: {
        status: 400,
        message:
          "This model's maximum context length is 4000 tokens. However, your messages resulted in 4100 tokens. Please reduce the length of the messages.",
        type: 'invalid_request_error',
      },
    });
    expect(await h.say('keeper', 'short three')).toBe('echo: short three');
    const tail = h.fake.calls.slice(from);
    expect(tail.map(kindOf)).toEqual(['chat', 'facts', 'summary', 'chat']);
    expect(tail[3]?.messages.map((m) => m.role)).toEqual(['system', 'user', 'user']);
    expect(tail[3]?.messages[1]?.content.startsWith(SUMMARY_MARKER)).toBe(true);
    expect(tail[3]?.messages[2]?.content).toBe('short three');
  });
});
