// Budget days and months, and report ranges, in the mesh's time zone.
import { describe, expect, it } from 'vitest';
import { monthDays, periodKeys, reportRange } from '../../../../src/mesh/costs/periods.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('periodKeys', () => {
  it('uses the UTC calendar by default', () => {
    expect(periodKeys(at('2025-01-31T23:30:00Z'), 'UTC')).toEqual({ day: '2025-01-31', month: '2025-01' });
    expect(periodKeys(at('2025-02-01T00:00:00Z'), 'UTC')).toEqual({ day: '2025-02-01', month: '2025-02' });
  });

  it('follows the local calendar of a time zone', () => {
    expect(periodKeys(at('2025-01-31T23:30:00Z'), 'Europe/Berlin')).toEqual({ day: '2025-02-01', month: '2025-02' });
    expect(periodKeys(at('2025-03-01T05:00:00Z'), 'America/Los_Angeles')).toEqual({
      day: '2025-02-28',
      month: '2025-02',
    });
    expect(periodKeys(at('2025-06-03T18:29:59Z'), 'Asia/Kolkata').day).toBe('2025-06-03');
    expect(periodKeys(at('2025-06-03T18:30:00Z'), 'Asia/Kolkata').day).toBe('2025-06-04');
    expect(periodKeys(at('2024-12-31T11:00:00Z'), 'Pacific/Auckland')).toEqual({ day: '2025-01-01', month: '2025-01' });
  });
});

describe('reportRange', () => {
  it('today is the local day, 23 hours long on a spring-forward day', () => {
    const range = reportRange('today', at('2025-03-30T12:00:00Z'), 'Europe/Berlin');
    expect(iso(range.fromMs)).toBe('2025-03-29T23:00:00.000Z');
    expect(iso(range.toMs)).toBe('2025-03-30T22:00:00.000Z');
    expect([range.firstDay, range.lastDay]).toEqual(['2025-03-30', '2025-03-30']);
  });

  it('starts a day at local midnight on both sides of a DST change', () => {
    expect(iso(reportRange('today', at('2024-11-03T12:00:00Z'), 'America/New_York').fromMs)).toBe(
      '2024-11-03T04:00:00.000Z',
    );
    expect(iso(reportRange('today', at('2024-11-04T12:00:00Z'), 'America/New_York').fromMs)).toBe(
      '2024-11-04T05:00:00.000Z',
    );
    expect(iso(reportRange('today', at('2025-06-04T00:00:00Z'), 'Asia/Kolkata').fromMs)).toBe(
      '2025-06-03T18:30:00.000Z',
    );
  });

  it('week runs Monday to Sunday', () => {
    const wednesday = reportRange('week', at('2025-06-04T10:00:00Z'), 'UTC');
    expect([iso(wednesday.fromMs), iso(wednesday.toMs)]).toEqual([
      '2025-06-02T00:00:00.000Z',
      '2025-06-09T00:00:00.000Z',
    ]);
    expect([wednesday.firstDay, wednesday.lastDay]).toEqual(['2025-06-02', '2025-06-08']);
    const sunday = reportRange('week', at('2025-06-08T23:59:00Z'), 'UTC');
    expect(sunday.firstDay).toBe('2025-06-02');
    const monday = reportRange('week', at('2025-06-09T00:00:00Z'), 'UTC');
    expect(monday.firstDay).toBe('2025-06-09');
  });

  it('month is the calendar month, across a year end and a DST change', () => {
    const december = reportRange('month', at('2025-12-15T00:00:00Z'), 'UTC');
    expect([iso(december.fromMs), iso(december.toMs)]).toEqual([
      '2025-12-01T00:00:00.000Z',
      '2026-01-01T00:00:00.000Z',
    ]);
    const november = reportRange('month', at('2024-11-20T00:00:00Z'), 'America/New_York');
    expect([iso(november.fromMs), iso(november.toMs)]).toEqual([
      '2024-11-01T04:00:00.000Z',
      '2024-12-01T05:00:00.000Z',
    ]);
    expect([november.firstDay, november.lastDay]).toEqual(['2024-11-01', '2024-11-30']);
  });
});

describe('monthDays', () => {
  it('lists every local day of the month, back to back, the spring-forward day 23 hours long', () => {
    const days = monthDays('2025-03', 'Europe/Berlin');
    expect(days).toHaveLength(31);
    expect(days[0]?.day).toBe('2025-03-01');
    expect(days.at(-1)?.day).toBe('2025-03-31');
    for (let i = 1; i < days.length; i += 1) expect(days[i]?.fromMs).toBe(days[i - 1]?.toMs);
    const month = reportRange('month', at('2025-03-15T12:00:00Z'), 'Europe/Berlin');
    expect([days[0]?.fromMs, days.at(-1)?.toMs]).toEqual([month.fromMs, month.toMs]);
    const springForward = days.find((d) => d.day === '2025-03-30');
    expect(springForward && springForward.toMs - springForward.fromMs).toBe(23 * 3600_000);
  });

  it('knows short months and leap years', () => {
    expect(monthDays('2025-02', 'UTC')).toHaveLength(28);
    expect(monthDays('2024-02', 'UTC')).toHaveLength(29);
    expect(monthDays('2025-04', 'UTC').at(-1)?.day).toBe('2025-04-30');
  });
});
