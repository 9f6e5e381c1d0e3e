// Reads the agent's own daily logs (memory/YYYY-MM-DD.md, written by WorkspaceMemory) as
// entries, for another agent's read_agent_history. Invariants: it only reads; a file that
// is not a regular file (a symlink the model made) is skipped, so an answer never leaves
// the workspace; entries come newest first (days by name, entries in a day by position,
// since they are appended); an entry's text is cut at AGENT_HISTORY_ENTRY_CHARS.
import { lstat, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import {
  AGENT_HISTORY_ENTRY_CHARS,
  type DailyLogEntry,
  type HistoryEntries,
  type HistoryLookup,
} from '../../shared/wire/agent-history.js';

const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.md$/;
// As WorkspaceMemory writes them: "## 14:03:11 chat", "## 14:05:40 saved".
const ENTRY_HEADING = /^## (\d{2}:\d{2}:\d{2})[ \t]+(\S.*)$/;

/** A day's entries in file order; text above the first heading is one entry without a time. */
export function parseDailyLog(date: string, content: string): DailyLogEntry[] {
  const entries: DailyLogEntry[] = [];
  let current: { time: string | null; kind: string; lines: string[] } = { time: null, kind: 'note', lines: [] };
  const flush = () => {
    const text = current.lines.join('\n').trim();
    if (current.time !== null || text !== '') entries.push({ date, time: current.time, kind: current.kind, text });
  };
  for (const line of content.split('\n')) {
    const heading = ENTRY_HEADING.exec(line);
    if (!heading) {
      current.lines.push(line);
      continue;
    }
    flush();
    current = { time: heading[1] ?? null, kind: (heading[2] ?? '').trim(), lines: [] };
  }
  flush();
  return entries;
}

function matcher(query: string | undefined): (entry: DailyLogEntry) => boolean {
  if (query === undefined) return () => true;
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  return (entry) => {
    const haystack = `${entry.kind}\n${entry.text}`.toLowerCase();
    return terms.every((term) => haystack.includes(term));
  };
}

function cut(entry: DailyLogEntry): DailyLogEntry {
  if (entry.text.length <= AGENT_HISTORY_ENTRY_CHARS) return entry;
  return { ...entry, text: `${entry.text.slice(0, AGENT_HISTORY_ENTRY_CHARS)}… [cut]` };
}

/** Days that have a log, newest first. */
async function logDays(memoryDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(memoryDir);
  } catch {
    return [];
  }
  return names
    .flatMap((name) => {
      const day = DAY_FILE.exec(name)?.[1];
      return day ? [day] : [];
    })
    .sort()
    .reverse();
}

async function readDay(memoryDir: string, day: string): Promise<string | null> {
  const file = path.join(memoryDir, `${day}.md`);
  try {
    if (!(await lstat(file)).isFile()) return null;
    return await readFile(file, 'utf8');
  } catch {
    // No log that day, or removed since listing: no entries.
    return null;
  }
}

export async function readDailyLogs(workspaceDir: string, lookup: HistoryLookup): Promise<HistoryEntries> {
  const memoryDir = path.join(workspaceDir, 'memory');
  const days = lookup.date === undefined ? await logDays(memoryDir) : [lookup.date];
  const matches = matcher(lookup.query);
  const found: DailyLogEntry[] = [];
  for (const day of days) {
    const content = await readDay(memoryDir, day);
    if (content === null) continue;
    for (const entry of parseDailyLog(day, content).reverse()) {
      if (!matches(entry)) continue;
      if (found.length === lookup.limit) return { entries: found, more: true };
      found.push(cut(entry));
    }
  }
  return { entries: found, more: false };
}
