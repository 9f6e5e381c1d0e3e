// How chat events and fleet status look in a terminal.
import type { ChatEvent } from '../shared/wire/chat.js';
import type { AgentStatusEntry, LaneStatus } from '../shared/wire/admin.js';

export interface ChatSinks {
  reply: (text: string) => void;
  activity: (text: string) => void;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Reply tokens go to `reply`; tool activity and errors to `activity`. */
export function renderChatEvent(event: ChatEvent, sinks: ChatSinks): void {
  switch (event.type) {
    case 'token':
      sinks.reply(event.text);
      break;
    case 'tool_call':
      sinks.activity(`  [tool] ${event.name} ${oneLine(event.arguments, 120)}\n`);
      break;
    case 'tool_result':
      sinks.activity(`  [${event.ok ? 'ok' : 'failed'}] ${oneLine(event.output, 160)}\n`);
      break;
    case 'done':
      sinks.reply('\n');
      break;
    case 'error':
      sinks.activity(`\nerror: ${event.error.message}\n`);
      break;
  }
}

export function formatTable(rows: string[][]): string {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, col) => cell.padEnd(widths[col] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Depth against the cap, then what runs now: kind, lane item id, since when (local time) and for how long. */
export function formatLane(lane: LaneStatus, now = Date.now()): string {
  const depth = `${lane.queued} queued (cap ${lane.cap})`;
  if (!lane.running) return depth;
  const since = new Date(lane.running.since);
  const seconds = Math.max(0, Math.round((now - since.getTime()) / 1000));
  return `${depth}, running ${lane.running.kind} ${lane.running.id} since ${since.toTimeString().slice(0, 8)} (${seconds}s)`;
}

export function formatAgents(agents: AgentStatusEntry[]): string {
  if (agents.length === 0) return 'no agents configured (add one with `legion agent add <name>`)';
  const table = formatTable([
    ['AGENT', 'HEALTH', 'STATE', 'LANE', 'RESTARTS/1H', 'CONTAINER', 'RUNTIME', 'MODEL', 'ROLE'],
    ...agents.flatMap((a) => [
      [
        a.name,
        a.health + (a.busy ? ' (busy)' : ''),
        a.container?.state ?? '-',
        formatLane(a.lane),
        String(a.restarts),
        a.container?.name ?? '-',
        a.container ? `${a.container.runtime}${a.container.sandboxed ? '' : ' (no sandbox)'}` : '-',
        a.model,
        a.role,
      ],
      // Its live sub-agents, right under it.
      ...(a.subagents ?? []).map((sub) => [
        `  └ ${sub.id}`,
        `sub-agent ${sub.status}`,
        '-',
        '-',
        '-',
        '-',
        '-',
        sub.model,
        sub.role,
      ]),
    ]),
  ]);
  const errors = agents.filter((a) => a.last_error).map((a) => `${a.name}: last error: ${a.last_error ?? ''}`);
  return [table, ...errors].join('\n');
}
