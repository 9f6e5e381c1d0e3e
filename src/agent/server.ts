// The agent's HTTP server, called only by the mesh.
// Invariants: every route but GET /health requires the mesh's server token, compared in
// constant time; every error is { error: { code, message } } with a 4xx/5xx status,
// never a stack trace; chat turns and tasks (task/) run one at a time, in arrival
// order; a client that disconnects cancels its turn (the LLM call and any running
// command stop); once the event stream has started, a failure is reported in-band as
// an `error` event.
import path from 'node:path';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { LegionError, errorBody, type ErrorBody } from '../shared/errors.js';
import { newId, secretsEqual } from '../shared/ids.js';
import type { Logger } from '../shared/logging.js';
import { encodeSse } from '../shared/sse.js';
import { parseOrThrow } from '../shared/validate.js';
import type { AgentCapabilities, AgentRuntimeConfig, AgentServerStatus } from '../shared/wire/agent.js';
import { ChatRequestSchema, ResetRequestSchema, type ChatEvent, type ResetResponse } from '../shared/wire/chat.js';
import { CorrectionRequestSchema, type CorrectionResponse } from '../shared/wire/learnings.js';
import { readLearningsForPrompt, recordCorrection } from './learnings/store.js';
import { runChatTurn, type ChatSession } from './loop.js';
import type { MeshApi } from './mesh-client.js';
import { buildSystemPrompt, readWorkspacePromptFiles } from './prompt.js';
import { registerTaskRoutes } from './task/routes.js';
import { registerHeartbeatProbeRoute } from './heartbeat/probe-route.js';
import { registerHistoryRoute } from './memory/history-route.js';
import { TaskRunner } from './task/runner.js';
import { TaskStore } from './task/store.js';
import type { Tool } from './tools/registry.js';
import type { WorkspaceMemory } from './memory/workspace-memory.js';
import type { SkillCatalog } from './skills/catalog.js';

export interface AgentServerOptions {
  agent: string;
  serverToken: string;
  dataDir: string;
  mesh: MeshApi;
  tools: readonly Tool[];
  version: string;
  logger: Logger;
  memory: WorkspaceMemory;
  /** The skills listed in the prompt; their tools are already in `tools`. */
  skills?: Pick<SkillCatalog, 'report'>;
  /** Settles when the workspace is scaffolded; every route but /health waits for it. */
  ready?: Promise<unknown>;
}

const HEARTBEAT_MS = 15_000;

interface ServerSession extends ChatSession {
  /** Fetched at the session's first turn, so config edits reach the next session. */
  runtime: { config: AgentRuntimeConfig; systemPrompt: string } | null;
}

export function createAgentServer(options: AgentServerOptions): FastifyInstance {
  const loggerInstance: FastifyBaseLogger = options.logger;
  const app = Fastify({
    loggerInstance,
    // The mesh polls /health; per-request lines would drown the chat events.
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
  });
  const workspaceDir = path.join(options.dataDir, 'workspace');
  const wrote = (file: string): void => options.memory.noteWrite(file);
  const startedAt = Date.now();
  const turns = new TurnQueue();
  const activeTurns = new Set<AbortController>();
  let session = newSession();
  // Channel users' conversations, by the key the mesh gives: never mixed with the main one.
  const namedSessions = new Map<string, ServerSession>();
  const sessionFor = (key: string | undefined): ServerSession => {
    if (key === undefined) return session;
    let named = namedSessions.get(key);
    if (!named) {
      named = newSession();
      namedSessions.set(key, named);
    }
    return named;
  };
  // Tasks share the turn queue, and build their prompt as a chat session's first turn does.
  const tasks = new TaskRunner({
    store: TaskStore.open(options.dataDir),
    enqueue: (job) => turns.run(job),
    llm: options.mesh,
    tools: options.tools,
    dataDir: options.dataDir,
    workspaceDir,
    wrote,
    prepare: (query) => prepareSession(newSession(), query),
    logger: options.logger,
  });

  installErrorHandling(app);
  acceptEmptyJsonBodies(app);
  // A stopping server cancels running turns and tasks so it can exit at once.
  app.addHook('preClose', async () => {
    for (const controller of activeTurns) controller.abort();
    tasks.shutdown();
  });
  app.addHook('onClose', async () => tasks.close());

  app.get('/health', async () => ({ ok: true }));

  void app.register(async (scope) => {
    scope.addHook('onRequest', async (request) => {
      const header = request.headers.authorization ?? '';
      const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : '';
      if (!secretsEqual(token, options.serverToken)) {
        throw new LegionError(
          'unauthorized',
          'missing or invalid server token (expected Authorization: Bearer <agent server token>)',
        );
      }
      await options.ready;
    });

    scope.get(
      '/status',
      async (): Promise<AgentServerStatus> => ({
        agent: options.agent,
        state: turns.busy ? 'busy' : 'idle',
        session: session.id,
        session_messages: session.messages.length,
        uptime_s: (Date.now() - startedAt) / 1000,
        version: options.version,
      }),
    );

    scope.get(
      '/capabilities',
      async (): Promise<AgentCapabilities> => ({
        agent: options.agent,
        tools: options.tools.map((tool) => ({ name: tool.name, description: tool.description })),
      }),
    );

    scope.post('/chat/reset', async (request): Promise<ResetResponse> => {
      const { session: key } = parseOrThrow(ResetRequestSchema, request.body ?? {}, 'reset request');
      if (key !== undefined) {
        const fresh = newSession();
        namedSessions.set(key, fresh);
        return { ok: true, session: fresh.id };
      }
      session = newSession();
      return { ok: true, session: session.id };
    });

    registerTaskRoutes(scope, tasks);
    // Read by the mesh's heartbeat probes; answers from the filesystem, never the model.
    registerHeartbeatProbeRoute(scope, { dataDir: options.dataDir, workspaceDir });
    // Read by the mesh for another agent's read_agent_history; answers from the files.
    registerHistoryRoute(scope, workspaceDir);

    // Not queued behind chat turns: the learnings store serializes writers of the file.
    scope.post('/correct', async (request): Promise<CorrectionResponse> => {
      const { text } = parseOrThrow(CorrectionRequestSchema, request.body, 'correction');
      const result = await recordCorrection(workspaceDir, { time: new Date(), text, source: 'user' });
      request.log.info({ event: 'correction_recorded', entries: result.entries }, 'correction recorded');
      return { recorded: true, file: result.file, entries: result.entries };
    });

    scope.post('/chat', async (request, reply) => {
      const { message, trace, session: sessionKey } = parseOrThrow(ChatRequestSchema, request.body, 'chat request');
      const stream = openEventStream(reply);
      const controller = new AbortController();
      activeTurns.add(controller);
      stream.onDisconnect(() => controller.abort());
      try {
        await turns.run(async () => {
          if (controller.signal.aborted) return;
          const turnSession = sessionFor(sessionKey);
          const runtime = await prepareSession(turnSession, message);
          const done = await runChatTurn({
            llm: options.mesh,
            tools: options.tools,
            toolContext: { dataDir: options.dataDir, workspaceDir, trace: trace ?? null, wrote },
            config: runtime.config,
            systemPrompt: runtime.systemPrompt,
            session: turnSession,
            userMessage: message,
            emit: stream.send,
            signal: controller.signal,
            logger: request.log,
          });
          request.log.info(
            { event: 'chat_turn_done', session: turnSession.id, tool_rounds: done.tool_rounds, usage: done.usage },
            'chat turn done',
          );
          await options.memory.logTurn(message, done.reply);
        });
      } catch (err) {
        const body: ErrorBody = errorBody(err);
        request.log.warn(
          { event: 'chat_turn_failed', code: body.code, err: err instanceof LegionError ? undefined : err },
          body.message,
        );
        stream.send({ type: 'error', error: body });
      } finally {
        activeTurns.delete(controller);
        stream.end();
      }
    });
  });

  /** At a session's first turn: fresh config, and what memory holds about the first message. */
  async function prepareSession(
    target: ServerSession,
    firstMessage: string,
  ): Promise<NonNullable<ServerSession['runtime']>> {
    if (target.runtime) return target.runtime;
    const config = await options.mesh.getRuntimeConfig();
    // Not awaited: attaching a new embedding model syncs the whole index, which must not
    // hold up the turn; configure() never rejects.
    void options.memory.configure(config);
    const recall = await options.memory.recall(firstMessage);
    const basePrompt = buildSystemPrompt({
      config,
      workspaceFiles: await readWorkspacePromptFiles(workspaceDir),
      toolNames: options.tools.map((tool) => tool.name),
      dataDir: options.dataDir,
      learnings: await readLearningsForPrompt(workspaceDir),
      skills: (await options.skills?.report())?.skills,
    });
    const systemPrompt = recall ? `${basePrompt}\n\n${recall}` : basePrompt;
    target.runtime = { config, systemPrompt };
    return target.runtime;
  }

  return app;
}

function newSession(): ServerSession {
  return { id: newId('session'), messages: [], usageMark: null, runtime: null };
}

interface EventStream {
  send: (event: ChatEvent) => void;
  onDisconnect: (listener: () => void) => void;
  end: () => void;
}

/** Takes the response over from Fastify and streams server-sent events on it. */
function openEventStream(reply: FastifyReply): EventStream {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  // Headers go out now: a turn may wait behind another one before its first event.
  raw.flushHeaders();
  const open = (): boolean => !raw.writableEnded && !raw.destroyed;
  // A long command can keep a turn silent for minutes; clients such as undici's fetch
  // give up on a body that sends nothing for 300 s. A comment line is not an event.
  const heartbeat = setInterval(() => {
    if (open()) raw.write(':\n\n');
  }, HEARTBEAT_MS);
  raw.on('close', () => clearInterval(heartbeat));
  return {
    send: (event) => {
      if (open()) raw.write(encodeSse(event));
    },
    onDisconnect: (listener) => {
      raw.on('close', () => {
        if (!raw.writableFinished) listener();
      });
    },
    end: () => {
      clearInterval(heartbeat);
      if (open()) raw.end();
    },
  };
}

/** Runs tasks one at a time in arrival order; a failed task does not block the next. */
class TurnQueue {
  private tail: Promise<unknown> = Promise.resolve();
  busy = false;

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(async () => {
      this.busy = true;
      try {
        return await task();
      } finally {
        this.busy = false;
      }
    });
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** Like Fastify's JSON parser, except that an empty body (POST /chat/reset sent with a
 *  JSON content type) is no body rather than a 400. */
function acceptEmptyJsonBodies(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      done(new LegionError('invalid_json', `request body is not valid JSON: ${reason}`), undefined);
    }
  });
}

function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request, reply) => {
    if (err instanceof LegionError) return reply.status(err.status).send({ error: err.toBody() });
    const status = readStatus(err);
    if (status !== null && status < 500 && err instanceof Error) {
      const code = 'code' in err && typeof err.code === 'string' ? err.code : 'bad_request';
      return reply.status(status).send({ error: { code, message: err.message } });
    }
    request.log.error({ err, event: 'route_error' }, 'unhandled error in route');
    return reply
      .status(500)
      .send({ error: { code: 'internal', message: 'internal error in the agent server; see its log' } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url}` } }),
  );
}

function readStatus(err: unknown): number | null {
  if (typeof err !== 'object' || err === null || !('statusCode' in err)) return null;
  return typeof err.statusCode === 'number' ? err.statusCode : null;
}
