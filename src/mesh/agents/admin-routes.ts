// Admin routes about agents: fleet status, chat relay (SSE), session reset, restart, user
// corrections (recorded by the agent in its learnings), and adding or removing agents
// while the fleet runs. Registered inside the admin scope. A chat turn is an item on
// the agent's lane: refused with an HTTP status (404, 503, 429 lane_full) before the
// stream opens, then it waits its turn and streams; whatever happens after the stream
// opened arrives as an `error` event, and the lane item ends with the relay.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { encodeSse, readSse } from '../../shared/sse.js';
import { errorBody, LegionError, receivedError } from '../../shared/errors.js';
import { parseOrThrow } from '../../shared/validate.js';
import { ChatEventSchema, ChatRequestSchema, type ChatEvent } from '../../shared/wire/chat.js';
import { AddAgentRequestSchema } from '../../shared/wire/admin.js';
import { CorrectionRequestSchema } from '../../shared/wire/learnings.js';
import { addAgentToConfig, removeAgentFromConfig } from '../../shared/config/agents-edit.js';
import { unknownProviderProblem } from '../../shared/config/project.js';
import type { Fleet } from '../runtime/fleet.js';
import { CHAT_CANCELLED_CODE, type ChatTurn, type ChatTurns, type TurnOutcome } from '../lanes/chat-turns.js';
import { openAgentChat, resetAgentSession, sendCorrection } from '../runtime/agent-client.js';
import type { ProjectStore } from '../project-store.js';
import type { EventLog } from '../events/log.js';
import { newId } from '../../shared/ids.js';

export interface AgentAdminRoutesOptions {
  fleet: Fleet;
  chats: ChatTurns;
  store: ProjectStore;
  events: EventLog;
  /** Called after an agent left the config (its subscriptions go with it). */
  onRemoved: (name: string) => void;
  /** Called after an agent joined the config (its config subscriptions start). */
  onAdded: (name: string) => void;
}

const NameParams = z.object({ name: z.string() });
/** Comment lines keep an idle stream (a turn waiting on its lane, a long command) from
 *  being dropped by clients such as undici's fetch, which give up after 300 s of silence. */
const KEEPALIVE_MS = 15_000;

export const agentAdminRoutes: FastifyPluginAsync<AgentAdminRoutesOptions> = async (
  app,
  { fleet, chats, store, events, onRemoved, onAdded },
) => {
  app.get('/api/agents', async () => ({ agents: await fleet.status() }));

  app.post('/api/agents', async (request, reply) => {
    const body = parseOrThrow(AddAgentRequestSchema, request.body, 'body');
    // Checked before the file changes: an agent the mesh cannot call is never written.
    const modelProblem =
      body.model === undefined ? null : unknownProviderProblem(store.get().mesh, 'model', body.model);
    if (modelProblem !== null) throw new LegionError('invalid_model', modelProblem);
    addAgentToConfig(store.get().dir, body);
    store.reload();
    onAdded(body.name);
    try {
      await fleet.start(body.name);
    } catch (err) {
      return reply.status(502).send({
        error: {
          ...errorBody(err),
          message: `added ${body.name} to config/agents.yaml, but it did not start: ${errorBody(err).message}`,
        },
      });
    }
    return reply.status(201).send({ agents: await fleet.status() });
  });

  app.delete('/api/agents/:name', async (request) => {
    const { name } = parseOrThrow(NameParams, request.params, 'params');
    if (!store.get().agents[name]) throw new LegionError('unknown_agent', `no agent named "${name}"`);
    await fleet.remove(name);
    removeAgentFromConfig(store.get().dir, name);
    store.reload();
    onRemoved(name);
    return { removed: name };
  });

  app.post('/api/agents/:name/reset', async (request) => {
    const { name } = parseOrThrow(NameParams, request.params, 'params');
    return resetAgentSession(fleet.endpoint(name));
  });

  // A deliberate restart (the dashboard's button): a new container on the same volume,
  // after the old one's turns were told it stopped; the restart budget starts afresh.
  app.post('/api/agents/:name/restart', async (request) => {
    const { name } = parseOrThrow(NameParams, request.params, 'params');
    if (!store.get().agents[name]) throw new LegionError('unknown_agent', `no agent named "${name}"`);
    events.record({ agent: name, kind: 'agent_restart', subject: name, detail: { requested_by: 'admin' } });
    await fleet.stop(name);
    await fleet.start(name);
    return { agents: await fleet.status() };
  });

  app.post('/api/agents/:name/correct', async (request) => {
    const { name } = parseOrThrow(NameParams, request.params, 'params');
    const { text } = parseOrThrow(CorrectionRequestSchema, request.body, 'body');
    const recorded = await sendCorrection(fleet.endpoint(name), text);
    events.record({
      agent: name,
      kind: 'correction',
      subject: name,
      detail: { chars: text.length, entries: recorded.entries },
    });
    return recorded;
  });

  app.post('/api/agents/:name/chat', async (request, reply) => {
    const { name } = parseOrThrow(NameParams, request.params, 'params');
    const { message } = parseOrThrow(ChatRequestSchema, request.body, 'body');
    fleet.assertAcceptsWork(name);
    const abort = new AbortController();
    // The person left (Ctrl-C, closed terminal): drop the waiting turn, or stop the agent's.
    reply.raw.on('close', () => abort.abort());
    const trace = newId('tr');
    const queued = chats.queue(name, message, trace, abort.signal);
    events.record({
      agent: name,
      kind: 'chat',
      subject: name,
      detail: { chars: message.length, lane_item: queued.id },
      trace,
    });
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    // Headers go out now: the turn may wait behind another lane item before its first event.
    raw.flushHeaders();
    const open = () => !raw.writableEnded && !raw.destroyed;
    const send = (event: ChatEvent) => void (open() && raw.write(encodeSse(event)));
    const keepAlive = setInterval(() => void (open() && raw.write(': keep-alive\n\n')), KEEPALIVE_MS);
    let turn: ChatTurn;
    try {
      turn = await queued.turn;
    } catch (err) {
      clearInterval(keepAlive);
      if (!abort.signal.aborted) send({ type: 'error', error: errorBody(err) });
      raw.end();
      return;
    }
    let outcome: TurnOutcome = {
      error: new LegionError('agent_error', `the chat stream from ${name} ended without a reply`),
    };
    try {
      await fleet.whileBusy(name, async () => {
        const upstream = await openAgentChat(fleet.endpoint(name), message, trace, abort.signal);
        if (!upstream.body) throw new LegionError('agent_error', `agent ${name} sent no chat stream`);
        for await (const data of readSse(upstream.body)) {
          const parsed = ChatEventSchema.safeParse(data);
          const event: ChatEvent = parsed.success
            ? parsed.data
            : {
                type: 'error',
                error: {
                  code: 'bad_event',
                  message: `agent ${name} sent an event that does not fit the chat contract`,
                },
              };
          send(event);
          if (event.type === 'done') outcome = { reply: event.reply };
          if (event.type === 'error') outcome = { error: receivedError(event.error, 'agent_error') };
        }
      });
    } catch (err) {
      outcome = { error: err };
      if (!abort.signal.aborted) send({ type: 'error', error: errorBody(err) });
    } finally {
      // The person left mid-reply: the turn was cut short rather than failed (its history says so).
      if (abort.signal.aborted && !('reply' in outcome))
        outcome = { error: new LegionError(CHAT_CANCELLED_CODE, `the person left before ${name} finished replying`) };
      clearInterval(keepAlive);
      turn.end(outcome);
      raw.end();
    }
  });
};
