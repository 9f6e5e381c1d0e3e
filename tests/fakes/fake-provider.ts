// A scripted fake LLM provider: a real HTTP server on 127.0.0.1 that speaks the OpenAI
// chat-completions and Anthropic messages formats (streaming too) well enough for the
// real SDKs. Invariants: every well-formed request is recorded in `calls`, in arrival
// order, before it is answered (rejected keys included, so tests can read the headers
// sent); scripted steps are used first, in order, then the responder; answers are
// deterministic (ids from a counter, usage estimated at 4 characters a token).
// GET /fake/calls returns `calls` as JSON, for tests that run the fake in another process.
// POST /v1/embeddings answers in OpenAI's embeddings format (fake-embeddings.ts); those
// requests are recorded in `embeddings` (GET /fake/embeddings), not in `calls`.
// GET /v1/models and /v1/models/<id> list and describe `models` (fake-models.ts); they are
// not recorded.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { anthropicFormat } from './fake-anthropic.js';
import { embeddingAnswer, EMBEDDINGS_PATH, parseEmbeddingRequest, type FakeEmbeddingCall } from './fake-embeddings.js';
import { openAiFormat } from './fake-openai.js';
import { DEFAULT_FAKE_MODELS, isModelsPath, modelsAnswer } from './fake-models.js';
import type {
  FakeAnswer,
  FakeCall,
  FakeFormat,
  FakeMessage,
  FakeStep,
  FakeToolCall,
  ParsedRequest,
} from './fake-types.js';

export type { FakeCall, FakeMessage, FakeStep, FakeToolCall } from './fake-types.js';
export type { FakeEmbeddingCall } from './fake-embeddings.js';

export interface FakeProvider {
  /** http://127.0.0.1:PORT */
  url: string;
  /** url + '/v1', as the openai SDK expects. */
  openaiBaseUrl: string;
  /** url; the Anthropic SDK appends /v1/messages. */
  anthropicBaseUrl: string;
  calls: FakeCall[];
  /** Every well-formed embeddings request, in arrival order. */
  embeddings: FakeEmbeddingCall[];
  /** While set, every embeddings request gets this error in OpenAI's format; null answers again. */
  failEmbeddings(error: { status: number; message: string; type?: string } | null): void;
  /** Queues steps that answer the next calls, in order, before the responder is asked. */
  script(...steps: FakeStep[]): void;
  /** Replaces the responder for every later call (tests whose harness started the fake). */
  respondWith(respond: (call: FakeCall) => FakeStep): void;
  close(): Promise<void>;
}

export interface FakeProviderOptions {
  respond?: (call: FakeCall) => FakeStep;
  /** When set, a request carrying another key gets the provider's real 401. */
  apiKey?: string;
  /** Pause between stream frames, so tests can act mid-stream. */
  chunkDelayMs?: number;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** What GET /v1/models lists; DEFAULT_FAKE_MODELS unless set. */
  models?: string[];
}

const FORMATS: FakeFormat[] = [openAiFormat, anthropicFormat];

export async function startFakeProvider(options: FakeProviderOptions = {}): Promise<FakeProvider> {
  let respond = options.respond ?? directiveResponder;
  const calls: FakeCall[] = [];
  const embeddings: FakeEmbeddingCall[] = [];
  let embeddingError: { status: number; message: string; type?: string } | null = null;
  const queue: FakeStep[] = [];
  let counter = 0;

  const handleEmbeddings = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = parseJson(await readBody(req));
    const request = body === undefined ? 'the body is not valid JSON' : parseEmbeddingRequest(body);
    if (typeof request === 'string')
      return sendJson(res, 400, openAiFormat.errorBody(400, request, 'invalid_request_error'));
    embeddings.push({ headers: req.headers, body, model: request.model, input: request.input });
    if (options.apiKey !== undefined && !openAiFormat.authorized(req.headers, options.apiKey)) {
      const rejection = openAiFormat.unauthorized(req.headers);
      return sendJson(res, rejection.status, rejection.body);
    }
    if (embeddingError)
      return sendJson(
        res,
        embeddingError.status,
        openAiFormat.errorBody(embeddingError.status, embeddingError.message, embeddingError.type),
      );
    sendJson(res, 200, embeddingAnswer(request));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/fake/calls') return sendJson(res, 200, calls);
    if (req.method === 'GET' && path === '/fake/embeddings') return sendJson(res, 200, embeddings);
    if (req.method === 'POST' && path === EMBEDDINGS_PATH) return handleEmbeddings(req, res);
    if (req.method === 'GET' && path !== undefined && isModelsPath(path)) {
      const answer = modelsAnswer(path, req.headers, options.models ?? DEFAULT_FAKE_MODELS, options.apiKey);
      return sendJson(res, answer.status, answer.body);
    }
    const format = FORMATS.find((f) => f.path === path);
    if (req.method !== 'POST' || !format) {
      return sendJson(res, 404, {
        error: { message: `fake provider: no route ${req.method} ${path}`, type: 'not_found_error' },
      });
    }
    const body = parseJson(await readBody(req));
    const request = body === undefined ? 'the body is not valid JSON' : format.parse(body);
    if (typeof request === 'string') return sendJson(res, 400, format.errorBody(400, request, 'invalid_request_error'));
    const call: FakeCall = {
      provider: format.provider,
      headers: req.headers,
      body,
      messages: request.messages,
      tools: request.tools,
    };
    calls.push(call);
    if (options.apiKey !== undefined && !format.authorized(req.headers, options.apiKey)) {
      const rejection = format.unauthorized(req.headers);
      return sendJson(res, rejection.status, rejection.body);
    }
    const step = queue.shift() ?? respond(call);
    if ('error' in step) {
      return sendJson(res, step.error.status, format.errorBody(step.error.status, step.error.message, step.error.type));
    }
    counter += 1;
    const answer = buildAnswer(step, request, format, counter);
    if (!request.stream) return sendJson(res, 200, format.json(answer));
    await streamFrames(res, format.frames(answer, request), options.chunkDelayMs ?? 0);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent)
        sendJson(res, 500, { error: { message: `fake provider failed: ${String(err)}`, type: 'server_error' } });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    openaiBaseUrl: `${url}/v1`,
    anthropicBaseUrl: url,
    calls,
    embeddings,
    failEmbeddings: (error) => {
      embeddingError = error;
    },
    script: (...steps) => void queue.push(...steps),
    respondWith: (next) => {
      respond = next;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        // SDK clients keep connections alive; without this close() would wait for them.
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/**
 * The default responder, usable across processes since it needs no script: a tool
 * result gets `tool <name> returned: <content>`; a last user message `call <tool> <json>`
 * gets a call of that tool with those arguments; anything else gets `echo: <text>`.
 */
export function directiveResponder(call: FakeCall): FakeStep {
  // A user message that only carries tools' pictures (OpenAI's format) belongs to the tool results before it.
  const last = [...call.messages].reverse().find((m) => !(m.role === 'user' && m.images));
  if (last?.role === 'tool') {
    const name =
      call.messages.flatMap((m) => m.tool_calls ?? []).find((c) => c.id === last.tool_call_id)?.name ?? 'unknown';
    return { text: `tool ${name} returned: ${last.content}` };
  }
  const userText = [...call.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const directive = /^call (\w+) (.*)$/s.exec(userText);
  if (directive) {
    const [, name = '', args = ''] = directive;
    try {
      return { tool_calls: [{ name, arguments: JSON.parse(args) as unknown }] };
    } catch {
      return { text: `fake provider: the arguments of "call ${name}" are not JSON: ${args}` };
    }
  }
  return { text: `echo: ${userText}` };
}

function buildAnswer(
  step: Exclude<FakeStep, { error: unknown }>,
  request: ParsedRequest,
  format: FakeFormat,
  n: number,
): FakeAnswer {
  const text = step.text ?? '';
  const toolCalls: FakeToolCall[] =
    'tool_calls' in step
      ? step.tool_calls.map((c, i) => ({
          id: `${format.idPrefixes.toolCall}_fake_${n}_${i}`,
          name: c.name,
          arguments: JSON.stringify(c.arguments ?? {}),
        }))
      : [];
  const promptChars = request.messages.reduce((sum, m) => sum + messageChars(m), 0);
  const outputChars = text.length + toolCalls.reduce((sum, c) => sum + c.name.length + c.arguments.length, 0);
  return {
    id: `${format.idPrefixes.answer}_fake_${n}`,
    model: request.model,
    text,
    toolCalls,
    usage: { input: estimateTokens(promptChars), output: estimateTokens(outputChars) },
  };
}

function messageChars(message: FakeMessage): number {
  return (
    message.content.length + (message.tool_calls ?? []).reduce((sum, c) => sum + c.name.length + c.arguments.length, 0)
  );
}

function estimateTokens(chars: number): number {
  return Math.max(1, Math.ceil(chars / 4));
}

async function streamFrames(res: ServerResponse, frames: string[], delayMs: number): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  for (const frame of frames) {
    // A client that went away stops the stream, as a real provider stops generating.
    if (res.destroyed) return;
    res.write(frame);
    if (delayMs > 0) await sleep(delayMs);
  }
  res.end();
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
