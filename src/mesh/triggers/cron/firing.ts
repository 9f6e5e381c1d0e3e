// Pure decisions of the cron scheduler, each a value the caller acts on:
// - whether a firing goes ahead: never for an agent that is not configured, never
//   while the job's previous lane item is still queued or in flight (a job never runs
//   twice at once), never for a missed run of a `missed: skip` job;
// - what a run's status becomes once its lane item has ended.
import type { CronRunStatus, CronRunTrigger, MissedPolicy } from '../../../shared/wire/cron.js';
import type { LaneStatus } from '../../lanes/store.js';

export type FiringDecision = { action: 'fire' } | { action: 'skip'; reason: string };

export interface FiringInput {
  trigger: CronRunTrigger;
  missed: MissedPolicy;
  /** When the run fell due (epoch ms); null for a manual run. */
  dueAt: number | null;
  agent: string;
  agentKnown: boolean;
  /** The previous run's lane item and its state now; null when there was none. */
  previous: { run: string; laneItem: string; status: LaneStatus | null } | null;
}

export function decideFiring(input: FiringInput): FiringDecision {
  if (input.trigger === 'missed' && input.missed === 'skip') {
    const due = input.dueAt === null ? '' : ` (due ${new Date(input.dueAt).toISOString()})`;
    return { action: 'skip', reason: `missed while the mesh was down${due}; the job says missed: skip` };
  }
  if (!input.agentKnown) return { action: 'skip', reason: `agent ${input.agent} is not in config/agents.yaml` };
  const status = input.previous?.status;
  if (input.previous && (status === 'queued' || status === 'inflight')) {
    const where = status === 'queued' ? 'still queued' : 'still in flight';
    return {
      action: 'skip',
      reason: `the previous run ${input.previous.run} is ${where} (lane item ${input.previous.laneItem})`,
    };
  }
  return { action: 'fire' };
}

export type RunSettlement = { status: Extract<CronRunStatus, 'ok' | 'error'>; reason: string | null } | null;

/** The final status of a pending run from its lane item, or null while that is not over. */
export function settlementOf(lane: { status: LaneStatus; last_error: string | null } | null): RunSettlement {
  if (lane === null) return { status: 'error', reason: 'its lane item no longer exists' };
  if (lane.status === 'done') return { status: 'ok', reason: null };
  if (lane.status === 'failed')
    return { status: 'error', reason: lane.last_error ?? 'the delivery to the agent failed' };
  return null;
}
