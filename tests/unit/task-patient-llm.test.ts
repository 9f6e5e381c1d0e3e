// A task's model calls across a mesh restart: calls that failed because the mesh was
// away are sent again with backoff until it answers; any other error, a spent
// patience and an abort end the call at once.
import { describe, expect, it } from 'vitest';
import { patientLlm } from '../../src/agent/task/patient-llm.js';
import type { LlmClient } from '../../src/agent/mesh-client.js';
import { LegionError } from '../../src/shared/errors.js';
import { createLogger } from '../../src/shared/logging.js';
import type { LlmChatRequest, LlmChatResponse } from '../../src/shared/wire/llm.js';

const logger = createLogger({}, { write: () => undefined });
const request: LlmChatRequest = { messages: [{ role: 'user', content: 'hi' }] };
const answer: LlmChatResponse = {
  provider: 'scripted',
  model: 'scripted/model',
  message: { role: 'assistant', content: 'hello', tool_calls: [] },
  finish_reason: 'stop',
  usage: { prompt_tokens: 1, completion_tokens: 1 },
};

/** The mesh as the agent sees it: these failures first, then answers. */
function meshThatFails(...failures: LegionError[]): LlmClient & { calls: number } {
  const client = {
    calls: 0,
    llmChat: async (): Promise<LlmChatResponse> => {
      const failure = failures[client.calls];
      client.calls += 1;
      if (failure) throw failure;
      return answer;
    },
  };
  return client;
}

const away = () =>
  new LegionError('mesh_unreachable', 'cannot reach the mesh at http://mesh/mesh/llm/chat: connect ECONNREFUSED');

describe('patientLlm', () => {
  it('sends a call again while the mesh is away or does not know the agent yet, and returns the answer', async () => {
    const mesh = meshThatFails(away(), new LegionError('unauthorized', 'missing or invalid agent token'), away());
    expect(await patientLlm(mesh, { logger }).llmChat(request, {})).toEqual(answer);
    expect(mesh.calls).toBe(4);
  });

  it('passes any other error on at once', async () => {
    const mesh = meshThatFails(new LegionError('budget_exceeded', 'the daily budget is spent'));
    await expect(patientLlm(mesh, { logger }).llmChat(request, {})).rejects.toMatchObject({ code: 'budget_exceeded' });
    expect(mesh.calls).toBe(1);
  });

  it('gives up once its patience is spent, with the mesh error', async () => {
    const mesh = meshThatFails(...Array.from({ length: 50 }, away));
    const started = Date.now();
    await expect(patientLlm(mesh, { logger, patienceMs: 400 }).llmChat(request, {})).rejects.toMatchObject({
      code: 'mesh_unreachable',
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(mesh.calls).toBeGreaterThan(1);
  });

  it('stops waiting when the task is cancelled', async () => {
    const mesh = meshThatFails(...Array.from({ length: 50 }, away));
    const abort = new AbortController();
    const call = patientLlm(mesh, { logger }).llmChat(request, { signal: abort.signal });
    setTimeout(() => abort.abort(), 100);
    const started = Date.now();
    await expect(call).rejects.toMatchObject({ code: 'mesh_unreachable' });
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
