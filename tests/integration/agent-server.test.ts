// The agent server as a real local process (`node --import tsx src/agent/main.ts`),
// talking to a tiny fake mesh in this file that serves the agent config and streams
// scripted LLM answers per the shared schemas. The fake's answers depend only on the
// request it gets, so a wrong conversation shows up as a wrong reply.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSse, readSse } from '../../src/shared/sse.js';
import {
  AgentCapabilitiesSchema,
  AgentServerStatusSchema,
  type AgentRuntimeConfig,
} from '../../src/shared/wire/agent.js';
import { ChatEventSchema, ResetResponseSchema, type ChatEvent } from '../../src/shared/wire/chat.js';
import {
  LlmChatRequestSchema,
  type LlmChatRequestParsed,
  type LlmChatResponse,
  type LlmStreamEvent,
  type ToolCall,
} from '../../src/shared/wire/llm.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const AGENT_TOKEN = 'scout.agent-secret';
const SERVER_TOKEN = 'server-secret';
const config: AgentRuntimeConfig = {
  agent: 'scout',
  role: 'explores the workspace',
  model: 'fake/model',
  system_prompt: 'Be brief.',
  project_md: '# Project Lighthouse',
  max_tool_rounds: 5,
  context_window: 128_000,
  embedding_model: null,
  memory: { vector_weight: 0.3, recency_half_life_days: null },
};

class FakeMesh {
  readonly llmRequests: LlmChatRequestParsed[] = [];
  configCalls = 0;
  readyCalls = 0;
  unauthorized = 0;
  inFlight = 0;
  maxInFlight = 0;
  hungRequestClosed: Promise<void> | null = null;
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

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.headers.authorization !== `Bearer ${AGENT_TOKEN}`) {
      this.unauthorized += 1;
      res
        .writeHead(401, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { code: 'unauthorized', message: 'bad agent token' } }));
      return;
    }
    if (req.method === 'POST' && req.url === '/mesh/agent/ready') {
      this.readyCalls += 1;
      res.writeHead(204).end();
      return;
    }
    if (req.method === 'GET' && req.url === '/mesh/agent/config') {
      this.configCalls += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(config));
      return;
    }
    if (req.method === 'POST' && req.url === '/mesh/llm/chat') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const request = LlmChatRequestSchema.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      this.llmRequests.push(request);
      const last = request.messages.at(-1);
      if (last?.role === 'user' && last.content === 'over budget') {
        const error = { code: 'budget_exceeded', message: 'scout has spent its daily budget' };
        res.writeHead(402, { 'content-type': 'application/json' }).end(JSON.stringify({ error }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      this.inFlight += 1;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      try {
        await this.answer(request, res);
      } finally {
        this.inFlight -= 1;
      }
      return;
    }
    res.writeHead(404).end();
  }

  private async answer(request: LlmChatRequestParsed, res: ServerResponse): Promise<void> {
    const send = (event: LlmStreamEvent): void => void res.write(encodeSse(event));
    const last = request.messages.at(-1);
    const userText = last?.role === 'user' ? last.content : '';
    if (userText === 'hang') {
      this.hungRequestClosed = once(res, 'close').then(() => undefined);
      send({ type: 'delta', text: 'thinking' });
      await this.hungRequestClosed;
      return;
    }
    if (userText === 'fail in stream') {
      send({ type: 'delta', text: 'partial' });
      send({
        type: 'error',
        error: { code: 'provider_error', message: 'rate limited by the provider', provider: 'openai', status: 429 },
      });
      res.end();
      return;
    }
    if (userText.startsWith('slow')) await new Promise((resolve) => setTimeout(resolve, 300));
    const { content, calls } = script(userText, last?.role === 'tool' ? last : null);
    const middle = Math.ceil(content.length / 2);
    for (const piece of [content.slice(0, middle), content.slice(middle)])
      if (piece) send({ type: 'delta', text: piece });
    const response: LlmChatResponse = {
      provider: 'fake',
      model: 'fake/model',
      message: { role: 'assistant', content, tool_calls: calls },
      finish_reason: calls.length > 0 ? 'tool_calls' : 'stop',
      usage: { prompt_tokens: 7, completion_tokens: 3 },
    };
    send({ type: 'done', response });
    res.end();
  }
}

/** The scripted model: a function of the last message only. */
function script(
  userText: string,
  lastTool: { name?: string; content: string } | null,
): { content: string; calls: ToolCall[] } {
  const call = (id: string, name: string, args: unknown): ToolCall[] => [{ id, name, arguments: JSON.stringify(args) }];
  if (userText === 'write and read')
    return {
      content: 'Writing.',
      calls: call('call_w', 'write_file', { path: 'notes/hello.txt', content: 'hello from scout' }),
    };
  if (userText === 'show env')
    return {
      content: '',
      calls: call('call_e', 'exec', { command: 'echo "tokens=[$LEGION_AGENT_TOKEN$LEGION_AGENT_SERVER_TOKEN]"' }),
    };
  if (lastTool?.name === 'write_file')
    return { content: '', calls: call('call_r', 'read_file', { path: 'notes/hello.txt' }) };
  if (lastTool) return { content: `${lastTool.name} said: ${lastTool.content.trim()}`, calls: [] };
  return { content: `echo: ${userText}`, calls: [] };
}

let mesh: FakeMesh;
let agent: ChildProcess;
let agentUrl: string;
let dataDir: string;
let agentStderr = '';

/** Starts the server as the mesh does: settings in the environment, the tokens as one JSON line on stdin. */
function startAgent(
  env: Record<string, string>,
  stdin = JSON.stringify({ mesh_token: AGENT_TOKEN, server_token: SERVER_TOKEN }),
): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/agent/main.ts'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin?.end(stdin);
  child.stderr?.on('data', (chunk: Buffer) => (agentStderr += chunk.toString()));
  return child;
}

async function waitForPort(child: ChildProcess): Promise<number> {
  let buffer = '';
  for await (const chunk of child.stdout ?? []) {
    buffer += String(chunk);
    const match = /"event":"agent_listening".*?"port":(\d+)/.exec(buffer);
    if (match?.[1]) return Number(match[1]);
  }
  throw new Error(`agent exited before listening:\n${buffer}\n${agentStderr}`);
}

function api(route: string, init: RequestInit & { token?: string | null } = {}): Promise<Response> {
  const token = init.token === undefined ? SERVER_TOKEN : init.token;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return fetch(`${agentUrl}${route}`, { ...init, headers });
}

function bodyOf(response: Response): ReadableStream<Uint8Array> {
  if (!response.body) throw new Error(`no body in the answer to ${response.url}`);
  return response.body;
}

async function chat(message: string): Promise<ChatEvent[]> {
  const response = await api('/chat', { method: 'POST', body: JSON.stringify({ message }) });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const events: ChatEvent[] = [];
  for await (const raw of readSse(bodyOf(response))) events.push(ChatEventSchema.parse(raw));
  return events;
}

async function status() {
  return AgentServerStatusSchema.parse(await (await api('/status')).json());
}

beforeAll(async () => {
  mesh = new FakeMesh();
  const meshUrl = await mesh.start();
  dataDir = await mkdtemp(path.join(tmpdir(), 'legion-agent-'));
  await mkdir(path.join(dataDir, 'workspace'));
  await writeFile(path.join(dataDir, 'workspace', 'SOUL.md'), 'my own soul, keep me');
  agent = startAgent({
    LEGION_AGENT: 'scout',
    LEGION_MESH_URL: meshUrl,
    LEGION_DATA_DIR: dataDir,
    LEGION_AGENT_PORT: '0',
    LEGION_AGENT_HOST: '127.0.0.1',
  });
  agentUrl = `http://127.0.0.1:${await waitForPort(agent)}`;
});

afterAll(async () => {
  if (agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL');
  await mesh.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('agent server process', () => {
  it('scaffolds the workspace without overwriting an existing file', async () => {
    // The agent listens first and scaffolds after; every route but /health waits for it.
    expect((await api('/status')).status).toBe(200);
    expect(await readFile(path.join(dataDir, 'workspace', 'SOUL.md'), 'utf8')).toBe('my own soul, keep me');
    for (const name of ['AGENTS.md', 'USER.md', 'MEMORY.md']) {
      const template = await readFile(path.join(repoRoot, 'agent-image', 'workspace', name), 'utf8');
      expect(await readFile(path.join(dataDir, 'workspace', name), 'utf8')).toBe(template);
    }
  });

  it('tells the mesh, with its token, once it listens, so the mesh need not keep asking /health', async () => {
    await expect.poll(() => mesh.readyCalls).toBe(1);
    expect(mesh.unauthorized).toBe(0);
  });

  it('answers /health without a token and refuses other routes without the server token', async () => {
    const health = await api('/health', { token: null });
    expect(await health.json()).toEqual({ ok: true });
    for (const token of [null, 'wrong-token']) {
      const refused = await api('/status', { token });
      expect(refused.status).toBe(401);
      expect(await refused.json()).toMatchObject({ error: { code: 'unauthorized' } });
    }
    const refusedChat = await api('/chat', { method: 'POST', body: JSON.stringify({ message: 'hi' }), token: null });
    expect(refusedChat.status).toBe(401);
  });

  it('lists the workspace and mesh tools, with their exact names, in /capabilities', async () => {
    const capabilities = AgentCapabilitiesSchema.parse(await (await api('/capabilities')).json());
    expect(capabilities.agent).toBe('scout');
    expect(capabilities.tools.map((t) => t.name)).toEqual([
      'exec',
      'read_file',
      'write_file',
      'list_files',
      'memory_search',
      'memory_save',
      'list_agents',
      'read_shared_state',
      'write_shared_state',
      'list_shared_state',
      'publish_event',
      'subscribe_event',
      'send_message',
      'save_artifact',
      'http_request',
      'web_search',
      'set_cron',
      'list_cron',
      'remove_cron',
      'set_heartbeat',
      'notify_user',
      'read_agent_history',
      'spawn_agent',
      'note_correction',
      'skill_view',
      'create_skill',
      'reload_skills',
      'list_custom_skills',
    ]);
  });

  it('rejects a bad chat body with 400 naming the field', async () => {
    const response = await api('/chat', { method: 'POST', body: JSON.stringify({ text: 'hi' }) });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; message: string; path?: string } };
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.message).toContain('chat request: message: expected a string');
    expect(body.error.path).toBe('message');
  });

  it('streams a chat in which the model writes a file and reads it back', async () => {
    const events = await chat('write and read');
    expect(events.map((e) => e.type)).toEqual([
      'token',
      'token',
      'tool_call',
      'tool_result',
      'tool_call',
      'tool_result',
      'token',
      'token',
      'done',
    ]);
    expect(events.filter((e) => e.type === 'tool_result')).toEqual([
      { type: 'tool_result', id: 'call_w', name: 'write_file', ok: true, output: 'wrote 16 bytes to notes/hello.txt' },
      { type: 'tool_result', id: 'call_r', name: 'read_file', ok: true, output: 'hello from scout' },
    ]);
    expect(events.at(-1)).toEqual({
      type: 'done',
      reply: 'read_file said: hello from scout',
      tool_rounds: 2,
      usage: { prompt_tokens: 21, completion_tokens: 9 },
    });
    expect(await readFile(path.join(dataDir, 'workspace', 'notes', 'hello.txt'), 'utf8')).toBe('hello from scout');

    const first = mesh.llmRequests.at(-3);
    const system = first?.messages[0];
    expect(system?.role).toBe('system');
    expect(system?.content).toContain('# Project Lighthouse');
    expect(system?.content).toContain('my own soul, keep me');
    expect(first).toMatchObject({ model: 'fake/model', stream: true });
    expect(mesh.unauthorized).toBe(0);
  });

  it('keeps tokens out of commands run by exec', async () => {
    const events = await chat('show env');
    const result = events.find((e) => e.type === 'tool_result');
    expect(result).toMatchObject({ ok: true, output: expect.stringContaining('tokens=[]') });
  });

  it('resets the session: new id, empty history, config fetched again', async () => {
    const before = await status();
    expect(before.session_messages).toBeGreaterThan(0);
    const configCalls = mesh.configCalls;
    const reset = ResetResponseSchema.parse(await (await api('/chat/reset', { method: 'POST' })).json());
    expect(reset.session).not.toBe(before.session);
    expect(await status()).toMatchObject({ session: reset.session, session_messages: 0, state: 'idle' });

    const events = await chat('fresh start');
    expect(events.at(-1)).toMatchObject({ type: 'done', reply: 'echo: fresh start' });
    expect(mesh.llmRequests.at(-1)?.messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(mesh.configCalls).toBe(configCalls + 1);
  });

  it('reports LLM failures in-band with the mesh error and keeps the session unchanged', async () => {
    const before = (await status()).session_messages;
    const streamed = await chat('fail in stream');
    expect(streamed.at(-1)).toEqual({
      type: 'error',
      error: { code: 'provider_error', message: 'rate limited by the provider', provider: 'openai', status: 429 },
    });
    const refused = await chat('over budget');
    expect(refused).toEqual([
      { type: 'error', error: { code: 'budget_exceeded', message: 'scout has spent its daily budget' } },
    ]);
    expect((await status()).session_messages).toBe(before);
  });

  it('runs concurrent chats one at a time and reports busy meanwhile', async () => {
    const maxBefore = mesh.maxInFlight;
    expect(maxBefore).toBe(1);
    const both = Promise.all([chat('slow one'), chat('slow two')]);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await status()).state).toBe('busy');
    const [one, two] = await both;
    expect(one.at(-1)).toMatchObject({ reply: 'echo: slow one' });
    expect(two.at(-1)).toMatchObject({ reply: 'echo: slow two' });
    expect(mesh.maxInFlight).toBe(1);
    expect((await status()).state).toBe('idle');
  });

  it('cancels the LLM call when the client disconnects mid-turn', async () => {
    const controller = new AbortController();
    const response = await fetch(`${agentUrl}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SERVER_TOKEN}` },
      body: JSON.stringify({ message: 'hang' }),
      signal: controller.signal,
    });
    const events = readSse(bodyOf(response));
    expect(ChatEventSchema.parse((await events.next()).value)).toEqual({ type: 'token', text: 'thinking' });
    controller.abort();
    await expect(mesh.hungRequestClosed).resolves.toBeUndefined();
    await expect.poll(async () => (await status()).state).toBe('idle');
    expect((await chat('after hang')).at(-1)).toMatchObject({ reply: 'echo: after hang' });
  });

  it('exits promptly with code 0 on SIGTERM, even in the middle of a turn', async () => {
    const response = await api('/chat', { method: 'POST', body: JSON.stringify({ message: 'hang' }) });
    await readSse(bodyOf(response)).next();
    const started = Date.now();
    const exited = once(agent, 'exit');
    agent.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('agent server configuration', () => {
  it('exits 1 naming a missing required variable', async () => {
    const child = startAgent({ LEGION_AGENT: 'scout', LEGION_DATA_DIR: dataDir });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(stderr).toContain('LEGION_MESH_URL is not set');
  });

  it('exits 1 when its tokens are not on stdin, even with them in the environment', async () => {
    const child = startAgent(
      {
        LEGION_AGENT: 'scout',
        LEGION_MESH_URL: 'http://127.0.0.1:9',
        LEGION_AGENT_TOKEN: 'x',
        LEGION_AGENT_SERVER_TOKEN: 'y',
        LEGION_DATA_DIR: dataDir,
      },
      '',
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(stderr).toContain('no tokens on stdin');
  });

  it('exits 1 naming the missing field of the tokens on stdin', async () => {
    const child = startAgent(
      { LEGION_AGENT: 'scout', LEGION_MESH_URL: 'http://127.0.0.1:9', LEGION_DATA_DIR: dataDir },
      JSON.stringify({ mesh_token: 'x' }),
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(stderr).toContain('server_token');
  });
});
