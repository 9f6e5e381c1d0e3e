// The chat loop with a scripted LLM: each call returns the next prepared response (its
// content streamed as deltas first) and every request is recorded for inspection.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { runChatTurn, type ChatSession } from '../../src/agent/loop.js';
import type { LlmCallOptions, LlmClient } from '../../src/agent/mesh-client.js';
import { defineTool, type Tool } from '../../src/agent/tools/registry.js';
import { createLogger } from '../../src/shared/logging.js';
import type { AgentRuntimeConfig } from '../../src/shared/wire/agent.js';
import type { ChatEvent } from '../../src/shared/wire/chat.js';
import type { LlmChatRequest, LlmChatResponse, Message, ToolCall } from '../../src/shared/wire/llm.js';

class ScriptedLlm implements LlmClient {
  readonly requests: LlmChatRequest[] = [];

  constructor(private readonly script: (callIndex: number) => LlmChatResponse) {}

  async llmChat(request: LlmChatRequest, options: LlmCallOptions): Promise<LlmChatResponse> {
    // A snapshot: the loop keeps appending to its message list after the call.
    this.requests.push(structuredClone(request));
    const response = this.script(this.requests.length - 1);
    for (const word of response.message.content.match(/\S+\s*/g) ?? []) options.onDelta?.(word);
    return response;
  }
}

function answer(content: string, toolCalls: ToolCall[] = []): LlmChatResponse {
  return {
    provider: 'scripted',
    model: 'scripted/model',
    message: { role: 'assistant', content, tool_calls: toolCalls },
    finish_reason: toolCalls.length > 0 ? 'tool_calls' : 'stop',
    usage: { prompt_tokens: 10, completion_tokens: 5 },
  };
}

const shout = defineTool({
  name: 'shout',
  description: 'Upper-cases text.',
  schema: z.strictObject({ text: z.string() }),
  run: async (args) => ({ ok: true, output: args.text.toUpperCase() }),
});
const tools: Tool[] = [shout];

const config: AgentRuntimeConfig = {
  agent: 'tester',
  role: 'test agent',
  model: 'scripted/model',
  system_prompt: '',
  project_md: '',
  max_tool_rounds: 3,
  context_window: 100_000,
  embedding_model: null,
  memory: { vector_weight: 0.3, recency_half_life_days: null },
};
const logger = createLogger({}, { write: () => undefined });
// Failed tool calls are recorded under the workspace, so it must be a real directory.
const dataDir = mkdtempSync(path.join(tmpdir(), 'legion-loop-'));
const toolContext = { dataDir, workspaceDir: path.join(dataDir, 'workspace'), trace: null };
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function turn(
  llm: LlmClient,
  session: ChatSession = { id: 's1', messages: [], usageMark: null },
  userMessage = 'hello',
) {
  const events: ChatEvent[] = [];
  const done = await runChatTurn({
    llm,
    tools,
    toolContext,
    config,
    systemPrompt: 'SYSTEM',
    session,
    userMessage,
    emit: (event) => events.push(event),
    signal: new AbortController().signal,
    logger,
  });
  return { done, events, session };
}

function toolMessages(request: LlmChatRequest | undefined): Extract<Message, { role: 'tool' }>[] {
  return (request?.messages ?? []).filter((m): m is Extract<Message, { role: 'tool' }> => m.role === 'tool');
}

describe('runChatTurn', () => {
  it('answers directly, streaming deltas as token events', async () => {
    const llm = new ScriptedLlm(() => answer('Hi there friend'));
    const { done, events, session } = await turn(llm);
    expect(events.filter((e) => e.type === 'token').map((e) => (e.type === 'token' ? e.text : ''))).toEqual([
      'Hi ',
      'there ',
      'friend',
    ]);
    expect(done).toEqual({
      type: 'done',
      reply: 'Hi there friend',
      tool_rounds: 0,
      usage: { prompt_tokens: 10, completion_tokens: 5 },
    });
    expect(events.at(-1)).toEqual(done);
    expect(llm.requests[0]).toMatchObject({
      model: 'scripted/model',
      messages: [
        { role: 'system', content: 'SYSTEM' },
        { role: 'user', content: 'hello' },
      ],
    });
    expect(llm.requests[0]?.tools?.map((t) => t.name)).toEqual(['shout']);
    expect(session.messages).toEqual([
      { role: 'user', content: 'hello' },
      { role: 'assistant', content: 'Hi there friend' },
    ]);
  });

  it('runs a tool and feeds the result back under the same tool_call_id', async () => {
    const llm = new ScriptedLlm((i) =>
      i === 0 ? answer('', [{ id: 'call_a', name: 'shout', arguments: '{"text":"quiet"}' }]) : answer('It said QUIET.'),
    );
    const { done, events } = await turn(llm);
    expect(events.filter((e) => e.type === 'tool_call' || e.type === 'tool_result')).toEqual([
      { type: 'tool_call', id: 'call_a', name: 'shout', arguments: '{"text":"quiet"}' },
      { type: 'tool_result', id: 'call_a', name: 'shout', ok: true, output: 'QUIET' },
    ]);
    const second = llm.requests[1];
    expect(second?.messages.at(-2)).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'call_a', name: 'shout', arguments: '{"text":"quiet"}' }],
    });
    expect(toolMessages(second)).toEqual([
      { role: 'tool', tool_call_id: 'call_a', name: 'shout', content: 'QUIET', is_error: false },
    ]);
    expect(done).toMatchObject({
      reply: 'It said QUIET.',
      tool_rounds: 1,
      usage: { prompt_tokens: 20, completion_tokens: 10 },
    });
  });

  it('turns bad JSON and schema failures into error results the model sees', async () => {
    const llm = new ScriptedLlm((i) =>
      i === 0
        ? answer('', [
            { id: 'bad_json', name: 'shout', arguments: '{"text": ' },
            { id: 'bad_field', name: 'shout', arguments: '{"text": 42}' },
            { id: 'no_tool', name: 'whisper', arguments: '{}' },
          ])
        : answer('Sorry.'),
    );
    const { done } = await turn(llm);
    const results = toolMessages(llm.requests[1]);
    expect(results.map((m) => [m.tool_call_id, m.is_error])).toEqual([
      ['bad_json', true],
      ['bad_field', true],
      ['no_tool', true],
    ]);
    expect(results[0]?.content).toContain('arguments for shout are not valid JSON');
    expect(results[1]?.content).toBe('arguments for shout: text: expected a string');
    expect(results[2]?.content).toContain('unknown tool "whisper"');
    expect(done.reply).toBe('Sorry.');
    const errors = readFileSync(path.join(toolContext.workspaceDir, 'learnings', 'errors.md'), 'utf8');
    expect(errors.match(/^## .* · (shout|whisper) failed$/gm)).toHaveLength(3);
    expect(errors).toContain('unknown tool "whisper"');
  });

  it('stops a model that always calls tools at max_tool_rounds and says so', async () => {
    const llm = new ScriptedLlm((i) =>
      answer(`round ${i}`, [{ id: `call_${i}`, name: 'shout', arguments: '{"text":"again"}' }]),
    );
    const { done, events, session } = await turn(llm);
    expect(llm.requests).toHaveLength(config.max_tool_rounds + 1);
    expect(events.filter((e) => e.type === 'tool_result')).toHaveLength(config.max_tool_rounds);
    expect(done.tool_rounds).toBe(config.max_tool_rounds);
    expect(done.reply).toMatch(/^round 3\n\n\[stopped: .*after 3 tool rounds/);
    // The unanswered calls of the last answer are not kept: every kept call has a result.
    const calls = session.messages.flatMap((m) => (m.role === 'assistant' ? (m.tool_calls ?? []) : []));
    expect(calls.map((c) => c.id)).toEqual(toolMessages({ messages: session.messages }).map((m) => m.tool_call_id));
    expect(session.messages.at(-1)).toEqual({ role: 'assistant', content: done.reply });
  });

  it('keeps the conversation across turns', async () => {
    const llm = new ScriptedLlm((i) => answer(`reply ${i}`));
    const { session } = await turn(llm);
    await turn(llm, session, 'second');
    expect(llm.requests[1]?.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(session.messages).toHaveLength(4);
  });

  it('leaves the session untouched when the turn fails or is cancelled', async () => {
    const session: ChatSession = { id: 's1', messages: [], usageMark: null };
    const failing: LlmClient = { llmChat: () => Promise.reject(new Error('provider down')) };
    await expect(turn(failing, session)).rejects.toThrow('provider down');
    expect(session.messages).toEqual([]);

    const controller = new AbortController();
    const cancelling = new ScriptedLlm(() => {
      controller.abort();
      return answer('', [{ id: 'c', name: 'shout', arguments: '{"text":"x"}' }]);
    });
    const run = runChatTurn({
      llm: cancelling,
      tools,
      toolContext,
      config,
      systemPrompt: 'SYSTEM',
      session,
      userMessage: 'hello',
      emit: () => undefined,
      signal: controller.signal,
      logger,
    });
    await expect(run).rejects.toMatchObject({ code: 'aborted' });
    expect(session.messages).toEqual([]);
  });
});
