// Calendar periods of budgets and reports in the mesh's time zone (mesh.yaml
// `timezone`, UTC by default). Invariants: pure functions of an instant and a zone;
// day keys are `YYYY-MM-DD` and month keys `YYYY-MM` of the local calendar, so they
// sort and compare as text; a report range is [from, to) in epoch milliseconds and
// covers whole local days, DST shifts included.

export type ReportPeriod = 'today' | 'week' | 'month';

export interface PeriodKeys {
  day: string;
  month: string;
}

interface LocalDate {
  year: number;
  month: number;
  day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

/** The local wall-clock time at `atMs`, as if it were UTC (epoch ms, whole seconds). */
function wallClock(atMs: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(atMs)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return Date.UTC(
    parts.year ?? 1970,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
}

function localDate(atMs: number, timeZone: string): LocalDate {
  const wall = new Date(timeZone === 'UTC' ? atMs : wallClock(atMs, timeZone));
  return { year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate() };
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

const MINUTE_MS = 60_000;

/** The last answer per zone. Local days and months start on whole minutes (every zone's
 *  offset is whole minutes today), so an answer holds for the rest of its minute; this
 *  spares the budget check a formatToParts call (about 10 µs) on nearly every call. */
const lastKeys = new Map<string, { minute: number; keys: PeriodKeys }>();

export function periodKeys(atMs: number, timeZone: string): PeriodKeys {
  const minute = Math.floor(atMs / MINUTE_MS);
  const cached = lastKeys.get(timeZone);
  if (cached?.minute === minute) return cached.keys;
  const { year, month, day } = localDate(atMs, timeZone);
  const monthKey = `${pad(year, 4)}-${pad(month)}`;
  const keys = { day: `${monthKey}-${pad(day)}`, month: monthKey };
  lastKeys.set(timeZone, { minute, keys });
  return keys;
}

/** The instant local midnight starts `date` (day may overflow: Date.UTC normalizes it). */
function startOfLocalDay(date: LocalDate, timeZone: string): number {
  const asUtc = Date.UTC(date.year, date.month - 1, date.day);
  if (timeZone === 'UTC') return asUtc;
  const offset = wallClock(asUtc, timeZone) - asUtc;
  const guess = asUtc - offset;
  // Across a DST change the offset at local midnight differs from the one at UTC midnight.
  const corrected = wallClock(guess, timeZone) - guess;
  return corrected === offset ? guess : asUtc - corrected;
}

export interface ReportRange {
  fromMs: number;
  toMs: number;
  /** The first and last local days of the range, `YYYY-MM-DD`. */
  firstDay: string;
  lastDay: string;
}

/** today: the local day; week: Monday to Sunday; month: the calendar month. */
export function reportRange(period: ReportPeriod, nowMs: number, timeZone: string): ReportRange {
  const today = localDate(nowMs, timeZone);
  let first: LocalDate;
  let next: LocalDate;
  if (period === 'today') {
    first = today;
    next = { ...today, day: today.day + 1 };
  } else if (period === 'week') {
    const sinceMonday = (new Date(Date.UTC(today.year, today.month - 1, today.day)).getUTCDay() + 6) % 7;
    first = { ...today, day: today.day - sinceMonday };
    next = { ...first, day: first.day + 7 };
  } else {
    first = { ...today, day: 1 };
    next = { year: today.year, month: today.month + 1, day: 1 };
  }
  const fromMs = startOfLocalDay(first, timeZone);
  const toMs = startOfLocalDay(next, timeZone);
  return { fromMs, toMs, firstDay: periodKeys(fromMs, timeZone).day, lastDay: periodKeys(toMs - 1, timeZone).day };
}

export interface LocalDayRange {
  day: string;
  fromMs: number;
  toMs: number;
}

/** Each local day of `month` (`YYYY-MM`) as [fromMs, toMs), in order. */
export function monthDays(month: string, timeZone: string): LocalDayRange[] {
  const [year = 1970, number = 1] = month.split('-').map(Number);
  const count = new Date(Date.UTC(year, number, 0)).getUTCDate();
  const days: LocalDayRange[] = [];
  for (let day = 1; day <= count; day += 1) {
    const date = { year, month: number, day };
    days.push({
      day: `${month}-${pad(day)}`,
      fromMs: startOfLocalDay(date, timeZone),
      toMs: startOfLocalDay({ ...date, day: day + 1 }, timeZone),
    });
  }
  return days;
}
