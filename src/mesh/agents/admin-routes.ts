// Admin routes about agents: fleet status, chat relay (SSE), session reset, user
// corrections (recorded by the agent in its learnings), and adding or removing agents
// while the fleet runs. Registered inside the admin scope.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { encodeSse, readSse } from '../../shared/sse.js';
import { errorBody, LegionError } from '../../shared/errors.js';
import { parseOrThrow } from '../../shared/validate.js';
import { ChatEventSchema, ChatRequestSchema } from '../../shared/wire/chat.js';
import { AddAgentRequestSchema } from '../../shared/wire/admin.js';
import { CorrectionRequestSchema } from '../../shared/wire/learnings.js';
import { addAgentToConfig, removeAgentFromConfig } from '../../shared/config/agents-edit.js';
import type { Fleet } from '../runtime/fleet.js';
import { openAgentChat, resetAgentSession, sendCorrection } from '../runtime/agent-client.js';
import type { ProjectStore } from '../project-store.js';
import type { EventLog } from '../events/log.js';
import { newId } from '../../shared/ids.js';

export interface AgentAdminRoutesOptions {
  fleet: Fleet;
  store: ProjectStore;
  events: EventLog;
  /** Called after an agent left the config (its subscriptions go with it). */
  onRemoved: (name: string) => void;
  /** Called after an agent joined the config (its config subscriptions start). */
  onAdded: (name: string) => void;
}

const NameParams = z.object({ name: z.string() });

export const agentAdminRoutes: FastifyPluginAsync<AgentAdminRoutesOptions> = async (app, { fleet, store, events, onRemoved, onAdded }) => {
  app.get('/api/agents', async () => ({ agents: await fleet.status() }));

  app.post('/api/agents', async (request, reply) => {
    const body = parseOrThrow(AddAgentRequestSchema, request.body, 'body');
    addAgentToConfig(store.get().dir, body);
    store.reload();
    onAdded(body.name);
    try {
      await fleet.start(body.name);
    } catch (err) {
      return reply.status(502).send({ error: { ...errorBody(err), message: `added ${body.name} to config/agents.yaml, but it did not start: ${errorBody(err).message}` } });
    }
    return reply.status(201).send({ agents: await fleet.status() });
  });

  app.delete('/api/agents/:name', async (request) => {
    const { name } = parseOrThrow(NameParams, request.params, 'params');
    if (!store.get().agents[name]) throw new LegionError('unknown_agent', `no agent named "${name}"`, 404);
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

  app.post('/api/agents/:name/correct', async (request) => {
    const { name } = parseOrThrow(NameParams, request.params, 'params');
    const { text } = parseOrThrow(CorrectionRequestSchema, request.body, 'body');
    const recorded = await sendCorrection(fleet.endpoint(name), text);
    events.record({ agent: name, kind: 'correction', subject: name, detail: { chars: text.length, entries: recorded.entries } });
    return recorded;
  });

  app.post('/api/agents/:name/chat', async (request, reply) => {
    const { name } = parseOrThrow(NameParams, request.params, 'params');
    const { message } = parseOrThrow(ChatRequestSchema, request.body, 'body');
    const endpoint = fleet.endpoint(name);
    const abort = new AbortController();
    // The person left (Ctrl-C, closed terminal): stop the agent's turn too.
    reply.raw.on('close', () => abort.abort());
    const trace = newId('tr');
    events.record({ agent: name, kind: 'chat', subject: name, detail: { chars: message.length }, trace });
    const upstream = await openAgentChat(endpoint, message, trace, abort.signal);
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    await fleet.whileBusy(name, async () => {
      try {
        if (!upstream.body) throw new LegionError('agent_error', `agent ${name} sent no chat stream`, 502);
        for await (const raw of readSse(upstream.body)) {
          const event = ChatEventSchema.safeParse(raw);
          reply.raw.write(encodeSse(event.success ? event.data : { type: 'error', error: { code: 'bad_event', message: `agent ${name} sent an event that does not fit the chat contract` } }));
        }
      } catch (err) {
        if (!abort.signal.aborted) reply.raw.write(encodeSse({ type: 'error', error: errorBody(err) }));
      } finally {
        reply.raw.end();
      }
    });
  });
};
