// The lane decisions as pure functions: which kinds are interactive (they go ahead of
// queued background work), whether a lane has room under the depth cap, and what
// happens to an item whose hand-over failed. Invariants: a refusal always names the
// agent and the cap; an interactive item is never handed over twice (the person saw
// it fail), and an item is never charged an attempt for an agent that was down.
import { LegionError } from '../../shared/errors.js';
import type { LaneItemKind } from '../../shared/wire/fleet.js';

/** A person waits on these; everything else is background work. */
export function isInteractive(kind: LaneItemKind): boolean {
  return kind === 'chat';
}

export type LaneRoom = { ok: true } | { ok: false; error: LegionError };

/** `depth` counts the agent's queued and in-flight items. */
export function laneRoom(agent: string, depth: number, cap: number): LaneRoom {
  if (depth < cap) return { ok: true };
  return {
    ok: false,
    error: new LegionError(
      'lane_full',
      `the lane of agent ${agent} is full: ${depth} items queued or running, the cap is ${cap} (mesh.lane_depth_cap in config/mesh.yaml); try again once it has drained`,
    ),
  };
}

export type AfterFailure = 'release' | 'retry' | 'fail';

/** What to do with an item whose hand-over failed, given whether its agent is still up. */
export function afterFailedHandOver(kind: LaneItemKind, agentUp: boolean): AfterFailure {
  // A chat turn already streamed (or refused) in front of a person: replaying it
  // later would answer nobody, and could repeat what the person saw fail.
  if (isInteractive(kind)) return 'fail';
  return agentUp ? 'retry' : 'release';
}
