// Cron schedules: parsing and "when next". Pure functions over croner, no clock of
// their own (every caller passes the time). Invariants:
// - a schedule is 5 cron fields, 6 (seconds first), "every <n>s|m|h|d" or
//   "at <ISO time>"; anything else is refused with a message that names the problem;
// - cron expressions use the standard day-of-month / day-of-week rule: when both are
//   restricted, a day matching either fires (croner's domAndDow: false);
// - cron expressions and offset-less `at` times are read in the job's IANA time zone;
//   across DST croner runs a fixed-time job once (a skipped hour runs just after the
//   gap, a repeated hour runs only the first time);
// - nextRunAfter is strictly after the time it is given, so firing and computing the
//   next run never yields the same instant twice.
import { Cron, CronDate } from 'croner';
import { parseInterval } from '../../../shared/wire/heartbeat.js';

export type Schedule =
  | { kind: 'cron'; expression: string }
  | { kind: 'every'; ms: number }
  | { kind: 'at'; at: number };

export type ParsedSchedule = { ok: true; schedule: Schedule } | { ok: false; problem: string };

const FORMS = 'expected 5 or 6 fields, "every <n>s|m|h|d" or "at <ISO time>"';
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** null when `tz` is an IANA time zone this runtime knows. */
export function timeZoneProblem(tz: string): string | null {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return null;
  } catch {
    return `unknown time zone "${tz}": expected an IANA name such as UTC, Europe/Berlin or America/New_York`;
  }
}

function cronFor(expression: string, tz: string): Cron {
  // paused and without a callback: croner only computes, it never schedules anything.
  return new Cron(expression, { timezone: tz, mode: '5-or-6-parts', domAndDow: false, paused: true });
}

/** Parses `text` for a job in time zone `tz` (which must already be valid). */
export function parseSchedule(text: string, tz: string): ParsedSchedule {
  const trimmed = text.trim();
  const fail = (problem: string): ParsedSchedule => ({
    ok: false,
    problem: `invalid schedule ${JSON.stringify(trimmed)}: ${problem}`,
  });
  const keyword = /^(every|at)\s+(.*)$/is.exec(trimmed);
  if (keyword) {
    const [, word = '', rest = ''] = keyword;
    if (word.toLowerCase() === 'every') {
      const ms = parseInterval(rest);
      return ms === null
        ? fail(
            '"every" needs a whole number and a unit, at least 1s and at most 366d: every 30s, every 5m, every 2h, every 1d',
          )
        : { ok: true, schedule: { kind: 'every', ms } };
    }
    const at = parseIsoTime(rest.trim(), tz);
    return at === null
      ? fail('"at" needs an ISO time such as 2030-01-31T09:00 (read in the job\'s time zone) or 2030-01-31T09:00:00Z')
      : { ok: true, schedule: { kind: 'at', at } };
  }
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) return fail(FORMS);
  try {
    cronFor(fields.join(' '), tz);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return fail(message.replace(/^CronPattern:\s*/, '').replace(/^./, (c) => c.toLowerCase()));
  }
  return { ok: true, schedule: { kind: 'cron', expression: fields.join(' ') } };
}

/**
 * Epoch ms of an ISO date-time; without an offset the wall time is read in `tz`.
 * Impossible dates (February 30, hour 24) are null rather than rolled over.
 */
function parseIsoTime(text: string, tz: string): number | null {
  const match = ISO_TIME.exec(text);
  if (!match) return null;
  const [, y, mo, d, h, mi, s = '0', frac = '0', offset] = match;
  const parts = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  const [year, month, day, hour, minute, second] = parts;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) return null;
  const wall = `${y}-${mo}-${d}T${h}:${mi}:${s.padStart(2, '0')}`;
  if (offset) {
    const normalized = offset.toUpperCase() === 'Z' ? 'Z' : `${offset.slice(0, 3)}:${offset.slice(-2)}`;
    return Date.parse(`${wall}.${frac.padEnd(3, '0')}${normalized}`);
  }
  return new CronDate(wall, tz).getDate().getTime() + Number(frac.padEnd(3, '0'));
}

/**
 * The first run strictly after `afterMs`, or null when there is none (an `at` time
 * that has passed, a cron expression that matches no date). `every` runs on a grid
 * anchored at `anchorMs` (the job's creation), so a late firing does not shift it.
 */
export function nextRunAfter(schedule: Schedule, tz: string, afterMs: number, anchorMs: number): number | null {
  switch (schedule.kind) {
    case 'cron':
      return cronFor(schedule.expression, tz).nextRun(new Date(afterMs))?.getTime() ?? null;
    case 'every': {
      const steps = Math.max(1, Math.floor((afterMs - anchorMs) / schedule.ms) + 1);
      return anchorMs + steps * schedule.ms;
    }
    case 'at':
      return schedule.at > afterMs ? schedule.at : null;
  }
}
