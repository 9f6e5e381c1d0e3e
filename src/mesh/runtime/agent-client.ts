// The mesh's calls to an agent server, authenticated with the mesh->agent token
// minted for that container. Never throws raw fetch errors: an unreachable agent is
// a LegionError naming the agent.
import { LegionError, receivedError } from '../../shared/errors.js';
import { ErrorResponseSchema } from '../../shared/wire/error.js';
import { ChatEventSchema, ResetResponseSchema, type ResetResponse } from '../../shared/wire/chat.js';
import { readSse } from '../../shared/sse.js';
import { CorrectionResponseSchema, type CorrectionResponse } from '../../shared/wire/learnings.js';
import { AgentServerStatusSchema } from '../../shared/wire/agent.js';
import { TaskResultSchema, type TaskRequest, type TaskResult } from '../../shared/wire/task.js';

export interface AgentEndpoint {
  agent: string;
  url: string;
  serverToken: string;
}

interface CallInit {
  method: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

async function call(endpoint: AgentEndpoint, path: string, init: CallInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(`${endpoint.url}${path}`, {
      ...init,
      headers: { ...init.headers, authorization: `Bearer ${endpoint.serverToken}` },
    });
  } catch (err) {
    if (init.signal?.aborted) throw err;
    throw new LegionError(
      'agent_unreachable',
      `agent ${endpoint.agent} did not answer at ${endpoint.url}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (!response.ok) {
    const text = await response.text();
    const parsed = ErrorResponseSchema.safeParse(safeJson(text));
    if (parsed.success) throw receivedError(parsed.data.error, 'agent_error');
    throw new LegionError('agent_error', `agent ${endpoint.agent} answered ${response.status}: ${text.slice(0, 300)}`);
  }
  return response;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Opens the agent's chat event stream; the caller reads the SSE body. `session` names
 *  a conversation of its own (a channel user's); without it, the agent's main one. */
export async function openAgentChat(
  endpoint: AgentEndpoint,
  message: string,
  trace: string,
  signal: AbortSignal,
  session?: string,
): Promise<Response> {
  return call(endpoint, '/chat', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ message, trace, ...(session === undefined ? {} : { session }) }),
    signal,
  });
}

/** Runs one turn to its end without a person watching (lane items); resolves with the reply. */
export async function runAgentTurn(
  endpoint: AgentEndpoint,
  message: string,
  trace: string,
  signal: AbortSignal,
): Promise<string> {
  const response = await openAgentChat(endpoint, message, trace, signal);
  if (!response.body) throw new LegionError('agent_error', `agent ${endpoint.agent} sent no chat stream`);
  for await (const raw of readSse(response.body)) {
    const event = ChatEventSchema.safeParse(raw);
    if (!event.success) continue;
    if (event.data.type === 'done') return event.data.reply;
    if (event.data.type === 'error')
      throw receivedError(event.data.error, 'agent_error', `agent ${endpoint.agent}: ${event.data.error.message}`);
  }
  throw new LegionError('agent_error', `agent ${endpoint.agent} ended its turn without a reply`);
}

export async function resetAgentSession(endpoint: AgentEndpoint, session?: string): Promise<ResetResponse> {
  const response = await call(
    endpoint,
    '/chat/reset',
    session === undefined
      ? { method: 'POST' }
      : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ session }) },
  );
  return ResetResponseSchema.parse(await response.json());
}

/** Hands a user's correction to the agent, which records it in learnings/corrections.md. */
export async function sendCorrection(endpoint: AgentEndpoint, text: string): Promise<CorrectionResponse> {
  const response = await call(endpoint, '/correct', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  });
  return CorrectionResponseSchema.parse(await response.json());
}

/** Hands the agent a task (task mode). created: it was queued now (202); otherwise the
 *  agent knew the id (200) and `result` is what it has for it. */
export async function postTask(
  endpoint: AgentEndpoint,
  request: TaskRequest,
  signal?: AbortSignal,
): Promise<{ created: boolean; result: TaskResult }> {
  const response = await call(endpoint, '/task', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
    ...(signal ? { signal } : {}),
  });
  return { created: response.status === 202, result: TaskResultSchema.parse(await response.json()) };
}

/** The task's result, waiting up to `waitS` seconds for it to be final (the agent's
 *  long-poll); null when the agent does not know the id (it lost it, or never got it). */
export async function fetchTaskResult(
  endpoint: AgentEndpoint,
  taskId: string,
  waitS: number,
  signal?: AbortSignal,
): Promise<TaskResult | null> {
  try {
    const response = await call(endpoint, `/result/${encodeURIComponent(taskId)}?wait_s=${waitS}`, {
      method: 'GET',
      ...(signal ? { signal } : {}),
    });
    return TaskResultSchema.parse(await response.json());
  } catch (err) {
    if (err instanceof LegionError && err.status === 404) return null;
    throw err;
  }
}

/** Cancels a queued or running task; a finished one comes back unchanged; null for an unknown id. */
export async function cancelTask(endpoint: AgentEndpoint, taskId: string): Promise<TaskResult | null> {
  try {
    const response = await call(endpoint, `/cancel/${encodeURIComponent(taskId)}`, { method: 'POST' });
    return TaskResultSchema.parse(await response.json());
  } catch (err) {
    if (err instanceof LegionError && err.status === 404) return null;
    throw err;
  }
}

/** True once GET /health answers 200 (no token needed there). */
export async function agentHealthy(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    return response.ok;
  } catch {
    return false;
  }
}

/** True when the agent answers GET /status with `endpoint.serverToken` and says it is
 *  `endpoint.agent`: the proof that a container found at start is the one the token is for. */
export async function agentAnswersAs(endpoint: AgentEndpoint, timeoutMs = 2000): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint.url}/status`, {
      headers: { authorization: `Bearer ${endpoint.serverToken}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) return false;
    const status = AgentServerStatusSchema.safeParse(await response.json());
    return status.success && status.data.agent === endpoint.agent;
  } catch {
    return false;
  }
}
