// Orphaned sub-agents: a sub-agent's run lives in the mesh that started it, so a
// container or volume labelled legion.parent that no live run of this mesh owns (after
// a crash or SIGKILL of the mesh, or a failed removal) is removed, with its volume:
// nothing of it is worth keeping, its parent's call ended with the old mesh. The
// decision is pure; the sweep runs it at mesh start, before adoption, so a sub-agent's
// container is never mistaken for an agent to adopt or replace.
import type { Logger } from '../../shared/logging.js';
import type { AgentRuntime, ProgressFn, SubAgentLeftover } from '../runtime/types.js';

export type LeftoverVerdict = { action: 'keep' } | { action: 'remove'; reason: string };

export function judgeLeftover(leftover: SubAgentLeftover, liveRuns: ReadonlySet<string>): LeftoverVerdict {
  if (liveRuns.has(leftover.agent)) return { action: 'keep' };
  return {
    action: 'remove',
    reason: `sub-agent ${leftover.agent} of ${leftover.parent} has no live run (the mesh that started it is gone)`,
  };
}

export interface SweepOptions {
  runtime: AgentRuntime;
  liveRuns: ReadonlySet<string>;
  /** Forgets the container record (tokens) of a removed sub-agent. */
  forget: (agent: string) => void;
  progress: ProgressFn;
  logger: Logger;
}

/** Removes what judgeLeftover says to (containers before their volumes); returns how many things it removed. */
export async function sweepOrphans(options: SweepOptions): Promise<number> {
  const { runtime, logger } = options;
  if (!runtime.subAgentLeftovers || !runtime.removeLeftover) return 0;
  const found = await runtime.subAgentLeftovers();
  const ordered = [...found.filter((f) => f.kind === 'container'), ...found.filter((f) => f.kind === 'volume')];
  let removed = 0;
  for (const leftover of ordered) {
    const verdict = judgeLeftover(leftover, options.liveRuns);
    if (verdict.action === 'keep') continue;
    await runtime.removeLeftover(leftover);
    options.forget(leftover.agent);
    removed += 1;
    logger.info(
      { agent: leftover.agent, event: 'subagent_orphan_removed', kind: leftover.kind, ref: leftover.ref },
      verdict.reason,
    );
  }
  if (removed > 0)
    options.progress(`removed ${removed} container(s) and volume(s) of sub-agents left from an earlier run`);
  return removed;
}
