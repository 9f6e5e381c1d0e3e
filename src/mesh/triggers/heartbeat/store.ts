// Heartbeat state in mesh.db. Invariants:
// - heartbeat_settings holds what set_heartbeat stored; a row overrides agents.yaml
//   for that agent (every NULL: the heartbeat is off);
// - heartbeat_state holds each agent's baselines (blackboard sequence per watched
//   prefix, workspace snapshot), its last beat and its last wake-up's lane item, so a
//   restart neither repeats findings nor forgets a wake-up in progress;
// - every beat is a row of heartbeat_beats, quiet or not, linked to its lane item when
//   it woke the agent; the newest BEATS_KEPT per agent are kept.
import type { Db, Migration } from '../../db.js';
import type { Beat, BeatOutcome, ProbeFinding, ProbeSpec } from '../../../shared/wire/heartbeat.js';
import type { WorkspaceSnapshot } from './probes.js';

export const heartbeatMigrations: Migration[] = [
  {
    domain: 'heartbeat',
    version: 1,
    sql: `CREATE TABLE heartbeat_settings (
      agent TEXT PRIMARY KEY,
      every TEXT,
      probes TEXT NOT NULL,
      set_at INTEGER NOT NULL
    );
    CREATE TABLE heartbeat_state (
      agent TEXT PRIMARY KEY,
      last_beat INTEGER,
      blackboard TEXT NOT NULL DEFAULT '{}',
      workspace TEXT,
      last_wake_item TEXT
    );
    CREATE TABLE heartbeat_beats (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      agent TEXT NOT NULL,
      at INTEGER NOT NULL,
      findings TEXT NOT NULL,
      outcome TEXT NOT NULL CHECK (outcome IN ('quiet', 'skipped', 'woken', 'ok', 'reported', 'error')),
      reason TEXT,
      lane_item TEXT,
      reply TEXT,
      calls INTEGER,
      cost_usd REAL,
      finished_at INTEGER
    );
    CREATE INDEX heartbeat_beats_agent ON heartbeat_beats (agent, seq);
    CREATE INDEX heartbeat_beats_lane_item ON heartbeat_beats (lane_item);
    CREATE INDEX heartbeat_beats_woken ON heartbeat_beats (outcome) WHERE outcome = 'woken';`,
  },
];

export const BEATS_KEPT = 1000;

export interface StoredSetting {
  every: string | null;
  probes: ProbeSpec[];
}

export interface AgentState {
  last_beat: number | null;
  /** Last blackboard sequence seen per watched prefix. */
  blackboard: Record<string, number>;
  workspace: WorkspaceSnapshot | null;
  last_wake_item: string | null;
}

interface BeatRow {
  id: string;
  agent: string;
  at: number;
  findings: string;
  outcome: BeatOutcome;
  reason: string | null;
  lane_item: string | null;
  reply: string | null;
  calls: number | null;
  cost_usd: number | null;
}

export interface NewBeat {
  id: string;
  agent: string;
  at: number;
  findings: ProbeFinding[];
  outcome: BeatOutcome;
  reason: string | null;
  lane_item: string | null;
}

function toBeat(row: BeatRow): Beat {
  return {
    id: row.id,
    agent: row.agent,
    at: new Date(row.at).toISOString(),
    findings: JSON.parse(row.findings) as ProbeFinding[],
    outcome: row.outcome,
    reason: row.reason,
    lane_item: row.lane_item,
    reply: row.reply,
    calls: row.calls,
    cost_usd: row.cost_usd,
  };
}

export class HeartbeatStore {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  setting(agent: string): StoredSetting | null {
    const row = this.db
      .prepare<[string], { every: string | null; probes: string }>(
        'SELECT every, probes FROM heartbeat_settings WHERE agent = ?',
      )
      .get(agent);
    return row ? { every: row.every, probes: JSON.parse(row.probes) as ProbeSpec[] } : null;
  }

  saveSetting(agent: string, setting: StoredSetting, at: number): void {
    this.db
      .prepare(
        `INSERT INTO heartbeat_settings (agent, every, probes, set_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (agent) DO UPDATE SET every = excluded.every, probes = excluded.probes, set_at = excluded.set_at`,
      )
      .run(agent, setting.every, JSON.stringify(setting.probes), at);
  }

  state(agent: string): AgentState {
    const row = this.db
      .prepare<
        [string],
        { last_beat: number | null; blackboard: string; workspace: string | null; last_wake_item: string | null }
      >('SELECT last_beat, blackboard, workspace, last_wake_item FROM heartbeat_state WHERE agent = ?')
      .get(agent);
    if (!row) return { last_beat: null, blackboard: {}, workspace: null, last_wake_item: null };
    return {
      last_beat: row.last_beat,
      blackboard: JSON.parse(row.blackboard) as Record<string, number>,
      workspace: row.workspace === null ? null : (JSON.parse(row.workspace) as WorkspaceSnapshot),
      last_wake_item: row.last_wake_item,
    };
  }

  saveState(agent: string, state: AgentState): void {
    this.db
      .prepare(
        `INSERT INTO heartbeat_state (agent, last_beat, blackboard, workspace, last_wake_item) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (agent) DO UPDATE SET last_beat = excluded.last_beat, blackboard = excluded.blackboard,
           workspace = excluded.workspace, last_wake_item = excluded.last_wake_item`,
      )
      .run(
        agent,
        state.last_beat,
        JSON.stringify(state.blackboard),
        state.workspace === null ? null : JSON.stringify(state.workspace),
        state.last_wake_item,
      );
  }

  /** Only the workspace baseline, taken again after a wake-up so the agent's own writes do not count. */
  saveWorkspace(agent: string, workspace: WorkspaceSnapshot): void {
    this.db.prepare('UPDATE heartbeat_state SET workspace = ? WHERE agent = ?').run(JSON.stringify(workspace), agent);
  }

  insertBeat(beat: NewBeat): void {
    this.db
      .prepare(
        'INSERT INTO heartbeat_beats (id, agent, at, findings, outcome, reason, lane_item) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(beat.id, beat.agent, beat.at, JSON.stringify(beat.findings), beat.outcome, beat.reason, beat.lane_item);
    this.db
      .prepare(
        'DELETE FROM heartbeat_beats WHERE agent = ? AND seq <= (SELECT seq FROM heartbeat_beats WHERE agent = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)',
      )
      .run(beat.agent, beat.agent, BEATS_KEPT);
  }

  /** The beat whose wake-up is `laneItem`, while it is still waiting for the reply. */
  wokenBeatOf(laneItem: string): { id: string; agent: string; at: number } | null {
    return (
      this.db
        .prepare<[string], { id: string; agent: string; at: number }>(
          "SELECT id, agent, at FROM heartbeat_beats WHERE lane_item = ? AND outcome = 'woken'",
        )
        .get(laneItem) ?? null
    );
  }

  wokenBeats(): { id: string; agent: string; at: number; lane_item: string }[] {
    return this.db
      .prepare<[], { id: string; agent: string; at: number; lane_item: string }>(
        "SELECT id, agent, at, lane_item FROM heartbeat_beats WHERE outcome = 'woken'",
      )
      .all();
  }

  /** Ends a woken beat; false when it had already ended. */
  finishBeat(
    id: string,
    end: {
      outcome: 'ok' | 'reported' | 'error';
      reason: string | null;
      reply: string | null;
      calls: number;
      cost_usd: number;
      at: number;
    },
  ): boolean {
    return (
      this.db
        .prepare(
          "UPDATE heartbeat_beats SET outcome = ?, reason = ?, reply = ?, calls = ?, cost_usd = ?, finished_at = ? WHERE id = ? AND outcome = 'woken'",
        )
        .run(end.outcome, end.reason, end.reply, end.calls, end.cost_usd, end.at, id).changes > 0
    );
  }

  beats(options: { agent?: string | undefined; limit: number }): Beat[] {
    const rows = options.agent
      ? this.db
          .prepare<[string, number], BeatRow>('SELECT * FROM heartbeat_beats WHERE agent = ? ORDER BY seq DESC LIMIT ?')
          .all(options.agent, options.limit)
      : this.db
          .prepare<[number], BeatRow>('SELECT * FROM heartbeat_beats ORDER BY seq DESC LIMIT ?')
          .all(options.limit);
    return rows.map(toBeat);
  }
}
