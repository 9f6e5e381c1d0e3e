// Task mode on the agent server as a real local process (`node --import tsx
// src/agent/main.ts`), against a tiny fake mesh in this file that serves the agent
// config and streams scripted LLM answers. The scripted model reads the task type from
// the system prompt and reacts to the conversation, so a task that was not told its
// type, or not shown its validation errors, gets the wrong answer.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSse } from '../../src/shared/sse.js';
import { AgentServerStatusSchema, type AgentRuntimeConfig } from '../../src/shared/wire/agent.js';
import {
  LlmChatRequestSchema,
  type LlmChatRequestParsed,
  type LlmChatResponse,
  type LlmStreamEvent,
  type ToolCall,
} from '../../src/shared/wire/llm.js';
import { TaskResultSchema, type TaskRequest, type TaskResult, type TaskStatus } from '../../src/shared/wire/task.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const AGENT_TOKEN = 'worker.agent-secret';
const SERVER_TOKEN = 'server-secret';
const config: AgentRuntimeConfig = {
  agent: 'worker',
  role: 'does tasks',
  model: 'fake/model',
  system_prompt: '',
  project_md: '',
  max_tool_rounds: 5,
  context_window: 128_000,
  embedding_model: null,
  memory: { vector_weight: 0.3, recency_half_life_days: null },
};

const prospectSchema = {
  type: 'object',
  properties: { score: { type: 'integer', minimum: 0, maximum: 10 }, region: { enum: ['EU', 'US'] } },
  required: ['score', 'region'],
  additionalProperties: false,
};

type Reply = { content: string; calls?: ToolCall[] } | 'hang';

class FakeMesh {
  /** LLM requests per task id (read from the system prompt). */
  readonly llmRequests = new Map<string, LlmChatRequestParsed[]>();
  inFlight = 0;
  maxInFlight = 0;
  private readonly server: Server = createServer((req, res) => void this.handle(req, res));

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  calls(taskId: string): number {
    return this.llmRequests.get(taskId)?.length ?? 0;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.headers.authorization !== `Bearer ${AGENT_TOKEN}`) {
      res
        .writeHead(401, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { code: 'unauthorized', message: 'bad agent token' } }));
      return;
    }
    if (req.method === 'GET' && req.url === '/mesh/agent/config') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(config));
      return;
    }
    if (req.method === 'POST' && req.url === '/mesh/llm/chat') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const request = LlmChatRequestSchema.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      const system = request.messages[0]?.role === 'system' ? request.messages[0].content : '';
      const taskId = /^Task id: (\S+)$/m.exec(system)?.[1] ?? '(chat)';
      const taskType = /^Task type: (\S+)$/m.exec(system)?.[1] ?? '';
      const seen = [...(this.llmRequests.get(taskId) ?? []), request];
      this.llmRequests.set(taskId, seen);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      this.inFlight += 1;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      try {
        await this.answer(scriptedModel(taskType, request, seen.length), res);
      } finally {
        this.inFlight -= 1;
      }
      return;
    }
    res.writeHead(404).end();
  }

  private async answer(reply: Reply, res: ServerResponse): Promise<void> {
    const send = (event: LlmStreamEvent): void => void res.write(encodeSse(event));
    if (reply === 'hang') {
      send({ type: 'delta', text: 'thinking' });
      await once(res, 'close');
      return;
    }
    const calls = reply.calls ?? [];
    const response: LlmChatResponse = {
      provider: 'fake',
      model: 'fake/model',
      message: { role: 'assistant', content: reply.content, tool_calls: calls },
      finish_reason: calls.length > 0 ? 'tool_calls' : 'stop',
      usage: { prompt_tokens: 7, completion_tokens: 3 },
    };
    if (reply.content) send({ type: 'delta', text: reply.content });
    send({ type: 'done', response });
    res.end();
  }
}

/** The model: a function of the task type, the conversation and how often this task called. */
function scriptedModel(taskType: string, request: LlmChatRequestParsed, callNumber: number): Reply {
  const last = request.messages.at(-1);
  const call = (name: string, args: unknown): ToolCall[] => [
    { id: `call_${callNumber}`, name, arguments: JSON.stringify(args) },
  ];
  switch (taskType) {
    case 'qualify_prospect':
      if (last?.role === 'user')
        return { content: '', calls: call('promote', { key: 'context/prospect_acme', value: { stage: 'qualified' } }) };
      return { content: 'Here is the result:\n```json\n{"score": 7, "region": "EU"}\n```' };
    case 'score_with_retry':
      if (last?.role === 'user' && last.content.includes('- /score: must be integer'))
        return { content: '{"score": 6, "region": "US"}' };
      return { content: '{"score": "six", "region": "US"}' };
    case 'long_command':
      if (last?.role === 'user')
        return { content: '', calls: call('exec', { command: 'touch started.flag && sleep 30', timeout_s: 60 }) };
      return { content: 'the command ended' };
    case 'stuck':
      return { content: '', calls: call('list_files', { path: '.' }) };
    case 'hang':
      return 'hang';
    case 'hang_first_time':
      return callNumber === 1 ? 'hang' : { content: 'finished on the second dispatch' };
    default:
      return { content: `did ${taskType}` };
  }
}

let mesh: FakeMesh;
let meshUrl: string;
let dataDir: string;
let agent: ChildProcess;
let agentUrl: string;
let agentLog = '';

async function startAgent(): Promise<void> {
  agent = spawn(process.execPath, ['--import', 'tsx', 'src/agent/main.ts'], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      LEGION_AGENT: 'worker',
      LEGION_MESH_URL: meshUrl,
      LEGION_DATA_DIR: dataDir,
      LEGION_AGENT_PORT: '0',
      LEGION_AGENT_HOST: '127.0.0.1',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  agent.stdin?.end(JSON.stringify({ mesh_token: AGENT_TOKEN, server_token: SERVER_TOKEN }));
  agent.stderr?.on('data', (chunk: Buffer) => (agentLog += chunk.toString()));
  let buffer = '';
  for await (const chunk of agent.stdout ?? []) {
    buffer += String(chunk);
    const match = /"event":"agent_listening".*?"port":(\d+)/.exec(buffer);
    if (match?.[1]) {
      agentUrl = `http://127.0.0.1:${match[1]}`;
      // Keep draining stdout so a chatty agent never blocks on a full pipe.
      agent.stdout?.on('data', (more: Buffer) => (agentLog += more.toString()));
      return;
    }
  }
  throw new Error(`agent exited before listening:\n${buffer}\n${agentLog}`);
}

async function killAgent(): Promise<void> {
  if (agent.exitCode !== null || agent.signalCode !== null) return;
  const exited = once(agent, 'exit');
  agent.kill('SIGKILL');
  await exited;
}

function api(route: string, init: { method?: string; body?: unknown; token?: string | null } = {}): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const token = init.token === undefined ? SERVER_TOKEN : init.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return fetch(`${agentUrl}${route}`, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

async function postTask(task: TaskRequest): Promise<{ status: number; result: TaskResult }> {
  const response = await api('/task', { method: 'POST', body: task });
  const body: unknown = await response.json();
  if (response.status >= 300) throw new Error(`POST /task answered ${response.status}: ${JSON.stringify(body)}`);
  return { status: response.status, result: TaskResultSchema.parse(body) };
}

async function result(taskId: string): Promise<TaskResult> {
  const response = await api(`/result/${taskId}`);
  expect(response.status).toBe(200);
  return TaskResultSchema.parse(await response.json());
}

async function cancel(taskId: string): Promise<TaskResult> {
  const response = await api(`/cancel/${taskId}`, { method: 'POST' });
  expect(response.status).toBe(200);
  return TaskResultSchema.parse(await response.json());
}

async function settle(
  taskId: string,
  until: (status: TaskStatus) => boolean = (s) => s !== 'queued' && s !== 'running',
): Promise<TaskResult> {
  await expect.poll(async () => until((await result(taskId)).status), { timeout: 10_000, interval: 50 }).toBe(true);
  return result(taskId);
}

async function agentState(): Promise<'idle' | 'busy'> {
  return AgentServerStatusSchema.parse(await (await api('/status')).json()).state;
}

beforeAll(async () => {
  mesh = new FakeMesh();
  meshUrl = await mesh.start();
  dataDir = await mkdtemp(path.join(tmpdir(), 'legion-agent-task-'));
  await startAgent();
});

afterAll(async () => {
  await killAgent();
  await mesh.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('agent task mode', () => {
  it('needs the server token and refuses bad requests with the field named', async () => {
    expect(
      (await api('/task', { method: 'POST', body: { task_id: 'x', task_type: 't', input: 1 }, token: null })).status,
    ).toBe(401);
    expect((await api('/result/x', { token: 'wrong' })).status).toBe(401);

    const misspelt = await api('/task', {
      method: 'POST',
      body: { task_id: 'bad-1', task_type: 't', input: 1, max_iteration: 3 },
    });
    expect(misspelt.status).toBe(400);
    expect(await misspelt.json()).toMatchObject({
      error: { code: 'invalid_request', message: expect.stringContaining('unknown key "max_iteration"') },
    });

    const badSchema = await api('/task', {
      method: 'POST',
      body: { task_id: 'bad-2', task_type: 't', input: 1, output_schema: { type: 'nonsense' } },
    });
    expect(badSchema.status).toBe(400);
    expect(await badSchema.json()).toMatchObject({ error: { code: 'invalid_request', path: 'output_schema' } });
    // Nothing was stored for the refused requests.
    for (const route of ['/result/bad-2', '/result/never-sent']) {
      const missing = await api(route);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
    }
    expect((await api('/cancel/never-sent', { method: 'POST' })).status).toBe(404);
  });

  it('runs a task with an output_schema to validated JSON, with the promotions the model asked for', async () => {
    const accepted = await postTask({
      task_id: 'qualify-1',
      task_type: 'qualify_prospect',
      input: { name: 'Acme', region: 'EU' },
      output_schema: prospectSchema,
    });
    expect(accepted).toEqual({
      status: 202,
      result: {
        task_id: 'qualify-1',
        status: 'queued',
        output: null,
        usage: { prompt_tokens: 0, completion_tokens: 0 },
        started_at: null,
        finished_at: null,
      },
    });
    const done = await settle('qualify-1');
    expect(done).toMatchObject({
      status: 'done',
      output: { score: 7, region: 'EU' },
      promotions: [{ key: 'context/prospect_acme', value: { stage: 'qualified' } }],
      usage: { prompt_tokens: 14, completion_tokens: 6 },
    });
    expect(done.error).toBeUndefined();
    expect(Date.parse(done.finished_at ?? '')).toBeGreaterThanOrEqual(Date.parse(done.started_at ?? ''));
    const system = mesh.llmRequests.get('qualify-1')?.[0]?.messages[0]?.content ?? '';
    expect(system).toContain('You are worker');
    expect(system).toContain('"name": "Acme"');
    expect(system).toContain('"additionalProperties": false');
  });

  it('sends an invalid first answer back with the errors and stores the corrected one', async () => {
    await postTask({
      task_id: 'retry-1',
      task_type: 'score_with_retry',
      input: 'Globex',
      output_schema: prospectSchema,
    });
    expect(await settle('retry-1')).toMatchObject({ status: 'done', output: { score: 6, region: 'US' } });
    expect(mesh.calls('retry-1')).toBe(2);
  });

  it('answers a duplicate POST /task with the stored result and does not run it again', async () => {
    const first = await postTask({ task_id: 'dup-1', task_type: 'echo_twice', input: 'x' });
    const again = await postTask({ task_id: 'dup-1', task_type: 'echo_twice', input: 'x' });
    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(again.result.task_id).toBe('dup-1');
    const done = await settle('dup-1');
    expect(done).toMatchObject({ status: 'done', output: 'did echo_twice' });
    expect(await postTask({ task_id: 'dup-1', task_type: 'echo_twice', input: 'changed' })).toEqual({
      status: 200,
      result: done,
    });
    expect(mesh.calls('dup-1')).toBe(1);
  });

  it('stops a task that repeats the same tool call, before the repeat runs', async () => {
    await postTask({ task_id: 'stuck-1', task_type: 'stuck', input: null });
    const failed = await settle('stuck-1');
    expect(failed).toMatchObject({
      status: 'failed',
      output: null,
      error: {
        code: 'loop_guard',
        message: expect.stringContaining('list_files with the same arguments 3 times in a row'),
      },
    });
    expect(mesh.calls('stuck-1')).toBe(3);
  });

  it('cancels a running task: its command is killed and the queue moves on', async () => {
    await postTask({ task_id: 'long-1', task_type: 'long_command', input: 'sleep' });
    await expect
      .poll(
        () =>
          access(path.join(dataDir, 'workspace', 'started.flag')).then(
            () => true,
            () => false,
          ),
        { timeout: 10_000 },
      )
      .toBe(true);
    expect(await result('long-1')).toMatchObject({ status: 'running' });
    const after = await postTask({ task_id: 'after-long', task_type: 'after', input: 1 });
    expect(after.result.status).toBe('queued');

    const cancelled = await cancel('long-1');
    expect(cancelled).toMatchObject({ status: 'cancelled', output: null, error: { code: 'cancelled' } });
    // The 30 s command no longer holds the queue: the next task runs at once.
    expect(await settle('after-long')).toMatchObject({ status: 'done', output: 'did after' });
    expect(await result('long-1')).toMatchObject({
      status: 'cancelled',
      usage: { prompt_tokens: 7, completion_tokens: 3 },
    });
    // Cancelling a finished task changes nothing.
    expect(await cancel('after-long')).toMatchObject({ status: 'done' });
  });

  it('cancels a task that is still waiting in the queue without ever running it', async () => {
    await postTask({ task_id: 'blocker', task_type: 'hang', input: 1, timeout_s: 1 });
    await postTask({ task_id: 'waiting-1', task_type: 'never_runs', input: 1 });
    expect(await cancel('waiting-1')).toMatchObject({ status: 'cancelled', started_at: null });
    expect(await settle('blocker')).toMatchObject({
      status: 'timeout',
      error: { code: 'timeout', message: expect.stringContaining('timeout_s (1 s)') },
    });
    await expect.poll(agentState).toBe('idle');
    expect(mesh.calls('waiting-1')).toBe(0);
    expect(await result('waiting-1')).toMatchObject({ status: 'cancelled' });
  });

  it('long-polls GET /result?wait_s=N: answers once the task is final, or as it stands after N seconds', async () => {
    await postTask({ task_id: 'poll-hang', task_type: 'hang', input: 1 });
    let started = Date.now();
    const pending = await api('/result/poll-hang?wait_s=0.5');
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(TaskResultSchema.parse(await pending.json()).status).toMatch(/^(queued|running)$/);

    // A cancel answers a waiting caller at once, long before its 30 s.
    started = Date.now();
    const waiting = api('/result/poll-hang?wait_s=30');
    await new Promise((r) => setTimeout(r, 200));
    await cancel('poll-hang');
    expect(TaskResultSchema.parse(await (await waiting).json())).toMatchObject({ status: 'cancelled' });
    expect(Date.now() - started).toBeLessThan(5_000);

    // A task that finishes while the caller waits is answered as it finishes.
    started = Date.now();
    await postTask({ task_id: 'poll-quick', task_type: 'quick', input: 1 });
    const finished = TaskResultSchema.parse(await (await api('/result/poll-quick?wait_s=30')).json());
    expect(finished).toMatchObject({ status: 'done', output: 'did quick' });
    expect(Date.now() - started).toBeLessThan(5_000);

    const tooLong = await api('/result/poll-quick?wait_s=999');
    expect(tooLong.status).toBe(400);
    expect(await tooLong.json()).toMatchObject({
      error: { code: 'invalid_request', message: expect.stringContaining('wait_s') },
    });
    expect((await api('/result/never-sent?wait_s=1')).status).toBe(404);
  });

  it('keeps results across an agent restart; a task cut off by the crash reads as interrupted and runs again when re-dispatched', async () => {
    const before = await result('qualify-1');
    await postTask({ task_id: 'crash-1', task_type: 'hang_first_time', input: 'x' });
    await expect.poll(() => mesh.calls('crash-1')).toBe(1);
    expect(await result('crash-1')).toMatchObject({ status: 'running' });

    await killAgent();
    await startAgent();
    expect(await result('qualify-1')).toEqual(before);
    expect(await result('crash-1')).toMatchObject({ status: 'failed', error: { code: 'interrupted' } });

    const redispatched = await postTask({ task_id: 'crash-1', task_type: 'hang_first_time', input: 'x' });
    expect(redispatched).toMatchObject({ status: 202, result: { status: 'queued' } });
    expect(await settle('crash-1')).toMatchObject({ status: 'done', output: 'finished on the second dispatch' });
  });

  it('ran every model call one at a time', () => {
    expect(mesh.maxInFlight).toBe(1);
  });
});
