// The heartbeat: every `every`, each agent's probes run in the mesh, at no LLM cost;
// only when one fires is the agent woken, with a 'heartbeat' lane item holding the
// findings and HEARTBEAT.md. Invariants:
// - every beat is recorded (quiet, skipped with a reason, or woken with its lane item),
//   and a woken beat is finished with the reply's outcome and the wake-up's cost;
// - one beat per agent at a time, and no beat while the agent's previous wake-up is
//   still queued or in flight (recorded as skipped), so wake-ups never pile up;
// - baselines (blackboard sequence, workspace snapshot) advance only with a beat that
//   was recorded as quiet or woken, so nothing found is lost to a skipped beat;
// - a reply of exactly HEARTBEAT_OK is recorded as ok and shown nowhere; any other
//   reply is recorded and written to the event log (legion logs);
// - settle(), the timer and the beats never throw: failures are logged and recorded.
import { newId } from '../../../shared/ids.js';
import type { Logger } from '../../../shared/logging.js';
import { BLACKBOARD_LIST_MAX } from '../../../shared/wire/blackboard.js';
import {
  DEFAULT_PROBES,
  normalizeProbe,
  parseInterval,
  probeSpec,
  type AgentProbeReport,
  type Beat,
  type HeartbeatConfig,
  type HeartbeatSetting,
  type Probe,
  type ProbeFinding,
  type ProbeSpec,
} from '../../../shared/wire/heartbeat.js';
import type { BlackboardStore } from '../../blackboard/store.js';
import type { EventLog } from '../../events/log.js';
import type { TriggerBody } from '../../lanes/format.js';
import type { LaneStore } from '../../lanes/store.js';
import type { PermissionChecker } from '../../permissions/types.js';
import { isHeartbeatOk, needsAgentReport, runProbes, wakeText, workspaceSnapshot, type ProbeFacts } from './probes.js';
import type { AgentState, HeartbeatStore } from './store.js';

/** The timer comes back at least this often, so agents.yaml edits and new agents are picked up. */
const MAX_SLEEP_MS = 30_000;
/** Blackboard pages examined per watched prefix and beat, and keys worth naming. */
const MAX_CHANGE_PAGES = 20;
const KEYS_NAMED = 50;

export interface HeartbeatSchedulerOptions {
  store: HeartbeatStore;
  lanes: Pick<LaneStore, 'enqueue' | 'get' | 'queuedByKind'>;
  blackboard: Pick<BlackboardStore, 'changesSince' | 'lastSeq'>;
  permissions: Pick<PermissionChecker, 'check'>;
  events: EventLog;
  logger: Logger;
  knownAgents: () => string[];
  /** agents.<name>.heartbeat in agents.yaml, as currently loaded. */
  configured: (agent: string) => HeartbeatConfig | undefined;
  isReady: (agent: string) => boolean;
  /** The agent server's probe report (workspace, disk, HEARTBEAT.md); no LLM call. */
  probeAgent: (agent: string) => Promise<AgentProbeReport>;
  /** LLM calls and cost booked under `trace` since `sinceMs`. */
  traceCost: (agent: string, trace: string, sinceMs: number) => { calls: number; cost_usd: number };
  onEnqueued: (agent: string) => void;
  now?: () => number;
}

interface Setting {
  everyMs: number;
  every: string;
  probes: Probe[];
}

interface Prepared {
  findings: ProbeFinding[];
  fired: boolean;
  state: AgentState;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class HeartbeatScheduler {
  private readonly options: HeartbeatSchedulerOptions;
  private readonly now: () => number;
  /** When each agent's next beat is due; agents without a heartbeat have no entry. */
  private readonly next = new Map<string, number>();
  private readonly beating = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  /** Set by stop(): a beat still waiting for an agent's report must not write to a closing database. */
  private stopped = false;

  constructor(options: HeartbeatSchedulerOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.started = true;
    this.reconcile();
    this.tick();
  }

  stop(): void {
    this.started = false;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** set_heartbeat: stores the agent's own setting (overriding agents.yaml) and restarts its cadence. */
  set(agent: string, every: string, probes: ProbeSpec[] | undefined): HeartbeatSetting {
    const current = this.setting(agent);
    const specs = probes ?? (current ? current.probes.map(probeSpec) : DEFAULT_PROBES.map(probeSpec));
    this.options.store.saveSetting(agent, { every: every === 'off' ? null : every, probes: specs }, this.now());
    this.next.delete(agent);
    const ms = every === 'off' ? null : parseInterval(every);
    if (ms !== null) this.next.set(agent, this.now() + ms);
    this.options.events.record({ agent, kind: 'heartbeat_set', subject: agent, detail: { every, probes: specs } });
    if (this.started) this.arm();
    return this.describe(agent);
  }

  status(agent?: string, limit = 50): { settings: HeartbeatSetting[]; beats: Beat[] } {
    this.reconcile();
    const agents = agent === undefined ? this.options.knownAgents() : [agent];
    return { settings: agents.map((name) => this.describe(name)), beats: this.options.store.beats({ agent, limit }) };
  }

  /** Told by the lane dispatcher that `laneItem` got `reply`; never throws. */
  settle(laneItem: string, reply: string): void {
    try {
      const beat = this.options.store.wokenBeatOf(laneItem);
      if (!beat) return;
      this.finish(beat, reply);
      if (this.setting(beat.agent)?.probes.some((p) => p.probe === 'workspace_changed'))
        void this.refreshWorkspace(beat.agent);
    } catch (err) {
      this.options.logger.error(
        { err, event: 'heartbeat_settle_failed', lane_item: laneItem },
        'could not record the end of a heartbeat wake-up',
      );
    }
  }

  /** Finishes woken beats whose lane items ended without a settle (failed, or the mesh stopped in between). */
  reconcile(): void {
    for (const beat of this.options.store.wokenBeats()) {
      const item = this.options.lanes.get(beat.lane_item);
      if (item?.status === 'done') this.finish(beat, item.reply ?? '');
      else if (!item || item.status === 'failed') {
        const reason = item?.last_error ?? 'its lane item no longer exists';
        const cost = this.options.traceCost(beat.agent, beat.id, beat.at);
        if (
          this.options.store.finishBeat(beat.id, { outcome: 'error', reason, reply: null, ...cost, at: this.now() })
        ) {
          this.options.events.record({
            agent: beat.agent,
            kind: 'heartbeat_failed',
            subject: beat.id,
            detail: { reason },
            trace: beat.id,
          });
        }
      }
    }
  }

  /** Runs every beat due at `now` and resolves when they are recorded (the timer does not wait). */
  runDue(now = this.now()): Promise<void> {
    const beats: Promise<void>[] = [];
    const known = this.options.knownAgents();
    for (const agent of this.next.keys()) if (!known.includes(agent)) this.next.delete(agent);
    for (const agent of known) {
      const setting = this.setting(agent);
      if (!setting) {
        this.next.delete(agent);
        continue;
      }
      const due = this.next.get(agent) ?? this.firstBeat(agent, setting, now);
      this.next.set(agent, due);
      if (due > now || this.beating.has(agent)) continue;
      this.next.set(agent, now + setting.everyMs);
      beats.push(this.beat(agent, setting, now));
    }
    return Promise.all(beats).then(() => undefined);
  }

  /** The agent's setting in force: set_heartbeat's, else agents.yaml's; null when it has none or it is off. */
  private setting(agent: string): Setting | null {
    const chosen = this.options.store.setting(agent) ?? this.options.configured(agent);
    if (!chosen?.every) return null;
    const everyMs = parseInterval(chosen.every);
    if (everyMs === null) return null;
    const probes = chosen.probes ? chosen.probes.map(normalizeProbe) : [...DEFAULT_PROBES];
    return { everyMs, every: chosen.every, probes };
  }

  private describe(agent: string): HeartbeatSetting {
    const setting = this.setting(agent);
    const stored = this.options.store.setting(agent);
    const next = this.next.get(agent);
    return {
      agent,
      every: setting?.every ?? null,
      probes: setting ? setting.probes.map(probeSpec) : (stored?.probes ?? []),
      source: stored ? 'set_heartbeat' : 'config',
      next_beat: setting && next !== undefined ? new Date(next).toISOString() : null,
    };
  }

  /** The cadence continues across restarts; a beat that fell due while the mesh was down is not made up (beats look at the present). */
  private firstBeat(agent: string, setting: Setting, now: number): number {
    const last = this.options.store.state(agent).last_beat;
    return last !== null && last + setting.everyMs > now ? last + setting.everyMs : now + setting.everyMs;
  }

  private async beat(agent: string, setting: Setting, now: number): Promise<void> {
    const id = newId('hb');
    this.beating.add(agent);
    try {
      if (!this.options.isReady(agent)) {
        this.options.store.insertBeat({
          id,
          agent,
          at: now,
          findings: [],
          outcome: 'skipped',
          reason: `${agent} is not running`,
          lane_item: null,
        });
        return;
      }
      const busy = this.previousWakeBusy(agent);
      if (busy) {
        this.options.store.insertBeat({
          id,
          agent,
          at: now,
          findings: [],
          outcome: 'skipped',
          reason: busy,
          lane_item: null,
        });
        return;
      }
      const report = needsAgentReport(setting.probes) ? await this.report(agent) : null;
      if (this.stopped) return;
      const prepared = this.prepare(agent, setting, now, report);
      if (!prepared.fired) {
        this.options.store.transaction(() => {
          this.options.store.insertBeat({
            id,
            agent,
            at: now,
            findings: prepared.findings,
            outcome: 'quiet',
            reason: null,
            lane_item: null,
          });
          this.options.store.saveState(agent, prepared.state);
        });
        return;
      }
      // HEARTBEAT.md goes with every wake-up, also when only a mesh-side probe fired.
      const withMd = report ?? (await this.report(agent));
      if (this.stopped) return;
      this.wake(
        id,
        agent,
        now,
        prepared,
        'report' in withMd ? withMd.report.heartbeat_md : `(HEARTBEAT.md could not be read: ${withMd.error})`,
      );
    } catch (err) {
      this.options.logger.error({ err, agent, event: 'heartbeat_beat_failed', beat: id }, 'a heartbeat beat failed');
    } finally {
      this.beating.delete(agent);
    }
  }

  private async report(agent: string): Promise<{ report: AgentProbeReport } | { error: string }> {
    try {
      return { report: await this.options.probeAgent(agent) };
    } catch (err) {
      return { error: errorText(err) };
    }
  }

  /** Why the agent's previous wake-up keeps this beat from running, or null. */
  private previousWakeBusy(agent: string): string | null {
    const item = this.options.store.state(agent).last_wake_item;
    const previous = item ? this.options.lanes.get(item) : null;
    if (previous?.status === 'queued') return `the previous wake-up ${previous.id} is still queued`;
    if (previous?.status === 'inflight') return `the previous wake-up ${previous.id} is still in flight`;
    return null;
  }

  /** Everything after the agent's report, synchronously: no write can slip in between the reads. */
  private prepare(agent: string, setting: Setting, now: number, report: ProbeFacts['agent']): Prepared {
    const { store, lanes, blackboard } = this.options;
    const state = store.state(agent);
    const seqNow = blackboard.lastSeq();
    const changes = new Map<string, string[] | null>();
    const seen: Record<string, number> = {};
    for (const probe of setting.probes) {
      if (probe.probe !== 'blackboard_changed') continue;
      const since = state.blackboard[probe.prefix];
      changes.set(probe.prefix, since === undefined ? null : this.changedKeys(agent, probe.prefix, since, seqNow));
      seen[probe.prefix] = seqNow;
    }
    const findings = runProbes(setting.probes, {
      queued: lanes.queuedByKind(agent),
      blackboard: changes,
      agent: report,
      previousWorkspace: state.workspace,
    });
    const workspace = report && 'report' in report ? workspaceSnapshot(report.report) : state.workspace;
    return {
      findings,
      fired: findings.some((f) => f.fired),
      state: { ...state, last_beat: now, blackboard: seen, workspace },
    };
  }

  /** Keys under `prefix` that others changed after `since` (up to `upto`) and that `agent` may read. */
  private changedKeys(agent: string, prefix: string, since: number, upto: number): string[] {
    const keys = new Set<string>();
    let after = since;
    for (let page = 0; page < MAX_CHANGE_PAGES && keys.size < KEYS_NAMED; page += 1) {
      const rows = this.options.blackboard.changesSince(after, prefix);
      for (const change of rows) {
        if (change.seq > upto) return [...keys];
        if (change.writer !== agent && this.options.permissions.check(agent, 'blackboard_read', change.key).allowed)
          keys.add(change.key);
      }
      const last = rows.at(-1);
      if (!last || rows.length < BLACKBOARD_LIST_MAX) break;
      after = last.seq;
    }
    return [...keys];
  }

  private wake(id: string, agent: string, now: number, prepared: Prepared, heartbeatMd: string | null): void {
    const { store, lanes, events, logger } = this.options;
    const body: TriggerBody = { source: 'mesh probes', title: id, text: wakeText(prepared.findings, heartbeatMd) };
    let laneItem: string;
    try {
      laneItem = store.transaction(() => {
        // The beat's id is the lane item's trace: the wake-up's LLM calls are booked under it.
        const item = lanes.enqueue(agent, 'heartbeat', body, id);
        this.options.store.insertBeat({
          id,
          agent,
          at: now,
          findings: prepared.findings,
          outcome: 'woken',
          reason: null,
          lane_item: item,
        });
        store.saveState(agent, { ...prepared.state, last_wake_item: item });
        return item;
      });
    } catch (err) {
      // Refused (a full lane): recorded, baselines kept, so the next beat finds the same again.
      const reason = errorText(err);
      this.options.store.insertBeat({
        id,
        agent,
        at: now,
        findings: prepared.findings,
        outcome: 'error',
        reason,
        lane_item: null,
      });
      logger.warn(
        { agent, event: 'heartbeat_enqueue_failed', beat: id, err: reason },
        'a heartbeat wake-up could not be queued',
      );
      return;
    }
    const fired = prepared.findings.filter((f) => f.fired).map((f) => f.probe);
    events.record({ agent, kind: 'heartbeat_wake', subject: id, detail: { lane_item: laneItem, fired }, trace: id });
    this.options.onEnqueued(agent);
  }

  private finish(beat: { id: string; agent: string; at: number }, reply: string): void {
    const ok = isHeartbeatOk(reply);
    const cost = this.options.traceCost(beat.agent, beat.id, beat.at);
    const finished = this.options.store.finishBeat(beat.id, {
      outcome: ok ? 'ok' : 'reported',
      reason: null,
      reply: ok ? null : reply,
      ...cost,
      at: this.now(),
    });
    if (finished && !ok) {
      this.options.events.record({
        agent: beat.agent,
        kind: 'heartbeat_reply',
        subject: beat.id,
        detail: { reply, calls: cost.calls, cost_usd: cost.cost_usd },
        trace: beat.id,
      });
    }
  }

  /** After a wake-up the workspace is looked at again, so what the agent itself wrote is not news at the next beat. */
  private async refreshWorkspace(agent: string): Promise<void> {
    const report = await this.report(agent);
    if ('report' in report && !this.stopped) this.options.store.saveWorkspace(agent, workspaceSnapshot(report.report));
  }

  private tick(): void {
    this.timer = null;
    try {
      this.reconcile();
      void this.runDue();
    } catch (err) {
      this.options.logger.error({ err, event: 'heartbeat_tick_failed' }, 'the heartbeat scheduler failed');
    }
    this.arm();
  }

  private arm(): void {
    if (!this.started) return;
    if (this.timer) clearTimeout(this.timer);
    const soonest = Math.min(...this.next.values());
    const delay = Number.isFinite(soonest) ? Math.min(Math.max(soonest - this.now(), 0), MAX_SLEEP_MS) : MAX_SLEEP_MS;
    this.timer = setTimeout(() => this.tick(), delay);
    this.timer.unref();
  }
}
