// BM25 ranking through the real index (SQLite in a temp dir): more and rarer matches
// rank higher, headings count, hostile queries are harmless.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryIndex } from '../../src/agent/memory/index.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

async function indexOf(files: Record<string, string>): Promise<MemoryIndex> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'legion-memrank-'));
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dataDir, 'workspace', name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  const index = MemoryIndex.open(dataDir);
  cleanups.push(() => {
    index.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  await index.sync();
  return index;
}

const filler = (seed: string, n: number) => Array.from({ length: n }, (_, i) => `${seed}${i}`).join(' ');

describe('memory search ranking (BM25)', () => {
  it('puts the document that mentions the term more, in less text, first', async () => {
    const index = await indexOf({
      'diary.md': `# Diary\n${filler('day', 120)} whiskerino ${filler('night', 120)}\n`,
      'pets.md': '# Pets\nWhiskerino is my cat. Whiskerino likes tuna. Feed Whiskerino at six.\n',
      'other.md': '# Other\nNothing about the cat here.\n',
    });
    const { results } = await index.search('whiskerino');
    expect(results.map((r) => r.path)).toEqual(['pets.md', 'diary.md']);
    expect(results[0]!.score).toBe(1);
    expect(results[1]!.score).toBeLessThan(1);
  });

  it('prefers the rarer, more specific term over a common one', async () => {
    const common = Object.fromEntries(
      Array.from({ length: 8 }, (_, i) => [
        `recipes/r${i}.md`,
        `# Recipe ${i}\nA recipe with rice and beans, recipe number ${i}.\n`,
      ]),
    );
    const index = await indexOf({ ...common, 'zz-fish.md': '# Fish\nA recipe for tuna steak.\n' });
    const { results } = await index.search('tuna recipe', { limit: 3 });
    expect(results[0]!.path).toBe('zz-fish.md');
    expect(results).toHaveLength(3);
  });

  it('counts a match in the heading trail more than one in the body', async () => {
    const index = await indexOf({
      'a.md': '# Garden\nThe roses need water; also remember the compost.\n',
      'b.md': '# Compost\nTurn it weekly; keep it moist and warm enough.\n',
    });
    const { results } = await index.search('compost');
    expect(results.map((r) => r.path)).toEqual(['b.md', 'a.md']);
    expect(results[0]!.heading).toBe('# Compost');
  });

  it('reports where each hit is: path, line range and heading trail', async () => {
    const index = await indexOf({ 'MEMORY.md': '# Facts\n\n## Cats\nMy cat is Whiskerino.\n\n## Dogs\nNo dogs.\n' });
    const { results } = await index.search("What's my cats name?");
    expect(results).toEqual([
      {
        path: 'MEMORY.md',
        start_line: 3,
        end_line: 4,
        heading: '# Facts > ## Cats',
        snippet: '## Cats My cat is Whiskerino.',
        // The file holds one of the query's two terms ("cats", "name"): half the score.
        score: 0.5,
      },
    ]);
  });

  it('answers hostile or empty queries without throwing', async () => {
    const index = await indexOf({ 'a.md': '# A\nstar power: cats and dogs\n' });
    for (const query of ['"star', 'star*', 'a:b', '-cats', 'NEAR(star power)', '()', '', '   ']) {
      await expect(index.search(query), query).resolves.toMatchObject({ mode: 'bm25' });
    }
    expect((await index.search('"star*')).results).toHaveLength(1);
    expect((await index.search('()')).results).toEqual([]);
  });
});
