// Authenticates agent -> mesh calls. Each agent's token is minted at container start
// (or restored from mesh.db when a restarted mesh adopts a container that still runs)
// and has the form `<agent>.<secret>`; the secret is compared in constant time. On
// success request.agentName holds the caller; nothing else identifies an agent.
// request.trace carries the x-legion-trace header (the chat turn an action belongs to).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LegionError } from '../../shared/errors.js';
import { newSecret, secretsEqual } from '../../shared/ids.js';

declare module 'fastify' {
  interface FastifyRequest {
    agentName: string;
    trace: string | null;
  }
}

export const TRACE_HEADER = 'x-legion-trace';

export class AgentTokens {
  private readonly tokens = new Map<string, string>();

  /** A fresh token for `agent`; the previous one stops working at once. */
  mint(agent: string): string {
    const token = `${agent}.${newSecret()}`;
    this.tokens.set(agent, token);
    return token;
  }

  /** Accepts again a token minted by an earlier mesh, for a container it adopts. */
  restore(agent: string, token: string): void {
    if (!token.startsWith(`${agent}.`))
      throw new LegionError('bad_token', `a stored token of agent ${agent} does not belong to it`);
    this.tokens.set(agent, token);
  }

  revoke(agent: string): void {
    this.tokens.delete(agent);
  }

  /** The agent a token belongs to, or null. */
  verify(token: string): string | null {
    const dot = token.indexOf('.');
    if (dot <= 0) return null;
    const agent = token.slice(0, dot);
    const expected = this.tokens.get(agent);
    if (expected === undefined) return null;
    return secretsEqual(token, expected) ? agent : null;
  }
}

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header?.startsWith('Bearer ')) return null;
  return header.slice('Bearer '.length).trim();
}

/** Adds the agent check to every route of `app` (an encapsulated agent-API scope). */
export function requireAgentToken(app: FastifyInstance, tokens: AgentTokens): void {
  app.decorateRequest('agentName', '');
  app.decorateRequest('trace', null);
  app.addHook('onRequest', async (request) => {
    const token = bearerToken(request);
    const agent = token ? tokens.verify(token) : null;
    if (!agent) throw new LegionError('unauthorized', 'missing or invalid agent token');
    request.agentName = agent;
    const trace = request.headers[TRACE_HEADER];
    request.trace = typeof trace === 'string' && /^[\w.-]{1,64}$/.test(trace) ? trace : null;
  });
}
