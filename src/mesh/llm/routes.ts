// POST /mesh/llm/chat: the agent API's door to the LLM proxy. Invariants: the caller is
// request.agentName, set by the scope's agent-auth hook (this plugin authenticates
// nothing itself); the body is validated before any provider is called; a streaming
// answer only becomes an event stream once its first event exists, so every error
// that happens earlier (bad model, missing key, provider 401...) is an ordinary HTTP
// error from the error handler, and only errors after the first delta go in-band; a
// client that disconnects cancels the provider call. Metering: the call's worst case
// is reserved before the provider is called (a budget refusal is a 402 and no
// provider call), and the reservation is settled exactly once however the call ends.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { errorBody } from '../../shared/errors.js';
import { encodeSse } from '../../shared/sse.js';
import { parseOrThrow } from '../../shared/validate.js';
import {
  LlmChatRequestSchema,
  type LlmChatResponse,
  type LlmStreamEvent,
  type Message,
} from '../../shared/wire/llm.js';
import type { CallOutcome, LlmMetering } from '../costs/meter.js';
import { providerMayHaveBilled } from './errors.js';
import type { LlmProxy } from './proxy.js';
import { applyLlmSettings, type LlmSettings } from './settings.js';

export interface LlmRoutesOptions {
  proxy: LlmProxy;
  metering: LlmMetering;
  /** The model (`provider/model`) used when the request names none. */
  defaultModelFor: (agent: string) => string;
  /** The configured max_tokens and temperature of the agent's calls (agents.yaml, else mesh.yaml llm.*). */
  settingsFor: (agent: string) => LlmSettings;
  /** Told of each answered call (a sub-agent's transcript is kept from it). */
  observe?: (agent: string, messages: readonly Message[], response: LlmChatResponse) => void;
}

export const llmRoutes: FastifyPluginAsync<LlmRoutesOptions> = async (
  app,
  { proxy, metering, defaultModelFor, settingsFor, observe },
) => {
  app.post('/mesh/llm/chat', async (request, reply): Promise<LlmChatResponse | undefined> => {
    const body = parseOrThrow(LlmChatRequestSchema, request.body, 'body');
    const chatRequest = applyLlmSettings(
      { ...body, model: body.model ?? defaultModelFor(request.agentName) },
      settingsFor(request.agentName),
    );
    const reservation = metering.reserve({ agent: request.agentName, trace: request.trace, request: chatRequest });
    const started = performance.now();
    const disconnected = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) disconnected.abort();
    });
    const options = { agent: request.agentName, signal: disconnected.signal };
    let streamedChars = 0;
    const settle = (outcome: CallOutcome) =>
      metering.settle(reservation, outcome, performance.now() - started, request.trace);
    const meteredChat = async (onDelta?: (text: string) => void): Promise<LlmChatResponse> => {
      try {
        const response = await proxy.chat(chatRequest, onDelta ? { ...options, onDelta } : options);
        settle({ status: 'ok', usage: response.usage });
        observe?.(request.agentName, chatRequest.messages, response);
        return response;
      } catch (err) {
        settle({ status: 'failed', billed: providerMayHaveBilled(err), streamedChars });
        throw err;
      }
    };

    if (!chatRequest.stream) {
      try {
        return await meteredChat();
      } catch (err) {
        // Nobody is left to read an answer.
        if (!disconnected.signal.aborted) throw err;
        reply.hijack();
        return undefined;
      }
    }

    const sse = lazyEventStream(reply);
    try {
      const response = await meteredChat((text) => {
        streamedChars += text.length;
        sse.send({ type: 'delta', text });
      });
      sse.send({ type: 'done', response });
    } catch (err) {
      if (!sse.started() && !disconnected.signal.aborted) throw err;
      sse.send({ type: 'error', error: errorBody(err) });
    }
    sse.end();
    return undefined;
  });
};

/** An SSE response that takes the reply over from Fastify at its first event. */
function lazyEventStream(reply: FastifyReply): { send(event: LlmStreamEvent): void; end(): void; started(): boolean } {
  let started = false;
  const writable = () => !reply.raw.destroyed && !reply.raw.writableEnded;
  return {
    send(event) {
      if (!started) {
        started = true;
        reply.hijack();
        if (writable()) {
          reply.raw.writeHead(200, {
            'content-type': 'text/event-stream; charset=utf-8',
            'cache-control': 'no-cache',
            connection: 'keep-alive',
          });
        }
      }
      if (writable()) reply.raw.write(encodeSse(event));
    },
    end() {
      if (writable()) reply.raw.end();
    },
    started: () => started,
  };
}
