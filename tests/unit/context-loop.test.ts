// Write then compact inside the chat loop, with a scripted LLM and a real workspace in a
// temp dir: facts reach MEMORY.md before any message is dropped, the summary and the
// last 4 messages are kept, tool calls stay with their results, a failed extraction
// drops nothing, and a provider overflow is compacted harder and retried once.
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FACTS_INSTRUCTIONS, SUMMARY_INSTRUCTIONS, isSummaryMessage } from '../../src/agent/context/transcript.js';
import { runChatTurn, type ChatSession } from '../../src/agent/loop.js';
import type { LlmCallOptions, LlmClient } from '../../src/agent/mesh-client.js';
import { defineTool } from '../../src/agent/tools/registry.js';
import { LegionError } from '../../src/shared/errors.js';
import { createLogger } from '../../src/shared/logging.js';
import type { AgentRuntimeConfig } from '../../src/shared/wire/agent.js';
import {
  LlmChatRequestSchema,
  type LlmChatRequest,
  type LlmChatRequestParsed,
  type LlmChatResponse,
  type Message,
  type ToolCall,
} from '../../src/shared/wire/llm.js';
import { toolPairingProblems } from '../helpers/tool-pairs.js';

type Kind = 'facts' | 'summary' | 'chat';

interface Seen {
  kind: Kind;
  /** As the mesh would read it: validated, defaults applied (a copy, too). */
  request: LlmChatRequestParsed;
  /** MEMORY.md as it was on disk when the request arrived. */
  memory: string;
}

/** Answers by request kind; the chat answer reports usage as a provider would (chars/4). */
class WorkspaceLlm implements LlmClient {
  readonly seen: Seen[] = [];
  failNext: Partial<Record<Kind, number>> = {};
  chatAnswer: (request: LlmChatRequestParsed) => { content: string; calls?: ToolCall[] } = (request) => ({
    content: `echo: ${(request.messages.at(-1)?.content ?? '').slice(0, 20)}`,
  });

  constructor(private readonly memoryFile: string) {}

  async llmChat(raw: LlmChatRequest, _options: LlmCallOptions): Promise<LlmChatResponse> {
    const request = LlmChatRequestSchema.parse(raw);
    const system = request.messages[0]?.content ?? '';
    const kind: Kind = system === FACTS_INSTRUCTIONS ? 'facts' : system === SUMMARY_INSTRUCTIONS ? 'summary' : 'chat';
    this.seen.push({ kind, request, memory: await readFile(this.memoryFile, 'utf8') });
    const failures = this.failNext[kind] ?? 0;
    if (failures > 0) {
      this.failNext[kind] = failures - 1;
      throw kind === 'chat'
        ? new LegionError(
            'provider_error',
            "openai returned 400: This model's maximum context length is 1000 tokens.",
            { provider: 'openai', status: 400 },
          )
        : new LegionError('provider_error', 'openai returned 500: upstream hiccup', {
            provider: 'openai',
            status: 500,
          });
    }
    const transcript = request.messages[1]?.content ?? '';
    if (kind === 'facts')
      return answer([...transcript.matchAll(/fact (\w+)/g)].map((m) => `- fact ${m[1]}`).join('\n') || 'NONE');
    if (kind === 'summary') return answer(`summary of ${transcript.length} characters`);
    const scripted = this.chatAnswer(request);
    const promptChars = request.messages.reduce((sum, m) => sum + messageChars(m), 0);
    return answer(scripted.content, scripted.calls, Math.ceil(promptChars / 4));
  }

  chats(): Seen[] {
    return this.seen.filter((s) => s.kind === 'chat');
  }
}

function messageChars(message: Message): number {
  const calls = message.role === 'assistant' ? (message.tool_calls ?? []) : [];
  return (
    (message.content ?? '').length + calls.reduce((sum, call) => sum + call.name.length + call.arguments.length, 0)
  );
}

function answer(content: string, toolCalls: ToolCall[] = [], promptTokens = 10): LlmChatResponse {
  const message = { role: 'assistant' as const, content, tool_calls: toolCalls };
  return {
    provider: 'scripted',
    model: 'scripted/model',
    message,
    finish_reason: toolCalls.length > 0 ? 'tool_calls' : 'stop',
    usage: { prompt_tokens: promptTokens, completion_tokens: Math.ceil(messageChars(message) / 4) },
  };
}

const note = defineTool({
  name: 'note',
  description: 'Takes a note.',
  schema: z.strictObject({ text: z.string() }),
  run: async (args) => ({ ok: true, output: `noted ${args.text.length} characters` }),
});

const config: AgentRuntimeConfig = {
  agent: 'tester',
  role: 'test agent',
  model: 'scripted/model',
  system_prompt: '',
  project_md: '',
  max_tool_rounds: 5,
  context_window: 1_000,
  embedding_model: null,
  memory: { vector_weight: 0.3, recency_half_life_days: null },
};

let dataDir: string;
let workspaceDir: string;
let memoryFile: string;
let llm: WorkspaceLlm;
let session: ChatSession;

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'legion-context-'));
  workspaceDir = path.join(dataDir, 'workspace');
  memoryFile = path.join(workspaceDir, 'MEMORY.md');
  await mkdir(workspaceDir);
  await writeFile(memoryFile, '# Memory\n\nHand-written notes.');
  llm = new WorkspaceLlm(memoryFile);
  session = { id: 's', messages: [], usageMark: null };
});
afterEach(() => rm(dataDir, { recursive: true, force: true }));

function say(message: string) {
  return runChatTurn({
    llm,
    tools: [note],
    toolContext: { dataDir, workspaceDir, trace: null },
    config,
    systemPrompt: 'SYSTEM',
    session,
    userMessage: message,
    emit: () => undefined,
    signal: new AbortController().signal,
    logger: createLogger({}, { write: () => undefined }),
  });
}

/** ~190 tokens, naming one fact: the window (1,000) reaches 70% in the 4th such turn. */
const long = (name: string) => `Remember fact ${name}. ${'filler words here '.repeat(40)}`;

describe('write then compact', () => {
  it('saves the facts of the older turns to MEMORY.md before the first shortened request, keeping the summary and the last 4', async () => {
    for (const name of ['alpha', 'bravo', 'charlie', 'delta']) await say(long(name));

    const kinds = llm.seen.map((s) => s.kind);
    const facts = kinds.indexOf('facts');
    expect(facts).toBeGreaterThan(0);
    expect(kinds.slice(facts, facts + 3)).toEqual(['facts', 'summary', 'chat']);
    // Nothing was dropped before: every chat request up to the extraction grew.
    const before = llm.seen.slice(0, facts).map((s) => s.request.messages.length);
    expect(before).toEqual([...before].sort((a, b) => a - b));

    const shortened = llm.seen[facts + 2];
    expect(shortened?.memory).toMatch(
      /## Facts saved \d{4}-\d\d-\d\d \d\d:\d\d UTC \(context compaction\)\n\n- fact alpha/,
    );
    expect(shortened?.memory.startsWith('# Memory\n\nHand-written notes.\n\n## Facts saved')).toBe(true);
    const sent = shortened?.request.messages ?? [];
    expect(sent[0]).toEqual({ role: 'system', content: 'SYSTEM' });
    expect(sent[1] && isSummaryMessage(sent[1])).toBe(true);
    expect(sent[1]?.content).toMatch(/summary of \d+ characters$/);
    expect(sent.slice(2).map((m) => m.role)).toEqual(['assistant', 'user', 'assistant', 'user']);
    expect(sent.at(-1)?.content).toContain('fact');

    // The session carries on from the compacted history, and later turns still answer.
    expect(session.messages[0] && isSummaryMessage(session.messages[0])).toBe(true);
    const done = await say('still there?');
    expect(done.reply).toBe('echo: still there?');
    expect(await readFile(memoryFile, 'utf8')).toContain('- fact alpha');
  });

  it('keeps every tool call with its result when compacting in the middle of a turn', async () => {
    let round = 0;
    llm.chatAnswer = (request) => {
      const last = request.messages.at(-1);
      if (last?.role === 'user' && last.content.startsWith('work')) round = 0;
      round += 1;
      // Two calls a round: the 4th-from-last message before the next call is a tool result.
      const call = (n: number): ToolCall => ({
        id: `c${llm.seen.length}_${n}`,
        name: 'note',
        arguments: JSON.stringify({ text: long(`t${llm.seen.length}_${n}`) }),
      });
      if (round <= 3) return { content: '', calls: [call(1), call(2)] };
      return { content: 'all noted' };
    };
    await say('work one');
    await say('work two');
    await say('work three');
    const shortened = llm.chats().filter((chat) => chat.request.messages.some(isSummaryMessage));
    expect(shortened.length).toBeGreaterThan(0);
    // Kept from the earlier call: its two results come back with it.
    expect(shortened.some((chat) => chat.request.messages.slice(2).filter((m) => m.role === 'tool').length >= 4)).toBe(
      true,
    );
    for (const chat of llm.chats()) expect(toolPairingProblems(chat.request.messages)).toEqual([]);
    expect(toolPairingProblems(session.messages)).toEqual([]);
  });

  it('drops nothing when the extraction fails, and tries again at the next request', async () => {
    for (const name of ['alpha', 'bravo', 'charlie']) await say(long(name));
    llm.failNext = { facts: 1 };
    const lengthBefore = session.messages.length;
    await say(long('delta'));
    const firstFacts = llm.seen.findIndex((s) => s.kind === 'facts');
    const afterFailure = llm.seen[firstFacts + 1];
    expect(afterFailure?.kind).toBe('chat');
    expect(afterFailure?.request.messages).toHaveLength(1 + lengthBefore + 1);
    expect(afterFailure?.memory).toBe('# Memory\n\nHand-written notes.');
    expect(session.messages).toHaveLength(lengthBefore + 2);

    await say('next');
    // Five older messages no longer fit one request at this window: two pieces each.
    const kinds = llm.seen.slice(firstFacts + 2).map((s) => s.kind);
    expect(kinds).toEqual(['facts', 'facts', 'summary', 'summary', 'chat']);
    expect(await readFile(memoryFile, 'utf8')).toContain('- fact alpha');
  });

  it('compacts with a placeholder when only the summary fails: the facts are already safe', async () => {
    for (const name of ['alpha', 'bravo', 'charlie']) await say(long(name));
    llm.failNext = { summary: 1 };
    await say(long('delta'));
    const shortened = llm
      .chats()
      .find((chat) => chat.request.messages.some((m) => m.role === 'user' && isSummaryMessage(m)));
    expect(shortened?.request.messages[1]?.content).toContain('(no summary: the summary request failed.');
    expect(shortened?.memory).toContain('- fact alpha');
  });
});

describe('a provider overflow', () => {
  it('is compacted harder (the last message only) and retried once', async () => {
    await say('short one');
    await say('short two');
    llm.failNext = { chat: 1 };
    const done = await say('short three');
    expect(done.reply).toBe('echo: short three');
    expect(llm.seen.slice(-4).map((s) => s.kind)).toEqual(['chat', 'facts', 'summary', 'chat']);
    const retry = llm.seen.at(-1)?.request.messages ?? [];
    expect(retry.map((m) => m.role)).toEqual(['system', 'user', 'user']);
    expect(retry[1] && isSummaryMessage(retry[1])).toBe(true);
    expect(retry[2]?.content).toBe('short three');
  });

  it('fails the turn when the retry overflows too, with the facts saved', async () => {
    await say('short one');
    llm.failNext = { chat: 2 };
    await expect(say('short two')).rejects.toMatchObject({ code: 'provider_error' });
    expect(llm.seen.slice(-4).map((s) => s.kind)).toEqual(['chat', 'facts', 'summary', 'chat']);
    // The summary stands for the finished turn it replaced; the failed turn left nothing.
    expect(session.messages).toHaveLength(1);
    expect(session.messages[0] && isSummaryMessage(session.messages[0])).toBe(true);
  });

  it('is passed on when there is nothing older to drop', async () => {
    llm.failNext = { chat: 1 };
    await expect(say('first words')).rejects.toMatchObject({ code: 'provider_error' });
    expect(llm.seen.map((s) => s.kind)).toEqual(['chat']);
    expect(session.messages).toEqual([]);
  });
});
