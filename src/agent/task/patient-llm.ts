// A task's model calls wait out a mesh restart. Chat turns have a person who can ask
// again; a task has only the mesh that handed it over, and that mesh resumes its run
// after a restart by asking this agent for the task's result. So a model call that
// fails because the mesh is away (mesh_unreachable: refused, or the stream broke off)
// or does not know this agent yet (unauthorized: a restarted mesh adopts running
// agents a moment after it listens) is sent again with backoff, for a bounded time,
// and the task carries on under its own id. Invariants: any other error, and every
// error once the patience is spent, goes to the caller unchanged; an abort (cancel,
// timeout, shutdown) ends the waiting at once.
import { setTimeout as sleep } from 'node:timers/promises';
import { LegionError, type ErrorCode } from '../../shared/errors.js';
import type { Logger } from '../../shared/logging.js';
import type { LlmClient } from '../mesh-client.js';

/** How long a task waits for the mesh to come back before its model call fails. */
export const MESH_PATIENCE_MS = 120_000;
const FIRST_WAIT_MS = 250;
const LONGEST_WAIT_MS = 5_000;
const MESH_AWAY_CODES = new Set<ErrorCode>(['mesh_unreachable', 'unauthorized']);

export interface PatienceOptions {
  logger: Logger;
  patienceMs?: number;
}

export function patientLlm(llm: LlmClient, options: PatienceOptions): LlmClient {
  const patienceMs = options.patienceMs ?? MESH_PATIENCE_MS;
  return {
    llmChat: async (request, callOptions) => {
      const deadline = Date.now() + patienceMs;
      for (let retry = 0; ; retry += 1) {
        try {
          return await llm.llmChat(request, callOptions);
        } catch (err) {
          const signal = callOptions.signal;
          if (
            !(err instanceof LegionError) ||
            !MESH_AWAY_CODES.has(err.code) ||
            signal?.aborted ||
            Date.now() >= deadline
          )
            throw err;
          const waitMs = Math.min(FIRST_WAIT_MS * 2 ** retry, LONGEST_WAIT_MS, Math.max(deadline - Date.now(), 0));
          options.logger.warn(
            { event: 'task_mesh_away', code: err.code, retry: retry + 1, wait_ms: waitMs },
            'the mesh is away; the model call is sent again when it is back',
          );
          try {
            await sleep(waitMs, undefined, signal ? { signal } : {});
          } catch {
            throw err;
          }
        }
      }
    },
  };
}
