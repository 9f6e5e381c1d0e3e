// The learnings files on disk: <workspace>/learnings/errors.md and corrections.md, and
// their .archive.md files. Invariants: one writer per file at a time (withFileLock);
// an entry is fsync'd before appendLearning resolves; rotation appends the old entries
// to the archive (fsync'd) before the main file is rewritten without them, so a crash
// in between can duplicate an entry but never lose one; a missing file reads as empty.
import path from 'node:path';
import {
  appendDurably,
  readTextIfExists,
  replaceDurably,
  separatorAfter,
  withFileLock,
} from '../workspace/durable-files.js';
import {
  entryBlock,
  formatCorrectionEntry,
  formatErrorEntry,
  learningFiles,
  parseEntries,
  planRotation,
  preface,
  selectForPrompt,
  type CorrectionInput,
  type LearningKind,
  type PromptSelection,
  type ToolErrorInput,
} from './entries.js';

export interface AppendResult {
  /** Relative to the workspace. */
  file: string;
  /** Entries in the file after the append (and any rotation). */
  entries: number;
}

export function recordToolError(workspaceDir: string, input: ToolErrorInput): Promise<AppendResult> {
  return appendLearning(workspaceDir, 'errors', formatErrorEntry(input));
}

export function recordCorrection(workspaceDir: string, input: CorrectionInput): Promise<AppendResult> {
  return appendLearning(workspaceDir, 'corrections', formatCorrectionEntry(input));
}

async function appendLearning(workspaceDir: string, kind: LearningKind, entry: string): Promise<AppendResult> {
  const names = learningFiles(kind);
  const file = path.join(workspaceDir, names.file);
  return withFileLock(file, async () => {
    const existing = await readTextIfExists(file);
    const addition =
      existing.trim() === ''
        ? `${preface(kind, false)}${entryBlock(entry)}`
        : `${separatorAfter(existing)}${entryBlock(entry)}`;
    await appendDurably(file, addition);
    const parsed = parseEntries(`${existing}${addition}`);
    const plan = planRotation(parsed.entries);
    if (plan.action === 'keep') return { file: names.file, entries: parsed.entries.length };

    const archive = path.join(workspaceDir, names.archive);
    const archived = plan.archived.map(entryBlock).join('');
    const archiveText = await readTextIfExists(archive);
    await appendDurably(
      archive,
      archiveText.trim() === '' ? `${preface(kind, true)}${archived}` : `${separatorAfter(archiveText)}${archived}`,
    );
    const head = parsed.preface.trim() ? `${parsed.preface.trimEnd()}\n\n` : preface(kind, false);
    await replaceDurably(file, `${head}${plan.kept.map(entryBlock).join('')}`);
    return { file: names.file, entries: plan.kept.length };
  });
}

export interface PromptLearnings {
  corrections: PromptSelection;
  errors: PromptSelection;
}

/** What the system prompt of a new session shows: each file's newest entries, capped. */
export async function readLearningsForPrompt(workspaceDir: string): Promise<PromptLearnings> {
  const read = async (kind: LearningKind): Promise<PromptSelection> => {
    const text = await readTextIfExists(path.join(workspaceDir, learningFiles(kind).file));
    return selectForPrompt(parseEntries(text).entries);
  };
  const [corrections, errors] = await Promise.all([read('corrections'), read('errors')]);
  return { corrections, errors };
}
