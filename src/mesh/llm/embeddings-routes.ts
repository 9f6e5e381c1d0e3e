// POST /mesh/llm/embeddings: the agent API's door to the embeddings proxy (agents' memory
// search). Invariants: the caller is request.agentName, set by the scope's agent-auth
// hook, and the enclosing scope checks allowed_apis 'llm' as for chat (this plugin
// authenticates nothing itself); the body is validated and a model chosen before
// anything is reserved or called; metering is chat's: the input's worst case is reserved
// first (a budget refusal is a 402 and no provider call) and the reservation is settled
// exactly once however the call ends, booked as kind 'embedding'; a client that
// disconnects cancels the provider call.
import type { FastifyPluginAsync } from 'fastify';
import { LegionError } from '../../shared/errors.js';
import { parseOrThrow } from '../../shared/validate.js';
import { LlmEmbeddingsRequestSchema, type LlmEmbeddingsResponse } from '../../shared/wire/llm.js';
import type { EmbeddingMetering } from '../costs/meter.js';
import type { EmbeddingsProxy } from './embeddings.js';
import { providerMayHaveBilled } from './errors.js';

export interface EmbeddingsRoutesOptions {
  embeddings: EmbeddingsProxy;
  metering: EmbeddingMetering;
  /** mesh.yaml llm.embedding_model, read at each call so a reloaded config applies. */
  embeddingModel: () => string | undefined;
}

export const embeddingsRoutes: FastifyPluginAsync<EmbeddingsRoutesOptions> = async (
  app,
  { embeddings, metering, embeddingModel },
) => {
  app.post('/mesh/llm/embeddings', async (request, reply): Promise<LlmEmbeddingsResponse | undefined> => {
    const body = parseOrThrow(LlmEmbeddingsRequestSchema, request.body, 'body');
    const model = body.model ?? embeddingModel();
    if (model === undefined) {
      throw new LegionError(
        'no_embedding_model',
        'no embedding model is configured: set llm.embedding_model in config/mesh.yaml (for example openai/text-embedding-3-small) or name a model in the request',
        { path: 'model' },
      );
    }
    const reservation = metering.reserveEmbedding({
      agent: request.agentName,
      trace: request.trace,
      model,
      input: body.input,
    });
    const started = performance.now();
    const disconnected = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) disconnected.abort();
    });
    try {
      const response = await embeddings.embed(
        { model, input: body.input },
        { agent: request.agentName, signal: disconnected.signal },
      );
      metering.settle(
        reservation,
        { status: 'ok', usage: { prompt_tokens: response.usage.prompt_tokens, completion_tokens: 0 } },
        performance.now() - started,
        request.trace,
      );
      return response;
    } catch (err) {
      metering.settle(
        reservation,
        { status: 'failed', billed: providerMayHaveBilled(err), streamedChars: 0 },
        performance.now() - started,
        request.trace,
      );
      // Nobody is left to read an answer.
      if (!disconnected.signal.aborted) throw err;
      reply.hijack();
      return undefined;
    }
  });
};
