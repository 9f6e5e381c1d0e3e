// chunkMarkdown: heading trails, line ranges that match the text, overlap, code fences
// kept whole, and overlong lines cut at words.
import { describe, expect, it } from 'vitest';
import { chunkMarkdown, CHARS_PER_TOKEN, type MemoryChunk } from '../../src/agent/memory/chunker.js';

const MAX_CHARS = 400 * CHARS_PER_TOKEN;

function sentence(seed: number, words = 30): string {
  return Array.from({ length: words }, (_, i) => `w${(seed * 31 + i * 7) % 997}`).join(' ') + '.';
}

/** Every chunk's text is exactly its line range of the file. */
function expectTextMatchesLines(content: string, chunks: readonly MemoryChunk[]): void {
  const lines = content.split(/\r?\n/);
  for (const chunk of chunks) expect(chunk.text).toBe(lines.slice(chunk.startLine - 1, chunk.endLine).join('\n'));
}

describe('chunkMarkdown', () => {
  it('gives each chunk the trail of headings above it and its own line range', () => {
    const content = [
      'Preamble line.', // 1
      '', // 2
      '# Notes', // 3
      '', // 4
      '## Cats', // 5
      'My cat is Whiskerino.', // 6
      '', // 7
      '### Food', // 8
      'Tuna on Fridays.', // 9
      '## Dogs ##', // 10
      'No dogs.', // 11
      '# Other', // 12
      'Loose end.', // 13
    ].join('\n');
    const chunks = chunkMarkdown('notes.md', content);
    expect(chunks.map(({ heading, startLine, endLine }) => ({ heading, startLine, endLine }))).toEqual([
      { heading: '', startLine: 1, endLine: 1 },
      // "# Notes" has no body of its own: it survives only in its children's trails.
      { heading: '# Notes > ## Cats', startLine: 5, endLine: 6 },
      { heading: '# Notes > ## Cats > ### Food', startLine: 8, endLine: 9 },
      { heading: '# Notes > ## Dogs', startLine: 10, endLine: 11 },
      { heading: '# Other', startLine: 12, endLine: 13 },
    ]);
    expect(chunks.every((chunk) => chunk.path === 'notes.md')).toBe(true);
    expectTextMatchesLines(content, chunks);
  });

  it('cuts a long section into chunks of about 400 tokens that overlap by whole lines', () => {
    const lines = ['# Journal'];
    for (let i = 0; i < 60; i++) lines.push(sentence(i), '');
    const content = lines.join('\n');
    const chunks = chunkMarkdown('journal.md', content);
    expect(chunks.length).toBeGreaterThan(4);
    chunks.forEach((chunk, index) => {
      expect(chunk.text.length).toBeLessThanOrEqual(MAX_CHARS);
      if (index < chunks.length - 1) expect(chunk.text.length).toBeGreaterThan(MAX_CHARS / 2);
      expect(chunk.heading).toBe('# Journal');
    });
    for (let i = 1; i < chunks.length; i++) {
      const [previous, next] = [chunks[i - 1]!, chunks[i]!];
      expect(next.startLine).toBeLessThanOrEqual(previous.endLine);
      expect(next.startLine).toBeGreaterThan(previous.startLine);
      const shared = previous.text.slice(previous.text.indexOf(next.text.split('\n')[0]!));
      expect(shared.length / MAX_CHARS).toBeLessThanOrEqual(0.16);
    }
    expect(chunks[0]!.startLine).toBe(1);
    expect(chunks[chunks.length - 1]!.endLine).toBe(lines.length - 1);
    expectTextMatchesLines(content, chunks);
  });

  it('leaves no gap and no overlap with overlapRatio 0', () => {
    const content = Array.from({ length: 80 }, (_, i) => sentence(i)).join('\n');
    const chunks = chunkMarkdown('a.md', content, { overlapRatio: 0 });
    for (let i = 1; i < chunks.length; i++) expect(chunks[i]!.startLine).toBe(chunks[i - 1]!.endLine + 1);
    expectTextMatchesLines(content, chunks);
  });

  it('moves a code fence whole into the next chunk instead of cutting it, and ignores headings inside it', () => {
    const prose = Array.from({ length: 5 }, (_, i) => sentence(i)).join('\n'); // ~1100 chars
    const code = [
      '```ts',
      '# not a heading',
      ...Array.from({ length: 20 }, (_, i) => `const value${i} = compute(${i}); // step ${i}`),
      '```',
    ];
    const content = ['## Setup', prose, ...code, 'After the code.'].join('\n');
    const chunks = chunkMarkdown('setup.md', content);
    const fenceStart = 7;
    const fenceEnd = fenceStart + code.length - 1;
    expect(chunks.every((chunk) => chunk.heading === '## Setup')).toBe(true);
    expect(chunks.some((chunk) => chunk.startLine <= fenceStart && chunk.endLine >= fenceEnd)).toBe(true);
    for (const chunk of chunks) {
      const startsInside = chunk.startLine > fenceStart && chunk.startLine <= fenceEnd;
      const endsInside = chunk.endLine >= fenceStart && chunk.endLine < fenceEnd;
      expect({ chunk: [chunk.startLine, chunk.endLine], startsInside, endsInside }).toEqual({
        chunk: [chunk.startLine, chunk.endLine],
        startsInside: false,
        endsInside: false,
      });
    }
    expectTextMatchesLines(content, chunks);
  });

  it('cuts a fence larger than a chunk at its lines, and treats an unclosed ~~~ fence as running to the end', () => {
    const big = [
      '~~~',
      ...Array.from({ length: 120 }, (_, i) => `line ${i} of a very large generated listing`),
      '# still code',
    ];
    const content = ['# Dump', ...big].join('\n');
    const chunks = chunkMarkdown('dump.md', content);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.every((chunk) => chunk.heading === '# Dump')).toBe(true);
    expect(chunks[chunks.length - 1]!.endLine).toBe(big.length + 1);
    expectTextMatchesLines(content, chunks);
  });

  it('cuts one huge single-line paragraph at words, every piece on line 1, with overlap', () => {
    const words = Array.from({ length: 3000 }, (_, i) => `word${i}`);
    const chunks = chunkMarkdown('huge.md', words.join(' '));
    expect(chunks.length).toBeGreaterThan(10);
    for (const chunk of chunks) {
      expect([chunk.startLine, chunk.endLine]).toEqual([1, 1]);
      expect(chunk.text.length).toBeLessThanOrEqual(MAX_CHARS);
      expect(chunk.text).toMatch(/^word\d+( word\d+)*$/); // no word cut in half
    }
    const seen = new Set(chunks.flatMap((chunk) => chunk.text.split(' ')));
    expect(seen.size).toBe(words.length);
    for (let i = 1; i < chunks.length; i++) {
      const lastWord = chunks[i - 1]!.text.split(' ').pop()!;
      expect(chunks[i]!.text.split(' ')).toContain(lastWord);
    }
  });

  it('handles CRLF files, empty files and whitespace-only files', () => {
    const crlf = '# Title\r\nbody one\r\nbody two\r\n';
    expect(chunkMarkdown('w.md', crlf)).toEqual([
      { path: 'w.md', startLine: 1, endLine: 3, heading: '# Title', text: '# Title\nbody one\nbody two' },
    ]);
    expect(chunkMarkdown('e.md', '')).toEqual([]);
    expect(chunkMarkdown('s.md', '\n  \n\n')).toEqual([]);
  });
});
