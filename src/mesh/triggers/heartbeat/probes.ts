// Heartbeat probe decisions: pure functions from facts the mesh already holds (lane
// counts, blackboard changes, the agent server's probe report) to findings. They cost
// nothing and call nothing. Invariants:
// - a probe with no baseline yet (its first beat) records one and does not fire, so
//   turning a probe on never wakes the agent for history;
// - what the agent does on its own never fires a probe by itself: its own heartbeat
//   wake-ups are not "queued items", its own blackboard writes are not changes, and its
//   daily logs (memory/YYYY-MM-DD.md, written after every turn) are not workspace
//   changes; otherwise each wake-up would cause the next;
// - HEARTBEAT.md counts as holding rules only when something is left after removing
//   headings, HTML comments and blank lines (what a template consists of).
import type { LaneItemKind } from '../../../shared/wire/fleet.js';
import { HEARTBEAT_OK, type AgentProbeReport, type Probe, type ProbeFinding } from '../../../shared/wire/heartbeat.js';

/** path → "mtime:size" of each workspace file the probe compares. */
export type WorkspaceSnapshot = Record<string, string>;

/** Keys listed in a finding; the rest are counted. */
const LISTED = 10;
const DAILY_LOG = /^memory\/\d{4}-\d{2}-\d{2}\.md$/;

export interface ProbeFacts {
  /** Queued items of the agent's lane by kind. */
  queued: Partial<Record<LaneItemKind, number>>;
  /** Per watched prefix: keys others changed since the last beat that the agent may read; null on the first beat. */
  blackboard: ReadonlyMap<string, readonly string[] | null>;
  /** The agent server's report, or why there is none. */
  agent: { report: AgentProbeReport } | { error: string } | null;
  /** The workspace as the previous beat saw it; null before the first beat. */
  previousWorkspace: WorkspaceSnapshot | null;
}

export function workspaceSnapshot(report: AgentProbeReport): WorkspaceSnapshot {
  const snapshot: WorkspaceSnapshot = {};
  for (const file of report.workspace.files) {
    if (!DAILY_LOG.test(file.path)) snapshot[file.path] = `${Math.trunc(file.mtime_ms)}:${file.size}`;
  }
  return snapshot;
}

export function diffWorkspace(
  previous: WorkspaceSnapshot,
  current: WorkspaceSnapshot,
): { added: string[]; changed: string[]; removed: string[] } {
  const added: string[] = [];
  const changed: string[] = [];
  for (const [path, stamp] of Object.entries(current)) {
    if (!(path in previous)) added.push(path);
    else if (previous[path] !== stamp) changed.push(path);
  }
  const removed = Object.keys(previous).filter((path) => !(path in current));
  return { added: added.sort(), changed: changed.sort(), removed: removed.sort() };
}

/** The lines of HEARTBEAT.md that are rules rather than template. */
export function heartbeatRules(content: string): string[] {
  return content
    .replace(/<!--[\s\S]*?(-->|$)/g, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^#{1,6}(\s|$)/.test(line));
}

function listed(items: readonly string[]): string {
  const head = items.slice(0, LISTED).join(', ');
  return items.length > LISTED ? `${head} (+${items.length - LISTED} more)` : head;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function evaluate(probe: Probe, facts: ProbeFacts): { fired: boolean; detail: string } {
  switch (probe.probe) {
    case 'pending_deliveries': {
      const events = facts.queued.event ?? 0;
      const messages = facts.queued.message ?? 0;
      const parts = [
        events > 0 ? plural(events, 'pub/sub event') : '',
        messages > 0 ? plural(messages, 'message') : '',
      ].filter(Boolean);
      return {
        fired: parts.length > 0,
        detail: parts.length > 0 ? `${parts.join(' and ')} queued for you` : 'no pub/sub events or messages queued',
      };
    }
    case 'queued_items': {
      const kinds = Object.entries(facts.queued).filter(([kind, n]) => kind !== 'heartbeat' && (n ?? 0) > 0);
      const n = kinds.reduce((sum, [, count]) => sum + (count ?? 0), 0);
      return {
        fired: n > 0,
        detail:
          n > 0
            ? `${plural(n, 'lane item')} queued (${kinds.map(([kind, count]) => `${count} ${kind}`).join(', ')})`
            : 'no lane items queued',
      };
    }
    case 'blackboard_changed': {
      const keys = facts.blackboard.get(probe.prefix);
      const where = probe.prefix ? `under "${probe.prefix}"` : 'on the blackboard';
      if (keys === undefined || keys === null)
        return { fired: false, detail: `first beat: watching keys ${where} from now on` };
      return {
        fired: keys.length > 0,
        detail:
          keys.length > 0
            ? `${plural(keys.length, 'key')} changed ${where}: ${listed(keys)}`
            : `no keys changed ${where}`,
      };
    }
    case 'workspace_changed': {
      if (facts.agent === null || 'error' in facts.agent)
        return { fired: false, detail: `workspace not checked: ${facts.agent?.error ?? 'no report'}` };
      if (facts.previousWorkspace === null)
        return { fired: false, detail: 'first beat: watching the workspace from now on' };
      const diff = diffWorkspace(facts.previousWorkspace, workspaceSnapshot(facts.agent.report));
      const parts = [
        diff.added.length > 0 ? `added ${listed(diff.added)}` : '',
        diff.changed.length > 0 ? `changed ${listed(diff.changed)}` : '',
        diff.removed.length > 0 ? `removed ${listed(diff.removed)}` : '',
      ].filter(Boolean);
      return {
        fired: parts.length > 0,
        detail: parts.length > 0 ? `workspace files ${parts.join('; ')}` : 'no workspace files changed',
      };
    }
    case 'disk_usage': {
      if (facts.agent === null || 'error' in facts.agent)
        return { fired: false, detail: `disk not checked: ${facts.agent?.error ?? 'no report'}` };
      const disk = facts.agent.report.disk;
      if (disk === null) return { fired: false, detail: 'disk use is not available in this container' };
      const used = Math.round(disk.used_percent * 10) / 10;
      const fired = disk.used_percent > probe.over_percent;
      return {
        fired,
        detail: `/data is ${used}% full (${fired ? 'over' : 'within'} the ${probe.over_percent}% limit)`,
      };
    }
    case 'heartbeat_rules': {
      if (facts.agent === null || 'error' in facts.agent)
        return { fired: false, detail: `HEARTBEAT.md not checked: ${facts.agent?.error ?? 'no report'}` };
      const content = facts.agent.report.heartbeat_md;
      if (content === null) return { fired: false, detail: 'there is no HEARTBEAT.md' };
      const rules = heartbeatRules(content);
      return {
        fired: rules.length > 0,
        detail:
          rules.length > 0
            ? `HEARTBEAT.md holds ${plural(rules.length, 'rule line')}`
            : 'HEARTBEAT.md holds only its template',
      };
    }
  }
}

/** One finding per probe, in the order configured. */
export function runProbes(probes: readonly Probe[], facts: ProbeFacts): ProbeFinding[] {
  return probes.map((probe) => ({ probe: probeLabel(probe), ...evaluate(probe, facts) }));
}

export function probeLabel(probe: Probe): string {
  if (probe.probe === 'blackboard_changed') return `blackboard_changed ${probe.prefix || '(all keys)'}`;
  if (probe.probe === 'disk_usage') return `disk_usage over ${probe.over_percent}%`;
  return probe.probe;
}

/** Probes that need the agent server's report (the workspace and disk live in the container). */
export function needsAgentReport(probes: readonly Probe[]): boolean {
  return probes.some(
    (p) => p.probe === 'workspace_changed' || p.probe === 'disk_usage' || p.probe === 'heartbeat_rules',
  );
}

/** What the woken agent reads: what fired, then HEARTBEAT.md, then how to answer. */
export function wakeText(findings: readonly ProbeFinding[], heartbeatMd: string | null): string {
  const fired = findings.filter((f) => f.fired);
  return [
    'Heartbeat: these checks found something that may need you:',
    ...fired.map((f) => `- ${f.probe}: ${f.detail}`),
    '',
    heartbeatMd === null ? 'You have no HEARTBEAT.md.' : `Your HEARTBEAT.md:\n${heartbeatMd.trim()}`,
    '',
    `Act on what needs acting on. If nothing needs your attention, reply with exactly ${HEARTBEAT_OK}.`,
  ].join('\n');
}

/** A reply of exactly HEARTBEAT_OK (trimmed) means "nothing to report" and is not shown. */
export function isHeartbeatOk(reply: string): boolean {
  return reply.trim() === HEARTBEAT_OK;
}
