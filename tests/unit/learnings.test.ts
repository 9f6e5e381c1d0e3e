// Learnings: entry formatting and caps, parsing back, newest-first prompt selection
// within its caps, rotation to the archive (pure plan and on disk), and concurrent
// writers of one file.
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ERROR_ARGUMENTS_CAP_CHARS,
  ERROR_MESSAGE_CAP_CHARS,
  KEEP_AFTER_ROTATION,
  PROMPT_MAX_CHARS,
  PROMPT_MAX_ENTRIES,
  ROTATE_AT_ENTRIES,
  formatCorrectionEntry,
  formatErrorEntry,
  parseEntries,
  planRotation,
  selectForPrompt,
} from '../../src/agent/learnings/entries.js';
import { readLearningsForPrompt, recordCorrection, recordToolError } from '../../src/agent/learnings/store.js';
import { noteCorrectionTool } from '../../src/agent/learnings/tool.js';
import { runToolCall } from '../../src/agent/tools/registry.js';

const time = new Date('2031-05-01T09:07:00.000Z');

describe('formatting', () => {
  it('writes a failed call with time, tool, arguments and error, bodies indented', () => {
    const entry = formatErrorEntry({
      time,
      tool: 'read_file',
      arguments: '{"path":"missing.txt"}',
      error: 'no such file: missing.txt\n## not a heading',
    });
    expect(entry).toBe(
      '## 2031-05-01T09:07:00.000Z · read_file failed\nArguments:\n    {"path":"missing.txt"}\nError:\n    no such file: missing.txt\n    ## not a heading',
    );
    expect(parseEntries(`# Tool errors\n\n${entry}\n\n`).entries).toEqual([entry]);
  });

  it('caps arguments and error with a visible marker', () => {
    const entry = formatErrorEntry({
      time,
      tool: 'exec',
      arguments: 'a'.repeat(ERROR_ARGUMENTS_CAP_CHARS + 10),
      error: 'e'.repeat(ERROR_MESSAGE_CAP_CHARS + 3),
    });
    expect(entry).toContain(`${'a'.repeat(ERROR_ARGUMENTS_CAP_CHARS)}… [10 more characters not kept]`);
    expect(entry).toContain(`${'e'.repeat(ERROR_MESSAGE_CAP_CHARS)}… [3 more characters not kept]`);
    expect(entry.length).toBeLessThan(ERROR_ARGUMENTS_CAP_CHARS + ERROR_MESSAGE_CAP_CHARS + 200);
  });

  it('quotes a correction and says who made it', () => {
    expect(formatCorrectionEntry({ time, text: 'Use metric units.\n\n# Always.', source: 'user' })).toBe(
      '## 2031-05-01T09:07:00.000Z · from the user (/correct)\n> Use metric units.\n>\n> # Always.',
    );
    expect(formatCorrectionEntry({ time, text: 'Tea, not coffee.', source: 'agent' })).toMatch(
      /· noted by the agent \(note_correction\)\n> Tea, not coffee\.$/,
    );
  });
});

describe('selectForPrompt', () => {
  const entries = Array.from({ length: 30 }, (_, i) => `## entry ${i}`);

  it('shows the newest first, at most PROMPT_MAX_ENTRIES', () => {
    const selection = selectForPrompt(entries);
    expect(selection.shown).toHaveLength(PROMPT_MAX_ENTRIES);
    expect(selection.shown[0]).toBe('## entry 29');
    expect(selection.shown.at(-1)).toBe(`## entry ${30 - PROMPT_MAX_ENTRIES}`);
    expect(selection.hidden).toBe(30 - PROMPT_MAX_ENTRIES);
  });

  it('stops at the character cap with an unbroken run of the newest', () => {
    const big = ['## old small', `## big ${'x'.repeat(PROMPT_MAX_CHARS - 20)}`, '## new small'];
    expect(selectForPrompt(big)).toEqual({ shown: ['## new small', big[1]], hidden: 1 });
    expect(selectForPrompt([`## huge ${'x'.repeat(PROMPT_MAX_CHARS)}`, '## newest'])).toEqual({
      shown: ['## newest'],
      hidden: 1,
    });
  });
});

describe('planRotation', () => {
  it('keeps a file up to ROTATE_AT_ENTRIES, then archives all but the newest KEEP_AFTER_ROTATION', () => {
    const entries = (n: number) => Array.from({ length: n }, (_, i) => `## ${i}`);
    expect(planRotation(entries(ROTATE_AT_ENTRIES))).toEqual({ action: 'keep' });
    const plan = planRotation(entries(ROTATE_AT_ENTRIES + 1));
    expect(plan.action).toBe('rotate');
    if (plan.action !== 'rotate') return;
    expect(plan.kept).toHaveLength(KEEP_AFTER_ROTATION);
    expect(plan.kept.at(-1)).toBe(`## ${ROTATE_AT_ENTRIES}`);
    expect(plan.archived).toEqual(entries(ROTATE_AT_ENTRIES + 1 - KEEP_AFTER_ROTATION));
  });
});

describe('on disk', () => {
  let workspace: string;
  beforeEach(async () => {
    workspace = await mkdtemp(path.join(tmpdir(), 'legion-learnings-'));
  });
  afterEach(() => rm(workspace, { recursive: true, force: true }));

  it('appends entries oldest first under a preface and reads them back newest first', async () => {
    await recordToolError(workspace, { time, tool: 'exec', arguments: '{"command":"false"}', error: 'exit code 1' });
    await recordToolError(workspace, {
      time: new Date(time.getTime() + 1000),
      tool: 'read_file',
      arguments: '{}',
      error: 'path: required',
    });
    const text = await readFile(path.join(workspace, 'learnings', 'errors.md'), 'utf8');
    expect(text.startsWith('# Tool errors\n\n')).toBe(true);
    expect(text.indexOf('exec failed')).toBeLessThan(text.indexOf('read_file failed'));
    const learnings = await readLearningsForPrompt(workspace);
    expect(learnings.errors.shown.map((e) => e.split('\n')[0])).toEqual([
      '## 2031-05-01T09:07:01.000Z · read_file failed',
      '## 2031-05-01T09:07:00.000Z · exec failed',
    ]);
    expect(learnings.corrections).toEqual({ shown: [], hidden: 0 });
  });

  it('keeps a hand-edited file intact and separates the next entry from it', async () => {
    await mkdir(path.join(workspace, 'learnings'));
    await writeFile(
      path.join(workspace, 'learnings', 'corrections.md'),
      '# My corrections\n\n## earlier · by hand\n> keep me',
    );
    const result = await recordCorrection(workspace, { time, text: 'Be brief.', source: 'user' });
    expect(result).toEqual({ file: 'learnings/corrections.md', entries: 2 });
    const text = await readFile(path.join(workspace, 'learnings', 'corrections.md'), 'utf8');
    expect(text).toBe(
      '# My corrections\n\n## earlier · by hand\n> keep me\n\n## 2031-05-01T09:07:00.000Z · from the user (/correct)\n> Be brief.\n\n',
    );
  });

  it('rotates the oldest entries to the archive and keeps the newest', async () => {
    for (let i = 0; i <= ROTATE_AT_ENTRIES; i += 1) {
      await recordCorrection(workspace, {
        time: new Date(time.getTime() + i * 1000),
        text: `correction ${i}`,
        source: 'user',
      });
    }
    const main = parseEntries(await readFile(path.join(workspace, 'learnings', 'corrections.md'), 'utf8'));
    const archive = parseEntries(await readFile(path.join(workspace, 'learnings', 'corrections.archive.md'), 'utf8'));
    expect(main.preface.startsWith('# Corrections\n')).toBe(true);
    expect(archive.preface.startsWith('# Corrections (archive)\n')).toBe(true);
    expect(main.entries).toHaveLength(KEEP_AFTER_ROTATION);
    expect(archive.entries).toHaveLength(ROTATE_AT_ENTRIES + 1 - KEEP_AFTER_ROTATION);
    expect(archive.entries[0]).toContain('> correction 0');
    expect(main.entries.at(-1)).toContain(`> correction ${ROTATE_AT_ENTRIES}`);
    // Every entry is in exactly one of the two files.
    const all = [...archive.entries, ...main.entries].map((e) => /> correction (\d+)/.exec(e)?.[1]);
    expect(all).toEqual(Array.from({ length: ROTATE_AT_ENTRIES + 1 }, (_, i) => String(i)));
  });

  it('lets concurrent writers of one file all land, whole', async () => {
    await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        recordCorrection(workspace, { time, text: `parallel ${i}`, source: 'agent' }),
      ),
    );
    const entries = parseEntries(await readFile(path.join(workspace, 'learnings', 'corrections.md'), 'utf8')).entries;
    expect(entries).toHaveLength(25);
    expect(new Set(entries.map((e) => /parallel (\d+)/.exec(e)?.[1])).size).toBe(25);
  });

  it('records a correction through the note_correction tool', async () => {
    const ctx = { dataDir: workspace, workspaceDir: workspace, signal: new AbortController().signal, trace: null };
    const done = await runToolCall(
      [noteCorrectionTool],
      { id: 'c1', name: 'note_correction', arguments: '{"text":"  The user prefers tea.  "}' },
      ctx,
    );
    expect(done).toEqual({
      ok: true,
      output: 'noted in learnings/corrections.md (1 corrections on file); later sessions will see it',
    });
    const refused = await runToolCall(
      [noteCorrectionTool],
      { id: 'c2', name: 'note_correction', arguments: '{"text":"   "}' },
      ctx,
    );
    expect(refused.ok).toBe(false);
    const learnings = await readLearningsForPrompt(workspace);
    expect(learnings.corrections.shown).toHaveLength(1);
    expect(learnings.corrections.shown[0]).toMatch(/noted by the agent \(note_correction\)\n> The user prefers tea\.$/);
  });
});
