// The agent's daily logs read back as entries for read_agent_history: headings split
// entries, text above the first one is kept, days come newest first, matches need
// every word, long entries are cut, and a symlink in memory/ is never followed.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseDailyLog, readDailyLogs } from '../../src/agent/memory/daily-log.js';
import { AGENT_HISTORY_ENTRY_CHARS } from '../../src/shared/wire/agent-history.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function workspace(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'legion-daily-log-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'memory'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'memory', name), text);
  return dir;
}

describe('parseDailyLog', () => {
  it('splits entries at "## HH:MM:SS kind" headings and keeps text above the first', () => {
    expect(
      parseDailyLog(
        '2026-03-14',
        'Notes for the day\n\n## 09:00:01 chat\n**user:** hi\n\n## 10:30:00 saved\nremember\n',
      ),
    ).toEqual([
      { date: '2026-03-14', time: null, kind: 'note', text: 'Notes for the day' },
      { date: '2026-03-14', time: '09:00:01', kind: 'chat', text: '**user:** hi' },
      { date: '2026-03-14', time: '10:30:00', kind: 'saved', text: 'remember' },
    ]);
  });
});

describe('readDailyLogs', () => {
  const files = {
    '2026-03-13.md': '\n## 08:00:00 saved\nold Acme note\n',
    '2026-03-14.md': '\n## 09:00:00 chat\nAcme called\n\n## 11:00:00 saved\nGlobex demo\n',
    'notes.md': '\n## 12:00:00 saved\nnot a daily log\n',
  };

  it('returns newest first across days, bounded by limit, saying when more match', async () => {
    const dir = workspace(files);
    const all = await readDailyLogs(dir, { limit: 10 });
    expect(all.entries.map((e) => e.text)).toEqual(['Globex demo', 'Acme called', 'old Acme note']);
    expect(all.more).toBe(false);
    const two = await readDailyLogs(dir, { limit: 2 });
    expect(two.entries.map((e) => e.text)).toEqual(['Globex demo', 'Acme called']);
    expect(two.more).toBe(true);
  });

  it('narrows to one day and to entries holding every word of the query, in any case', async () => {
    const dir = workspace(files);
    expect((await readDailyLogs(dir, { date: '2026-03-13', limit: 10 })).entries.map((e) => e.text)).toEqual([
      'old Acme note',
    ]);
    expect((await readDailyLogs(dir, { query: 'acme OLD', limit: 10 })).entries.map((e) => e.text)).toEqual([
      'old Acme note',
    ]);
    expect((await readDailyLogs(dir, { date: '2026-01-01', limit: 10 })).entries).toEqual([]);
  });

  it('cuts a long entry and skips a day file that is a symlink', async () => {
    const dir = workspace({ '2026-03-14.md': `\n## 09:00:00 chat\n${'x'.repeat(AGENT_HISTORY_ENTRY_CHARS + 50)}\n` });
    writeFileSync(join(dir, 'secret.txt'), '\n## 01:00:00 saved\noutside the log\n');
    symlinkSync(join(dir, 'secret.txt'), join(dir, 'memory', '2026-03-15.md'));
    const { entries } = await readDailyLogs(dir, { limit: 10 });
    expect(entries).toHaveLength(1);
    expect(entries[0]?.text).toBe(`${'x'.repeat(AGENT_HISTORY_ENTRY_CHARS)}… [cut]`);
  });
});
