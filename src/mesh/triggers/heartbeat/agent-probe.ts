// The mesh's one call for heartbeat probes that need the inside of a container:
// GET /heartbeat/probe on the agent server (mesh->agent token), which lists the
// workspace, reads statfs of /data and HEARTBEAT.md, and costs no LLM call. Never
// throws raw fetch errors: every failure is a LegionError naming the agent.
import { LegionError } from '../../../shared/errors.js';
import { ErrorResponseSchema } from '../../../shared/wire/error.js';
import { AgentProbeReportSchema, type AgentProbeReport } from '../../../shared/wire/heartbeat.js';
import type { AgentEndpoint } from '../../runtime/agent-client.js';

/** A probe that takes longer than this is reported as not answered; the beat goes on without it. */
const PROBE_TIMEOUT_MS = 5000;

export async function fetchProbeReport(endpoint: AgentEndpoint): Promise<AgentProbeReport> {
  let response: Response;
  try {
    response = await fetch(`${endpoint.url}/heartbeat/probe`, {
      headers: { authorization: `Bearer ${endpoint.serverToken}`, accept: 'application/json' },
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
  } catch (err) {
    throw new LegionError(
      'agent_unreachable',
      `agent ${endpoint.agent} did not answer the heartbeat probe: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const error = ErrorResponseSchema.safeParse(body);
    throw new LegionError(
      'agent_error',
      `agent ${endpoint.agent} answered the heartbeat probe with ${response.status}${error.success ? `: ${error.data.error.message}` : ''}`,
    );
  }
  const report = AgentProbeReportSchema.safeParse(body);
  if (!report.success)
    throw new LegionError(
      'agent_error',
      `agent ${endpoint.agent} sent a heartbeat probe report that does not match the schema`,
    );
  return report.data;
}
