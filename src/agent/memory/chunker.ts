// Splits one markdown file into search chunks. Invariants: chunkMarkdown is pure (same
// input, same chunks); a chunk never spans two heading sections; line numbers are
// 1-based and inclusive, and chunk text is exactly those lines (a line longer than a
// whole chunk is the one exception: it is cut at word boundaries and its pieces share
// its line number); a fenced code block is cut only when it alone is larger than a
// chunk; consecutive chunks of a section overlap by whole lines outside code fences.
// Sizes are estimated as characters / 4 tokens, which is close enough for English
// markdown and keeps this free of a tokenizer.

export interface MemoryChunk {
  path: string;
  startLine: number;
  endLine: number;
  /** Headings above the chunk, outermost first, e.g. "# Notes > ## Cats"; '' before the first heading. */
  heading: string;
  text: string;
}

export interface ChunkOptions {
  targetTokens?: number;
  /** Share of a chunk repeated at the start of the next one in the same section. */
  overlapRatio?: number;
}

export const CHARS_PER_TOKEN = 4;
const DEFAULT_TARGET_TOKENS = 400;
const DEFAULT_OVERLAP_RATIO = 0.15;
// Cutting at a paragraph break is preferred only when it keeps at least this share of
// a full chunk; otherwise chunks would shrink to a sentence whenever paragraphs are long.
const MIN_FILL_FOR_PARAGRAPH_CUT = 0.5;

interface Section {
  heading: string;
  lines: string[];
  firstLine: number;
}

/** The smallest unit the packer moves: a line, a whole code fence, or a piece of an overlong line. */
interface Atom {
  startLine: number;
  endLine: number;
  text: string;
  blank: boolean;
  fenced: boolean;
  /** A later piece of the same overlong line: joined with a space, not a newline. */
  continuesLine: boolean;
}

export function chunkMarkdown(path: string, content: string, options: ChunkOptions = {}): MemoryChunk[] {
  const maxChars = Math.max(1, Math.round((options.targetTokens ?? DEFAULT_TARGET_TOKENS) * CHARS_PER_TOKEN));
  const overlapChars = Math.floor(maxChars * Math.min(0.5, Math.max(0, options.overlapRatio ?? DEFAULT_OVERLAP_RATIO)));
  const chunks: MemoryChunk[] = [];
  for (const section of splitSections(content)) {
    for (const atoms of packAtoms(atomize(section, maxChars, overlapChars), maxChars, overlapChars)) {
      const first = atoms[0];
      const last = atoms[atoms.length - 1];
      if (!first || !last) continue;
      chunks.push({
        path,
        startLine: first.startLine,
        endLine: last.endLine,
        heading: section.heading,
        text: joinAtoms(atoms),
      });
    }
  }
  return chunks;
}

const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})(.*)$/;

interface Fence {
  char: string;
  length: number;
}

function openingFence(line: string): Fence | null {
  const match = FENCE_OPEN.exec(line);
  const marker = match?.[1];
  if (!marker) return null;
  // CommonMark: a backtick fence's info string may not contain a backtick.
  if (marker.startsWith('`') && (match[2] ?? '').includes('`')) return null;
  return { char: marker[0] ?? '`', length: marker.length };
}

function closesFence(line: string, fence: Fence): boolean {
  const trimmed = line.replace(/^ {0,3}/, '').trimEnd();
  return trimmed.length >= fence.length && [...trimmed].every((c) => c === fence.char);
}

/** Cuts the file at headings outside code fences; a section without body text is dropped (its heading lives on in its children's trail). */
function splitSections(content: string): Section[] {
  const lines = content.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  const sections: Section[] = [];
  const trail: { level: number; label: string }[] = [];
  let current: Section = { heading: '', lines: [], firstLine: 1 };
  let fence: Fence | null = null;
  lines.forEach((line, index) => {
    if (fence) {
      if (closesFence(line, fence)) fence = null;
    } else {
      fence = openingFence(line);
      const heading = fence ? null : HEADING.exec(line);
      if (heading) {
        sections.push(current);
        const level = heading[1]?.length ?? 1;
        while ((trail[trail.length - 1]?.level ?? 0) >= level) trail.pop();
        trail.push({ level, label: `${'#'.repeat(level)} ${heading[2] ?? ''}`.trimEnd() });
        current = { heading: trail.map((h) => h.label).join(' > '), lines: [], firstLine: index + 1 };
      }
    }
    current.lines.push(line);
  });
  sections.push(current);
  return sections.filter((section) => {
    const body = section.heading === '' ? section.lines : section.lines.slice(1);
    return body.some((line) => line.trim() !== '');
  });
}

function atomize(section: Section, maxChars: number, overlapChars: number): Atom[] {
  const atoms: Atom[] = [];
  const { lines, firstLine } = section;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const fence = openingFence(line);
    if (fence) {
      let end = i + 1;
      while (end < lines.length && !closesFence(lines[end] ?? '', fence)) end++;
      end = Math.min(end, lines.length - 1); // an unclosed fence runs to the end, as in CommonMark
      const block = lines.slice(i, end + 1);
      const text = block.join('\n');
      if (text.length <= maxChars) {
        atoms.push({
          startLine: firstLine + i,
          endLine: firstLine + end,
          text,
          blank: false,
          fenced: true,
          continuesLine: false,
        });
      } else {
        // Too big for any chunk: it has to be cut, so cut it at its lines.
        block.forEach((blockLine, offset) =>
          atoms.push(...lineAtoms(blockLine, firstLine + i + offset, true, maxChars, overlapChars)),
        );
      }
      i = end;
      continue;
    }
    atoms.push(...lineAtoms(line, firstLine + i, false, maxChars, overlapChars));
  }
  return atoms;
}

function lineAtoms(line: string, lineNumber: number, fenced: boolean, maxChars: number, overlapChars: number): Atom[] {
  if (line.length <= maxChars)
    return [
      {
        startLine: lineNumber,
        endLine: lineNumber,
        text: line,
        blank: line.trim() === '',
        fenced,
        continuesLine: false,
      },
    ];
  // Pieces no longer than the overlap let the packer repeat the tail of an overlong
  // line at the start of the next chunk, as it does for ordinary lines.
  return splitWords(line, Math.max(16, overlapChars)).map((text, index) => ({
    startLine: lineNumber,
    endLine: lineNumber,
    text,
    blank: false,
    fenced,
    continuesLine: index > 0,
  }));
}

function splitWords(line: string, pieceChars: number): string[] {
  const pieces: string[] = [];
  let rest = line.trim();
  while (rest.length > pieceChars) {
    const space = rest.lastIndexOf(' ', pieceChars);
    // No space to cut at (a URL, base64): cut mid-word rather than exceed the size.
    const cut = space > 0 ? space : pieceChars;
    pieces.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest) pieces.push(rest);
  return pieces;
}

function joinAtoms(atoms: readonly Atom[]): string {
  return atoms.map((atom, index) => (index === 0 ? '' : atom.continuesLine ? ' ' : '\n') + atom.text).join('');
}

function sizeOf(atoms: readonly Atom[]): number {
  return atoms.reduce((sum, atom) => sum + atom.text.length + 1, 0);
}

/** Greedy packing into chunks of at most maxChars (one oversized atom aside), each trimmed of blank lines at its ends. */
function packAtoms(atoms: readonly Atom[], maxChars: number, overlapChars: number): Atom[][] {
  const chunks: Atom[][] = [];
  let current: Atom[] = [];
  let currentSize = 0; // sizeOf(current), kept as we go so packing stays linear
  let overlapCount = 0;
  for (const atom of atoms) {
    if (current.length > overlapCount && currentSize + atom.text.length + 1 > maxChars) {
      const cut = chooseCut(current, overlapCount, atom, maxChars, overlapChars);
      const emitted = current.slice(0, cut);
      const carried = current.slice(cut);
      chunks.push(emitted);
      const overlap = overlapTail(emitted, Math.min(overlapChars, maxChars - sizeOf(carried) - atom.text.length - 1));
      current = [...overlap, ...carried];
      currentSize = sizeOf(current);
      overlapCount = overlap.length;
    }
    current.push(atom);
    currentSize += atom.text.length + 1;
  }
  if (current.length > overlapCount) chunks.push(current);
  return chunks.map(trimBlank).filter((chunk) => chunk.length > 0);
}

/** How many atoms of `current` to emit: up to its last paragraph break when that leaves the chunk reasonably full, else all. */
function chooseCut(
  current: readonly Atom[],
  overlapCount: number,
  next: Atom,
  maxChars: number,
  overlapChars: number,
): number {
  const minFill = maxChars * MIN_FILL_FOR_PARAGRAPH_CUT;
  const totalSize = sizeOf(current);
  let carriedSize = 0;
  for (let i = current.length - 1; i > overlapCount; i--) {
    const atom = current[i];
    if (!atom) break;
    if (atom.blank) {
      if (totalSize - carriedSize < minFill) break;
      if (carriedSize + next.text.length + 1 + overlapChars <= maxChars) return i + 1;
    }
    carriedSize += atom.text.length + 1;
  }
  return current.length;
}

/** Trailing atoms of a chunk worth repeating: whole lines, none inside a code fence, within budget. */
function overlapTail(emitted: readonly Atom[], budget: number): Atom[] {
  const tail: Atom[] = [];
  let size = 0;
  for (let i = emitted.length - 1; i >= 0; i--) {
    const atom = emitted[i];
    if (!atom || atom.fenced || size + atom.text.length + 1 > budget) break;
    tail.unshift(atom);
    size += atom.text.length + 1;
  }
  // Only leading blanks go: trailing ones sit between the overlap and what follows it.
  while (tail[0]?.blank) tail.shift();
  return tail;
}

function trimBlank(atoms: Atom[]): Atom[] {
  let start = 0;
  let end = atoms.length;
  while (start < end && atoms[start]?.blank) start++;
  while (end > start && atoms[end - 1]?.blank) end--;
  return atoms.slice(start, end);
}
