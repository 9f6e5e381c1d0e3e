// Cron schedule semantics as the mesh computes them: 5 and 6 fields, named days and
// months, the standard day-of-month OR day-of-week rule, time zones across DST, the
// `every` grid, one-shot `at` times, and the messages a bad schedule gets.
import { describe, expect, it } from 'vitest';
import { nextRunAfter, parseSchedule, timeZoneProblem, type Schedule } from '../../src/mesh/triggers/cron/schedule.js';

function schedule(text: string, tz = 'UTC'): Schedule {
  const parsed = parseSchedule(text, tz);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.schedule;
}

/** The next `n` runs after `from`, as ISO text. */
function runs(text: string, from: string, n: number, tz = 'UTC'): string[] {
  const parsed = schedule(text, tz);
  const out: string[] = [];
  let after = Date.parse(from);
  for (let i = 0; i < n; i += 1) {
    const next = nextRunAfter(parsed, tz, after, 0);
    if (next === null) break;
    out.push(new Date(next).toISOString());
    after = next;
  }
  return out;
}

function problem(text: string, tz = 'UTC'): string {
  const parsed = parseSchedule(text, tz);
  if (parsed.ok) throw new Error(`expected ${text} to be refused`);
  return parsed.problem;
}

describe('cron expressions', () => {
  it('reads 5 fields at minute precision and 6 fields with seconds first', () => {
    expect(runs('*/20 * * * *', '2024-05-01T10:05:00Z', 3)).toEqual([
      '2024-05-01T10:20:00.000Z',
      '2024-05-01T10:40:00.000Z',
      '2024-05-01T11:00:00.000Z',
    ]);
    expect(runs('*/15 * * * * *', '2024-05-01T10:00:07Z', 3)).toEqual([
      '2024-05-01T10:00:15.000Z',
      '2024-05-01T10:00:30.000Z',
      '2024-05-01T10:00:45.000Z',
    ]);
  });

  it('is strictly after the time given, so a firing never repeats its own instant', () => {
    expect(runs('0 * * * *', '2024-05-01T10:00:00Z', 1)).toEqual(['2024-05-01T11:00:00.000Z']);
  });

  it('accepts named days and months', () => {
    expect(runs('30 9 * JAN,JUL MON-WED', '2024-06-30T00:00:00Z', 4)).toEqual([
      '2024-07-01T09:30:00.000Z',
      '2024-07-02T09:30:00.000Z',
      '2024-07-03T09:30:00.000Z',
      '2024-07-08T09:30:00.000Z',
    ]);
  });

  it('fires on either day when both day-of-month and day-of-week are restricted (standard cron)', () => {
    // October 2024: Fridays are the 4th, 11th, 18th and 25th; the 13th is a Sunday.
    expect(runs('0 0 13 * FRI', '2024-10-01T00:00:00Z', 5)).toEqual([
      '2024-10-04T00:00:00.000Z',
      '2024-10-11T00:00:00.000Z',
      '2024-10-13T00:00:00.000Z',
      '2024-10-18T00:00:00.000Z',
      '2024-10-25T00:00:00.000Z',
    ]);
  });

  it('uses only the restricted day field when the other is *', () => {
    expect(runs('0 0 13 * *', '2024-10-01T00:00:00Z', 2)).toEqual([
      '2024-10-13T00:00:00.000Z',
      '2024-11-13T00:00:00.000Z',
    ]);
    expect(runs('0 0 * * FRI', '2024-10-01T00:00:00Z', 2)).toEqual([
      '2024-10-04T00:00:00.000Z',
      '2024-10-11T00:00:00.000Z',
    ]);
  });
});

describe('time zones', () => {
  it("reads the expression in the job's zone, following its offset across DST", () => {
    // New York moves from UTC-5 to UTC-4 on 2024-03-10: 09:00 local stays 09:00 local.
    expect(runs('0 9 * * *', '2024-03-09T00:00:00Z', 3, 'America/New_York')).toEqual([
      '2024-03-09T14:00:00.000Z',
      '2024-03-10T13:00:00.000Z',
      '2024-03-11T13:00:00.000Z',
    ]);
  });

  it('runs a job whose local time is skipped by spring-forward once, right after the gap', () => {
    // Berlin skips 02:00-03:00 on 2024-03-31; 02:30 that day runs at 03:00 CEST (01:00Z).
    expect(runs('30 2 * * *', '2024-03-30T00:00:00Z', 3, 'Europe/Berlin')).toEqual([
      '2024-03-30T01:30:00.000Z',
      '2024-03-31T01:00:00.000Z',
      '2024-04-01T00:30:00.000Z',
    ]);
  });

  it('runs a job whose local time repeats at fall-back only once', () => {
    // Berlin has 02:30 twice on 2024-10-27 (00:30Z in CEST, 01:30Z in CET).
    expect(runs('30 2 * * *', '2024-10-26T00:00:00Z', 3, 'Europe/Berlin')).toEqual([
      '2024-10-26T00:30:00.000Z',
      '2024-10-27T00:30:00.000Z',
      '2024-10-28T01:30:00.000Z',
    ]);
  });

  it('knows IANA zones and names an unknown one', () => {
    expect(timeZoneProblem('Europe/Berlin')).toBeNull();
    expect(timeZoneProblem('UTC')).toBeNull();
    expect(timeZoneProblem('Mars/Olympus_Mons')).toBe(
      'unknown time zone "Mars/Olympus_Mons": expected an IANA name such as UTC, Europe/Berlin or America/New_York',
    );
  });
});

describe('every', () => {
  it("runs on a grid anchored at the job's creation, whatever time it is asked at", () => {
    const every = schedule('every 30s');
    expect(every).toEqual({ kind: 'every', ms: 30_000 });
    expect(nextRunAfter(every, 'UTC', 1_000, 1_000)).toBe(31_000);
    expect(nextRunAfter(every, 'UTC', 31_000, 1_000)).toBe(61_000);
    // Asked late (after downtime): the next slot of the same grid, not now + 30 s.
    expect(nextRunAfter(every, 'UTC', 100_000, 1_000)).toBe(121_000);
  });

  it('reads s, m, h and d', () => {
    expect(schedule('every 5m')).toEqual({ kind: 'every', ms: 300_000 });
    expect(schedule('every 2h')).toEqual({ kind: 'every', ms: 7_200_000 });
    expect(schedule('every 1d')).toEqual({ kind: 'every', ms: 86_400_000 });
  });

  it('refuses intervals without a unit, zero or fractions', () => {
    for (const text of ['every 30', 'every 0s', 'every 1.5h', 'every soon'])
      expect(problem(text)).toMatch(/"every" needs a whole number and a unit/);
  });
});

describe('at', () => {
  it('runs once at an ISO time with an offset, and never after it', () => {
    const at = schedule('at 2030-01-31T09:00:00+01:00');
    expect(at).toEqual({ kind: 'at', at: Date.parse('2030-01-31T08:00:00Z') });
    expect(nextRunAfter(at, 'UTC', Date.parse('2030-01-01T00:00:00Z'), 0)).toBe(Date.parse('2030-01-31T08:00:00Z'));
    expect(nextRunAfter(at, 'UTC', Date.parse('2030-01-31T08:00:00Z'), 0)).toBeNull();
  });

  it("reads a time without an offset in the job's zone", () => {
    expect(schedule('at 2030-07-01T09:00', 'Europe/Berlin')).toEqual({
      kind: 'at',
      at: Date.parse('2030-07-01T07:00:00Z'),
    });
    expect(schedule('at 2030-07-01T09:00Z', 'Europe/Berlin')).toEqual({
      kind: 'at',
      at: Date.parse('2030-07-01T09:00:00Z'),
    });
  });

  it('refuses dates that do not exist instead of rolling them over', () => {
    expect(problem('at 2030-02-30T09:00Z')).toMatch(/"at" needs an ISO time/);
    expect(problem('at tomorrow')).toMatch(/"at" needs an ISO time/);
  });
});

describe('refused schedules', () => {
  it('names the forms when the field count is wrong', () => {
    expect(problem('* * *')).toBe(
      'invalid schedule "* * *": expected 5 or 6 fields, "every <n>s|m|h|d" or "at <ISO time>"',
    );
    expect(problem('0 0 1 1 * * 2030')).toBe(
      'invalid schedule "0 0 1 1 * * 2030": expected 5 or 6 fields, "every <n>s|m|h|d" or "at <ISO time>"',
    );
    expect(problem('@daily')).toMatch(/expected 5 or 6 fields/);
  });

  it('passes on what croner found wrong in a field', () => {
    expect(problem('61 * * * *')).toBe('invalid schedule "61 * * * *": invalid value for minute: 61');
    expect(problem('* * * FOO *')).toMatch(/^invalid schedule "\* \* \* FOO \*": /);
  });
});
