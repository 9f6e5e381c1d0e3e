// A task run with a scripted LLM: each call returns what the script says for that call
// (it sees the request), and every request is recorded, so the tests check both the
// outcome and what the model was shown.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { LlmCallOptions, LlmClient } from '../../src/agent/mesh-client.js';
import { compileOutputSchema } from '../../src/agent/task/output.js';
import { runTask, type TaskRunInput } from '../../src/agent/task/run.js';
import { defineTool, type Tool } from '../../src/agent/tools/registry.js';
import { LegionError } from '../../src/shared/errors.js';
import { createLogger } from '../../src/shared/logging.js';
import type { AgentRuntimeConfig } from '../../src/shared/wire/agent.js';
import type { LlmChatRequest, LlmChatResponse, ToolCall } from '../../src/shared/wire/llm.js';
import { TaskRequestSchema, type TaskRequest } from '../../src/shared/wire/task.js';

class ScriptedLlm implements LlmClient {
  readonly requests: LlmChatRequest[] = [];

  constructor(
    private readonly script: (callIndex: number, request: LlmChatRequest) => LlmChatResponse | Promise<LlmChatResponse>,
  ) {}

  async llmChat(request: LlmChatRequest, _options: LlmCallOptions): Promise<LlmChatResponse> {
    this.requests.push(structuredClone(request));
    return this.script(this.requests.length - 1, request);
  }

  lastUserMessage(index: number): string {
    const user = this.requests[index]?.messages.filter((m) => m.role === 'user').at(-1);
    return user?.content ?? '';
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

function call(name: string, args: unknown, id = `call_${name}`): ToolCall {
  return { id, name, arguments: JSON.stringify(args) };
}

let lookups = 0;
const lookup = defineTool({
  name: 'lookup',
  description: 'Looks a word up.',
  schema: z.strictObject({ word: z.string() }),
  run: async ({ word }) => {
    lookups += 1;
    return { ok: true, output: `${word}: found` };
  },
});
const tools: Tool[] = [lookup];

const config: AgentRuntimeConfig = {
  agent: 'tester',
  role: 'test agent',
  model: 'scripted/model',
  system_prompt: '',
  project_md: '',
  // Lower than the tasks' budgets: a task must not stop at the chat round limit.
  max_tool_rounds: 2,
  context_window: 100_000,
  embedding_model: null,
  memory: { vector_weight: 0.3, recency_half_life_days: null },
};
const logger = createLogger({}, { write: () => undefined });
const dataDir = mkdtempSync(path.join(tmpdir(), 'legion-task-run-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const scoreSchema = {
  type: 'object',
  properties: { score: { type: 'integer' }, region: { enum: ['EU', 'US'] } },
  required: ['score', 'region'],
};

function run(llm: LlmClient, request: Partial<TaskRequest>, signal = new AbortController().signal) {
  const parsed = TaskRequestSchema.parse({
    task_id: 't1',
    task_type: 'qualify_prospect',
    input: { name: 'Acme' },
    ...request,
  });
  const input: TaskRunInput = {
    request: parsed,
    validator: parsed.output_schema ? compileOutputSchema(parsed.output_schema) : null,
    llm,
    tools,
    toolContext: { dataDir, workspaceDir: path.join(dataDir, 'workspace'), trace: null },
    config,
    systemPrompt: 'CHAT PROMPT',
    signal,
    logger,
  };
  return runTask(input);
}

describe('runTask', () => {
  it('tells the model the task type, the input and the schema, and returns the validated JSON', async () => {
    const llm = new ScriptedLlm(() => answer('```json\n{"score": 7, "region": "EU"}\n```'));
    const outcome = await run(llm, { output_schema: scoreSchema });
    expect(outcome).toEqual({
      status: 'done',
      output: { score: 7, region: 'EU' },
      promotions: [],
      usage: { prompt_tokens: 10, completion_tokens: 5 },
      iterations: 1,
    });
    const system = llm.requests[0]?.messages[0];
    expect(system?.role).toBe('system');
    expect(system?.content).toMatch(/^CHAT PROMPT\n\n## Your current task/);
    expect(system?.content).toContain('Task type: qualify_prospect');
    expect(system?.content).toContain('"name": "Acme"');
    expect(system?.content).toContain('must be one JSON value that matches this JSON Schema');
    expect(system?.content).toContain('"required": [\n    "score",\n    "region"\n  ]');
    expect(llm.requests[0]?.tools?.map((t) => t.name)).toEqual(['lookup', 'promote']);
  });

  it('sends an invalid answer back with the errors and accepts the corrected one', async () => {
    const llm = new ScriptedLlm((i) =>
      answer(i === 0 ? '{"score": "high", "region": "EU"}' : '{"score": 8, "region": "EU"}'),
    );
    const outcome = await run(llm, { output_schema: scoreSchema });
    expect(outcome).toMatchObject({
      status: 'done',
      output: { score: 8, region: 'EU' },
      iterations: 2,
      usage: { prompt_tokens: 20, completion_tokens: 10 },
    });
    expect(llm.lastUserMessage(1)).toContain('does not match the required output schema:\n- /score: must be integer');
    // The retry continues the same conversation: the model sees its own wrong answer.
    expect(llm.requests[1]?.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
  });

  it('fails with the validation errors when the budget runs out before a valid answer', async () => {
    const llm = new ScriptedLlm(() => answer('I think it is a good lead.'));
    const outcome = await run(llm, { output_schema: scoreSchema, max_iterations: 3 });
    expect(llm.requests).toHaveLength(3);
    expect(outcome).toMatchObject({
      status: 'failed',
      iterations: 3,
      error: { code: 'invalid_output', message: expect.stringContaining('after 3 model calls') },
    });
    expect(outcome.status === 'failed' && outcome.error.message).toContain('not JSON');
  });

  it('makes at most max_iterations model calls when the model keeps wanting tools', async () => {
    lookups = 0;
    const llm = new ScriptedLlm((i) => answer('', [call('lookup', { word: `w${i}` }, `c${i}`)]));
    const outcome = await run(llm, { max_iterations: 4 });
    expect(llm.requests).toHaveLength(4);
    // The fourth answer's call does not run: its result could never be shown to the model.
    expect(lookups).toBe(3);
    expect(outcome).toMatchObject({
      status: 'failed',
      iterations: 4,
      usage: { prompt_tokens: 40 },
      error: { code: 'iteration_limit' },
    });
  });

  it('stops a model that repeats the same call, before the repeat runs', async () => {
    lookups = 0;
    const llm = new ScriptedLlm((i) => answer('', [call('lookup', { word: 'same' }, `c${i}`)]));
    const outcome = await run(llm, {});
    expect(llm.requests).toHaveLength(3);
    expect(lookups).toBe(2);
    expect(outcome).toMatchObject({
      status: 'failed',
      iterations: 3,
      error: {
        code: 'loop_guard',
        message: expect.stringContaining('called lookup with the same arguments 3 times in a row'),
      },
    });
  });

  it('reports promotions with the result, the last value of a key winning', async () => {
    const llm = new ScriptedLlm((i) => {
      if (i === 0)
        return answer('', [
          call('promote', { key: 'context/acme', value: { score: 1 } }, 'p1'),
          call('promote', { key: 'context/other', value: 'x' }, 'p2'),
        ]);
      if (i === 1) return answer('', [call('promote', { key: 'context/acme', value: { score: 9 } }, 'p3')]);
      return answer('qualified');
    });
    const outcome = await run(llm, {});
    expect(outcome).toMatchObject({
      status: 'done',
      output: 'qualified',
      promotions: [
        { key: 'context/acme', value: { score: 9 } },
        { key: 'context/other', value: 'x' },
      ],
    });
  });

  it('refuses a promotion under a key the blackboard would refuse, as a tool error the model sees', async () => {
    const llm = new ScriptedLlm((i) =>
      i === 0 ? answer('', [call('promote', { key: '../escape', value: 1 }, 'p1')]) : answer('ok'),
    );
    const outcome = await run(llm, {});
    expect(outcome).toMatchObject({ status: 'done', promotions: [] });
    const toolMessage = llm.requests[1]?.messages.find((m) => m.role === 'tool');
    expect(toolMessage).toMatchObject({ is_error: true, content: expect.stringContaining('".." segment') });
  });

  it('without a schema: parses an answer that is only JSON, keeps text as text', async () => {
    expect(await run(new ScriptedLlm(() => answer('{"n": 3}')), {})).toMatchObject({
      status: 'done',
      output: { n: 3 },
    });
    expect(await run(new ScriptedLlm(() => answer('All done.')), {})).toMatchObject({
      status: 'done',
      output: 'All done.',
    });
  });

  it('ends as aborted when the signal fires, keeping the usage so far', async () => {
    const controller = new AbortController();
    const llm = new ScriptedLlm((i) => {
      if (i === 1) controller.abort();
      return answer('', [call('lookup', { word: `w${i}` }, `c${i}`)]);
    });
    const outcome = await run(llm, {}, controller.signal);
    expect(outcome).toEqual({ status: 'aborted', usage: { prompt_tokens: 20, completion_tokens: 10 }, iterations: 2 });
  });

  it('fails with the code of an LLM error', async () => {
    const llm = new ScriptedLlm(() => {
      throw new LegionError('budget_exceeded', 'tester has spent its daily budget');
    });
    expect(await run(llm, {})).toEqual({
      status: 'failed',
      error: { code: 'budget_exceeded', message: 'tester has spent its daily budget' },
      usage: { prompt_tokens: 0, completion_tokens: 0 },
      iterations: 0,
    });
  });
});
