// How `legion chat <agent> --history` prints an agent's turns: oldest first, so the
// newest is nearest the prompt; per turn a header (time, origin, state and, when it
// failed or was cut short, why), the first line of what was asked and the first lines
// of the reply. Long lines are cut and say so; the full texts are in --json.
import type { HistoryPage, HistoryTurn } from '../shared/wire/history.js';

const LINE_MAX = 160;
const REPLY_LINES = 3;

/** Kinds named as a user knows them (lane kinds are the mesh's words). */
const KIND_LABEL: Partial<Record<HistoryTurn['origin']['kind'], string>> = { event: 'pub/sub', task: 'workflow' };

function cut(line: string): string {
  return line.length > LINE_MAX ? `${line.slice(0, LINE_MAX - 1)}…` : line;
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== '');
}

/** "2026-12-05 21:57:33" in `timeZone` (the machine's when not given). */
export function localTime(iso: string, timeZone?: string): string {
  return new Date(iso).toLocaleString('sv-SE', timeZone === undefined ? {} : { timeZone });
}

export function originLabel(origin: HistoryTurn['origin']): string {
  const kind = KIND_LABEL[origin.kind] ?? origin.kind;
  return origin.source === null ? kind : `${kind} ${origin.source}`;
}

export function formatTurn(turn: HistoryTurn, timeZone?: string): string {
  const why = turn.error !== null && turn.state !== 'done' ? `: ${turn.error}` : '';
  const out = [`${localTime(turn.created_at, timeZone)}  ${originLabel(turn.origin)} · ${turn.state}${cut(why)}`];
  const asked = turn.input === null ? ['(not recorded)'] : lines(turn.input);
  out.push(`  asked: ${cut(asked[0] ?? '(empty)')}${asked.length > 1 ? ` (+${asked.length - 1} lines)` : ''}`);
  if (turn.reply !== null) {
    const reply = lines(turn.reply);
    const shown = reply.slice(0, REPLY_LINES);
    out.push(`  reply: ${cut(shown[0] ?? '(empty)')}`, ...shown.slice(1).map((line) => `         ${cut(line)}`));
    if (reply.length > REPLY_LINES) out.push(`         … (${reply.length - REPLY_LINES} more lines)`);
  }
  return out.join('\n');
}

/** The page (newest first on the wire) printed oldest first, with how to see older turns. */
export function formatHistory(page: HistoryPage, timeZone?: string): string {
  if (page.turns.length === 0) return `no turns of ${page.agent} to show`;
  const older =
    page.next_before === null
      ? []
      : [`(older turns: legion chat ${page.agent} --history --before ${page.next_before})`];
  return [...older, ...[...page.turns].reverse().map((turn) => formatTurn(turn, timeZone))].join('\n');
}
