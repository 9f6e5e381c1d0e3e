// What the orchestrator does outside mesh.db, collected while a transaction runs and
// carried out only once it committed: lane kicks, POST /cancel to agents, timers, the
// on_complete publish. Invariants: nothing here touches the agents or the clock before
// apply(); timer arms and clears keep the order in which they were asked for, so a run
// that ends in the same transaction that armed a timer ends with no timer left.
import type { Timers } from './timers.js';

type TimerOp =
  | { op: 'arm'; key: string; at: number; fire: () => void }
  | { op: 'clear'; key: string }
  | { op: 'clearRun'; runId: string };

export interface EffectTargets {
  timers: Timers;
  kick: (agent: string) => void;
  cancelTask: (agent: string, taskId: string) => void;
  publish: (runId: string) => void;
}

export class Effects {
  private readonly kicks = new Set<string>();
  private readonly cancels: { agent: string; taskId: string }[] = [];
  private readonly timerOps: TimerOp[] = [];
  private readonly publishes: string[] = [];

  kick(agent: string): void {
    this.kicks.add(agent);
  }

  cancelTask(agent: string, taskId: string): void {
    this.cancels.push({ agent, taskId });
  }

  arm(key: string, at: number, fire: () => void): void {
    this.timerOps.push({ op: 'arm', key, at, fire });
  }

  clear(key: string): void {
    this.timerOps.push({ op: 'clear', key });
  }

  /** Clears every timer of a run (keys start with "<run id>:"). */
  clearRun(runId: string): void {
    this.timerOps.push({ op: 'clearRun', runId });
  }

  publish(runId: string): void {
    this.publishes.push(runId);
  }

  apply(targets: EffectTargets): void {
    for (const op of this.timerOps) {
      if (op.op === 'arm') targets.timers.arm(op.key, op.at, op.fire);
      else if (op.op === 'clear') targets.timers.clear(op.key);
      else targets.timers.clearPrefix(`${op.runId}:`);
    }
    for (const { agent, taskId } of this.cancels) targets.cancelTask(agent, taskId);
    for (const agent of this.kicks) targets.kick(agent);
    for (const runId of this.publishes) targets.publish(runId);
  }
}
