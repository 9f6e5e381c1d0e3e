// The cron scheduler: fires due jobs onto their agents' lanes. Invariants:
// - a firing's lane item, its run row and the job's next run commit in one
//   transaction, so a crash never loses a firing nor enqueues one twice;
// - a job never runs twice at once: while its previous lane item is queued or in
//   flight a firing is recorded as skipped, with the reason (see firing.ts);
// - at start, a job whose next run passed while the mesh was down runs once (or is
//   recorded as skipped when it says missed: skip), then continues from now;
// - one timer, set for the soonest next run and never longer than MAX_SLEEP_MS, so a
//   clock jump or a job added by another path is picked up within a minute;
// - settle() and the timer never throw: a failure is logged and recorded.
import { LegionError } from '../../../shared/errors.js';
import { newId } from '../../../shared/ids.js';
import type { Logger } from '../../../shared/logging.js';
import type { CronJob, CronRun, CronRunTrigger, MissedPolicy } from '../../../shared/wire/cron.js';
import type { EventLog } from '../../events/log.js';
import type { TriggerBody } from '../../lanes/format.js';
import type { LaneStore } from '../../lanes/store.js';
import { decideFiring, settlementOf } from './firing.js';
import { nextRunAfter, parseSchedule, timeZoneProblem, type Schedule } from './schedule.js';
import { type CronStore, toRun, type JobRow, type RunRow } from './store.js';

const MAX_SLEEP_MS = 60_000;
/** An agent scheduling in a loop stops here, before it floods its own lane and the event log. */
export const MAX_AGENT_JOBS = 50;

export interface CronSchedulerOptions {
  store: CronStore;
  lanes: Pick<LaneStore, 'enqueue' | 'get'>;
  events: EventLog;
  logger: Logger;
  knownAgents: () => string[];
  /** Told after commit that `agent`'s lane got work. */
  onEnqueued: (agent: string) => void;
  /** Epoch ms; tests pass a clock they control. */
  now?: () => number;
}

export interface AddJobInput {
  agent: string;
  schedule: string;
  message: string;
  tz?: string | undefined;
  missed?: MissedPolicy | undefined;
  createdBy: 'operator' | 'agent';
}

function invalid(problem: string): LegionError {
  return new LegionError('invalid_schedule', problem);
}

export class CronScheduler {
  private readonly options: CronSchedulerOptions;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  /** The timer runs only between start() and stop(); tests drive runDue() themselves. */
  private started = false;

  constructor(options: CronSchedulerOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** Runs what was missed while the mesh was down, settles finished runs, arms the timer. */
  start(): void {
    this.started = true;
    this.catchUp();
    this.reconcile();
    this.arm();
  }

  stop(): void {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Validates and stores a job; throws a 400 naming the problem. */
  add(input: AddJobInput): CronJob {
    const tz = input.tz ?? 'UTC';
    const tzProblem = timeZoneProblem(tz);
    if (tzProblem) throw invalid(tzProblem);
    const parsed = parseSchedule(input.schedule, tz);
    if (!parsed.ok) throw invalid(parsed.problem);
    if (input.createdBy === 'agent' && this.options.store.list(input.agent).length >= MAX_AGENT_JOBS) {
      throw new LegionError(
        'too_many_jobs',
        `${input.agent} already has ${MAX_AGENT_JOBS} cron jobs; remove one (remove_cron) before adding another`,
      );
    }
    const createdAt = this.now();
    const next = nextRunAfter(parsed.schedule, tz, createdAt, createdAt);
    if (next === null) {
      const why = parsed.schedule.kind === 'at' ? 'that time has passed' : 'it matches no future date';
      throw invalid(`invalid schedule ${JSON.stringify(input.schedule.trim())}: ${why}`);
    }
    const id = newId('cron');
    this.options.store.insertJob({
      id,
      agent: input.agent,
      schedule: input.schedule.trim(),
      message: input.message,
      tz,
      missed: input.missed ?? 'run',
      created_by: input.createdBy,
      created_at: createdAt,
      next_run: next,
    });
    this.options.events.record({
      agent: input.agent,
      kind: 'cron_added',
      subject: id,
      detail: { schedule: input.schedule.trim(), tz, by: input.createdBy },
    });
    this.arm();
    return this.getJob(id);
  }

  list(agent?: string): CronJob[] {
    this.reconcile();
    return this.options.store.list(agent);
  }

  /** The job; 404 when there is none, or when `owner` is given and the job is not its own. */
  getJob(id: string, owner?: string): CronJob {
    const job = this.options.store.job(id);
    if (!job || (owner !== undefined && job.agent !== owner)) {
      throw new LegionError('not_found', owner === undefined ? `no cron job ${id}` : `${owner} has no cron job ${id}`);
    }
    return job;
  }

  remove(id: string, owner?: string): void {
    const job = this.getJob(id, owner);
    this.options.store.deleteJob(id);
    this.options.events.record({
      agent: job.agent,
      kind: 'cron_removed',
      subject: id,
      detail: { schedule: job.schedule },
    });
    this.arm();
  }

  runs(id: string, limit: number): CronRun[] {
    this.getJob(id);
    this.reconcile();
    return this.options.store.runs(id, limit);
  }

  /** `legion cron run`: fires now, whatever the schedule says (still never twice at once). */
  runNow(id: string): CronRun {
    const row = this.options.store.jobRow(id);
    if (!row) throw new LegionError('not_found', `no cron job ${id}`);
    return toRun(this.fire(row, 'manual', null, this.now(), undefined));
  }

  /** Fires every job that is due at `now`; the timer calls it, tests call it with their clock. */
  runDue(now = this.now()): void {
    this.fireDue('schedule', now);
  }

  /** At start: every job whose run fell due while the mesh was down, once each. */
  catchUp(now = this.now()): void {
    this.fireDue('missed', now);
  }

  /** Each due job fires once, however many of its runs fell due, and continues after `now`. */
  private fireDue(trigger: Extract<CronRunTrigger, 'schedule' | 'missed'>, now: number): void {
    for (const row of this.options.store.dueJobs(now)) {
      const schedule = this.scheduleOf(row);
      this.fire(row, trigger, row.next_run, now, schedule ? nextRunAfter(schedule, row.tz, now, row.created_at) : null);
    }
  }

  /** Told by the lane dispatcher that `laneItem` got its reply; never throws. */
  settle(laneItem: string): void {
    try {
      const run = this.options.store.pendingRunOfLaneItem(laneItem);
      if (run) this.options.store.settleRun(run.id, 'ok', null, this.now());
    } catch (err) {
      this.options.logger.error(
        { err, event: 'cron_settle_failed', lane_item: laneItem },
        'could not record the end of a cron run',
      );
    }
  }

  /** Ends pending runs whose lane items have ended (delivered, or failed for good). */
  reconcile(): void {
    const { store, lanes, events } = this.options;
    for (const run of store.pendingRuns()) {
      const item = run.lane_item ? lanes.get(run.lane_item) : null;
      const settlement = settlementOf(item ? { status: item.status, last_error: item.last_error } : null);
      if (!settlement) continue;
      if (store.settleRun(run.id, settlement.status, settlement.reason, this.now()) && settlement.status === 'error') {
        events.record({
          agent: run.agent,
          kind: 'cron_failed',
          subject: run.job_id,
          detail: { run: run.id, reason: settlement.reason },
        });
      }
    }
  }

  /** A stored schedule that no longer parses (a time zone dropped from the runtime) disables its job. */
  private scheduleOf(row: JobRow): Schedule | null {
    const parsed = timeZoneProblem(row.tz) ?? parseSchedule(row.schedule, row.tz);
    if (typeof parsed !== 'string' && parsed.ok) return parsed.schedule;
    const problem = typeof parsed === 'string' ? parsed : parsed.problem;
    this.options.logger.error(
      { agent: row.agent, event: 'cron_schedule_invalid', job: row.id, problem },
      'a stored cron schedule no longer parses; the job is disabled',
    );
    return null;
  }

  /**
   * Decides and records one firing; `next` (undefined: leave as is) becomes the job's
   * next run in the same transaction.
   */
  private fire(
    row: JobRow,
    trigger: CronRunTrigger,
    dueAt: number | null,
    now: number,
    next: number | null | undefined,
  ): RunRow {
    const { store, lanes, events, logger } = this.options;
    const decision = decideFiring({
      trigger,
      missed: row.missed,
      dueAt,
      agent: row.agent,
      agentKnown: this.options.knownAgents().includes(row.agent),
      previous:
        row.fired_run_id && row.fired_lane_item
          ? {
              run: row.fired_run_id,
              laneItem: row.fired_lane_item,
              status: lanes.get(row.fired_lane_item)?.status ?? null,
            }
          : null,
    });
    const run: RunRow = {
      id: newId('crun'),
      job_id: row.id,
      agent: row.agent,
      trigger,
      scheduled_for: dueAt,
      fired_at: now,
      status: decision.action === 'fire' ? 'pending' : 'skipped',
      reason: decision.action === 'skip' ? decision.reason : null,
      lane_item: null,
      finished_at: decision.action === 'skip' ? now : null,
    };
    const body: TriggerBody = { source: 'cron', title: `job ${row.id} (${row.schedule})`, text: row.message };
    try {
      store.transaction(() => {
        // The run's id is the lane item's trace: the LLM calls of the turn are booked under it.
        if (decision.action === 'fire') run.lane_item = lanes.enqueue(row.agent, 'cron', body, run.id);
        store.insertRun(run);
        if (next !== undefined) store.setNextRun(row.id, next);
      });
    } catch (err) {
      // Enqueueing refused (a full lane, say): the run is an error and the schedule moves on.
      const reason = err instanceof Error ? err.message : String(err);
      Object.assign(run, { status: 'error', reason, lane_item: null, finished_at: now });
      store.transaction(() => {
        store.insertRun(run);
        if (next !== undefined) store.setNextRun(row.id, next);
      });
      logger.warn(
        { agent: row.agent, event: 'cron_enqueue_failed', job: row.id, err: reason },
        'a cron firing could not be queued',
      );
    }
    const detail = { run: run.id, trigger, lane_item: run.lane_item, ...(run.reason ? { reason: run.reason } : {}) };
    events.record({
      agent: row.agent,
      kind: run.status === 'pending' ? 'cron_fired' : run.status === 'skipped' ? 'cron_skipped' : 'cron_failed',
      subject: row.id,
      detail,
      trace: run.id,
    });
    if (run.status === 'pending') this.options.onEnqueued(row.agent);
    return run;
  }

  /** Sets the one timer for the soonest next run. */
  private arm(): void {
    if (!this.started) return;
    if (this.timer) clearTimeout(this.timer);
    const soonest = this.options.store.earliestNextRun();
    const delay = soonest === null ? MAX_SLEEP_MS : Math.min(Math.max(soonest - this.now(), 0), MAX_SLEEP_MS);
    this.timer = setTimeout(() => this.tick(), delay);
    // The HTTP servers keep the mesh alive; a pending cron timer should not.
    this.timer.unref();
  }

  private tick(): void {
    this.timer = null;
    try {
      this.runDue();
      this.reconcile();
    } catch (err) {
      this.options.logger.error({ err, event: 'cron_tick_failed' }, 'the cron scheduler failed to fire due jobs');
    }
    this.arm();
  }
}
