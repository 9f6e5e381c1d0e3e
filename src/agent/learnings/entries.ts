// The learnings files as text: how an entry is written, how a file splits back into
// entries, which entries the system prompt shows and when old ones rotate out. All
// pure. Invariants: an entry starts with one `## ` heading line and no other line of
// it starts with `#` (bodies are indented or quoted), so parseEntries(preface +
// entries) gives the same entries back; every field a model or tool produced is capped
// with a visible marker; files hold entries oldest first, the prompt shows newest first.

export type LearningKind = 'errors' | 'corrections';

export const LEARNINGS_DIR = 'learnings';

/** Caps on what one error entry keeps of a failed call. */
export const ERROR_ARGUMENTS_CAP_CHARS = 500;
export const ERROR_MESSAGE_CAP_CHARS = 1_000;
export const CORRECTION_CAP_CHARS = 2_000;

/** What the system prompt shows of each file. */
export const PROMPT_MAX_ENTRIES = 20;
export const PROMPT_MAX_CHARS = 4_000;

/** A file with more entries than ROTATE_AT keeps its newest KEEP_AFTER_ROTATION; the
 *  rest move to the archive. The gap means a file is rewritten once per 50 entries,
 *  not at every append. */
export const ROTATE_AT_ENTRIES = 200;
export const KEEP_AFTER_ROTATION = 150;

export interface FileNames {
  file: string;
  archive: string;
}

export function learningFiles(kind: LearningKind): FileNames {
  return { file: `${LEARNINGS_DIR}/${kind}.md`, archive: `${LEARNINGS_DIR}/${kind}.archive.md` };
}

const PREFACES: Record<LearningKind, string> = {
  errors:
    '# Tool errors\n\nFailed tool calls, oldest first, written by the agent. The newest are shown in the system prompt of later sessions; older entries move to errors.archive.md.\n\n',
  corrections:
    '# Corrections\n\nCorrections from the user (`/correct`) or noted by the agent (`note_correction`), oldest first. The newest are shown in the system prompt of later sessions; older entries move to corrections.archive.md.\n\n',
};

export function preface(kind: LearningKind, archive: boolean): string {
  if (!archive) return PREFACES[kind];
  return PREFACES[kind].replace(/^# (.+)\n/, '# $1 (archive)\n');
}

export interface ToolErrorInput {
  time: Date;
  tool: string;
  /** JSON text of the arguments, as the model sent them. */
  arguments: string;
  error: string;
}

export function formatErrorEntry(input: ToolErrorInput): string {
  return [
    `## ${input.time.toISOString()} · ${singleLine(input.tool, 64)} failed`,
    'Arguments:',
    indent(capText(input.arguments.trim() || '{}', ERROR_ARGUMENTS_CAP_CHARS)),
    'Error:',
    indent(capText(input.error.trim() || '(no message)', ERROR_MESSAGE_CAP_CHARS)),
  ].join('\n');
}

export type CorrectionSource = 'user' | 'agent';

export interface CorrectionInput {
  time: Date;
  text: string;
  source: CorrectionSource;
}

export function formatCorrectionEntry(input: CorrectionInput): string {
  const from = input.source === 'user' ? 'from the user (/correct)' : 'noted by the agent (note_correction)';
  const body = capText(input.text.trim(), CORRECTION_CAP_CHARS)
    .split('\n')
    .map((line) => (line.trim() === '' ? '>' : `> ${line}`));
  return [`## ${input.time.toISOString()} · ${from}`, ...body].join('\n');
}

export interface ParsedLearnings {
  preface: string;
  /** Oldest first, each without surrounding blank lines. */
  entries: string[];
}

export function parseEntries(text: string): ParsedLearnings {
  const lines = text.split('\n');
  const firstHeading = lines.findIndex((line) => line.startsWith('## '));
  if (firstHeading === -1) return { preface: text, entries: [] };
  const entries: string[][] = [];
  for (const line of lines.slice(firstHeading)) {
    if (line.startsWith('## ')) entries.push([line]);
    else entries.at(-1)?.push(line);
  }
  return {
    preface: lines.slice(0, firstHeading).join('\n'),
    entries: entries.map((entry) => entry.join('\n').trim()),
  };
}

/** The text an entry is appended as: separated from the previous one by a blank line. */
export function entryBlock(entry: string): string {
  return `${entry}\n\n`;
}

export type RotationPlan = { action: 'keep' } | { action: 'rotate'; archived: string[]; kept: string[] };

export function planRotation(
  entries: readonly string[],
  rotateAt = ROTATE_AT_ENTRIES,
  keep = KEEP_AFTER_ROTATION,
): RotationPlan {
  if (entries.length <= rotateAt) return { action: 'keep' };
  const split = entries.length - keep;
  return { action: 'rotate', archived: entries.slice(0, split), kept: entries.slice(split) };
}

export interface PromptSelection {
  /** Newest first. */
  shown: string[];
  /** Entries left out by the caps. */
  hidden: number;
}

/** The newest entries that fit both caps, newest first. An entry that does not fit ends
 *  the selection, so what is shown is always an unbroken run of the newest. */
export function selectForPrompt(
  entries: readonly string[],
  maxEntries = PROMPT_MAX_ENTRIES,
  maxChars = PROMPT_MAX_CHARS,
): PromptSelection {
  const shown: string[] = [];
  let chars = 0;
  for (const entry of [...entries].reverse()) {
    if (shown.length >= maxEntries || chars + entry.length > maxChars) break;
    shown.push(entry);
    chars += entry.length;
  }
  return { shown, hidden: entries.length - shown.length };
}

function capText(text: string, cap: number): string {
  if (text.length <= cap) return text;
  return `${text.slice(0, cap)}… [${text.length - cap} more characters not kept]`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

function singleLine(text: string, cap: number): string {
  return capText(text.replace(/\s+/g, ' ').trim(), cap);
}
