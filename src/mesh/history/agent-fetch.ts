// The mesh's call for read_agent_history: POST /history on the target's agent server
// (mesh->agent token), which reads its own daily logs. Never hangs and never throws raw
// fetch errors: an agent that does not answer within HISTORY_TIMEOUT_MS, or answers
// wrongly, is a LegionError naming the agent.
import { LegionError } from '../../shared/errors.js';
import { ErrorResponseSchema } from '../../shared/wire/error.js';
import { HistoryEntriesSchema, type HistoryEntries, type HistoryLookup } from '../../shared/wire/agent-history.js';
import type { AgentEndpoint } from '../runtime/agent-client.js';

/** Reading a few files takes milliseconds; longer means the agent is stuck. */
const HISTORY_TIMEOUT_MS = 10_000;

export async function fetchAgentHistory(endpoint: AgentEndpoint, lookup: HistoryLookup): Promise<HistoryEntries> {
  let response: Response;
  try {
    response = await fetch(`${endpoint.url}/history`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${endpoint.serverToken}`,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify(lookup),
      signal: AbortSignal.timeout(HISTORY_TIMEOUT_MS),
    });
  } catch (err) {
    throw new LegionError(
      'agent_unreachable',
      `agent ${endpoint.agent} did not answer for its history: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const error = ErrorResponseSchema.safeParse(body);
    throw new LegionError(
      'agent_error',
      `agent ${endpoint.agent} answered the history request with ${response.status}${error.success ? `: ${error.data.error.message}` : ''}`,
    );
  }
  const entries = HistoryEntriesSchema.safeParse(body);
  if (!entries.success)
    throw new LegionError('agent_error', `agent ${endpoint.agent} sent history that does not match the schema`);
  return entries.data;
}
