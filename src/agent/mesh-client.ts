// The agent's only way out of its container: HTTP calls to the mesh's agent API with
// the agent's bearer token. Invariants: every response is validated against the shared
// schema before use; every failure rejects with a LegionError whose code says what went
// wrong (mesh_unreachable, mesh_bad_response, aborted, or the mesh's own error code,
// with provider and status kept); llmChat resolves only on the stream's done event.
import type { z } from 'zod';
import { LegionError, receivedError } from '../shared/errors.js';
import { ErrorResponseSchema } from '../shared/wire/error.js';
import { readSse } from '../shared/sse.js';
import { AGENT_READY_ROUTE, AgentRuntimeConfigSchema, type AgentRuntimeConfig } from '../shared/wire/agent.js';
import {
  LlmEmbeddingsResponseSchema,
  LlmStreamEventSchema,
  type LlmChatRequest,
  type LlmChatResponse,
  type LlmEmbeddingsRequest,
  type LlmEmbeddingsResponse,
} from '../shared/wire/llm.js';
import { formatZodIssues } from '../shared/zod-format.js';

export interface LlmCallOptions {
  onDelta?: (text: string) => void;
  signal?: AbortSignal;
  trace?: string | null;
}

/** What the chat loop needs from the mesh; a scripted one stands in for it in tests. */
export interface LlmClient {
  llmChat(request: LlmChatRequest, options: LlmCallOptions): Promise<LlmChatResponse>;
}

export interface MeshApi extends LlmClient {
  getRuntimeConfig(signal?: AbortSignal): Promise<AgentRuntimeConfig>;
}

/** What memory's embedder needs from the mesh. */
export interface EmbeddingsClient {
  llmEmbeddings(request: LlmEmbeddingsRequest): Promise<LlmEmbeddingsResponse>;
}

export interface MeshClientOptions {
  meshUrl: string;
  token: string;
}

export class MeshClient implements MeshApi, EmbeddingsClient {
  private readonly baseUrl: string;

  constructor(private readonly options: MeshClientOptions) {
    this.baseUrl = options.meshUrl.replace(/\/+$/, '');
  }

  /** Tells the mesh this server listens (the mesh otherwise finds out by asking GET /health). */
  async announceReady(signal?: AbortSignal): Promise<void> {
    await this.send(AGENT_READY_ROUTE, { method: 'POST', headers: {}, ...(signal ? { signal } : {}) });
  }

  async getRuntimeConfig(signal?: AbortSignal): Promise<AgentRuntimeConfig> {
    const response = await this.send('/mesh/agent/config', {
      method: 'GET',
      headers: { accept: 'application/json' },
      ...(signal ? { signal } : {}),
    });
    const body: unknown = await response.json().catch(() => undefined);
    return validate(AgentRuntimeConfigSchema, body, 'agent config from the mesh');
  }

  async llmChat(request: LlmChatRequest, options: LlmCallOptions): Promise<LlmChatResponse> {
    const response = await this.send('/mesh/llm/chat', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...traceHeader(options.trace) },
      body: JSON.stringify({ ...request, stream: true }),
      signal: options.signal,
    });
    if (!response.body) throw new LegionError('mesh_bad_response', 'the mesh answered the LLM call with an empty body');
    try {
      for await (const raw of readSse(response.body)) {
        const event = validate(LlmStreamEventSchema, raw, 'LLM stream event from the mesh');
        if (event.type === 'delta') options.onDelta?.(event.text);
        else if (event.type === 'done') return event.response;
        else throw receivedError(event.error, 'mesh_error');
      }
    } catch (err) {
      if (options.signal?.aborted) throw cancelled();
      if (err instanceof LegionError) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      throw new LegionError('mesh_unreachable', `the LLM stream from the mesh broke off: ${reason}`);
    }
    throw new LegionError('mesh_bad_response', 'the LLM stream from the mesh ended before its done event');
  }

  llmEmbeddings(request: LlmEmbeddingsRequest): Promise<LlmEmbeddingsResponse> {
    return this.call('/mesh/llm/embeddings', request, LlmEmbeddingsResponseSchema, null);
  }

  /** One JSON call to the agent API (the mesh tools); the answer is validated with `schema`. */
  async call<S extends z.ZodType>(route: string, body: unknown, schema: S, trace: string | null): Promise<z.output<S>> {
    const response = await this.send(route, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...traceHeader(trace) },
      body: JSON.stringify(body),
    });
    const answer: unknown = await response.json().catch(() => undefined);
    return validate(schema, answer, `answer of ${route}`);
  }

  /** fetch with the agent token; a non-2xx answer rejects with the mesh's own error. */
  private async send(route: string, init: RequestInit & { headers: Record<string, string> }): Promise<Response> {
    const url = `${this.baseUrl}${route}`;
    let response: Response;
    try {
      response = await fetch(url, {
        ...init,
        headers: { ...init.headers, authorization: `Bearer ${this.options.token}` },
      });
    } catch (err) {
      if (init.signal?.aborted) throw cancelled();
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
      throw new LegionError('mesh_unreachable', `cannot reach the mesh at ${url}: ${cause}`);
    }
    if (response.ok) return response;
    const body: unknown = await response.json().catch(() => undefined);
    const parsed = ErrorResponseSchema.safeParse(body);
    if (parsed.success) {
      throw receivedError(parsed.data.error, 'mesh_error');
    }
    throw new LegionError(
      'mesh_bad_response',
      `the mesh answered ${init.method ?? 'GET'} ${route} with HTTP ${response.status} and no error body`,
    );
  }
}

function validate<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new LegionError('mesh_bad_response', formatZodIssues(where, result.error).join('; '));
}

function traceHeader(trace: string | null | undefined): Record<string, string> {
  return trace ? { 'x-legion-trace': trace } : {};
}

function cancelled(): LegionError {
  return new LegionError('aborted', 'the chat turn was cancelled before the model finished');
}
