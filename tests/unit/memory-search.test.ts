// The pure parts of memory search: query sanitizing for FTS5, score merging, recency
// decay and snippets.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { planMatch, queryTerms, toFtsQuery } from '../../src/agent/memory/fts.js';
import { CUT_MARKER, makeSnippet, rankFiles, recencyFactor, type Candidate } from '../../src/agent/memory/search.js';

describe('toFtsQuery', () => {
  const hostile = [
    '"unbalanced',
    'star* power',
    'title:cats',
    '-negated',
    'cat - dog',
    'NEAR(cat dog)',
    'cat AND OR NOT dog',
    '^start',
    '(paren',
    "it's",
    'x" OR "y',
    '{col}: v',
    'c++ / c#',
  ];

  it('turns any text into quoted terms joined by OR', () => {
    expect(toFtsQuery("What is my cat's name?")).toBe('"cat" OR "name"');
    expect(toFtsQuery('title:cats -dogs "quoted*"')).toBe('"title" OR "cats" OR "dogs" OR "quoted"');
    expect(toFtsQuery('Ünïcode 東京 2025')).toBe('"ünïcode" OR "東京" OR "2025"');
    expect(toFtsQuery("don't forget c++ in x")).toBe('"don" OR "forget" OR "c" OR "x"');
  });

  it('keeps stopwords when nothing else is left, and returns null for no words at all', () => {
    expect(toFtsQuery('who is it')).toBe('"who" OR "is" OR "it"');
    expect(toFtsQuery('"*:-^()')).toBeNull();
    expect(toFtsQuery('')).toBeNull();
  });

  it('caps a long query at its first distinct terms', () => {
    const terms = queryTerms(Array.from({ length: 100 }, (_, i) => `term${i} term${i}`).join(' '));
    expect(terms).toHaveLength(24);
    expect(terms[0]).toBe('term0');
  });

  it('never makes FTS5 throw, whatever the query', () => {
    const db = new Database(':memory:');
    db.exec("CREATE VIRTUAL TABLE t USING fts5 (heading, text, tokenize = 'porter unicode61 remove_diacritics 2')");
    db.prepare('INSERT INTO t (heading, text) VALUES (?, ?)').run('# Cats', 'star power for cats and dogs in c++');
    const search = db.prepare<[string], { text: string }>('SELECT text FROM t WHERE t MATCH ?');
    for (const query of hostile) {
      const match = toFtsQuery(query);
      expect(match, query).not.toBeNull();
      expect(() => search.all(match!), query).not.toThrow();
    }
    // The raw strings do throw, so the test above is testing something.
    expect(() => search.all('"unbalanced')).toThrow();
    expect(search.all(toFtsQuery('star* power')!)).toHaveLength(1);
    db.close();
  });
});

describe('planMatch', () => {
  const counts: Record<string, number> = { whiskerino: 3, cat: 900, agent: 4_000, user: 6_000 };
  const documentCount = (term: string) => counts[term] ?? 0;

  it('matches every term on a small index, however common', () => {
    expect(planMatch(['cat', 'agent', 'user'], documentCount, 4_999)).toEqual({
      expression: '"cat" OR "agent" OR "user"',
      fallback: null,
    });
  });

  it('drops terms in a tenth of a large index while a rarer one remains', () => {
    expect(planMatch(['user', 'whiskerino', 'cat'], documentCount, 70_000)).toEqual({
      expression: '"user" OR "whiskerino" OR "cat"',
      fallback: null,
    });
    expect(planMatch(['user', 'whiskerino', 'cat'], documentCount, 30_000)).toEqual({
      expression: '"whiskerino" OR "cat"',
      fallback: null,
    });
  });

  it('requires all terms when all are common, falling back to the rarest', () => {
    expect(planMatch(['user', 'agent'], documentCount, 30_000)).toEqual({
      expression: '"user" AND "agent"',
      fallback: '"agent"',
    });
  });

  it('does not count a lone term, and plans nothing for no terms', () => {
    const unused = () => {
      throw new Error('a single term needs no count');
    };
    expect(planMatch(['user'], unused, 30_000)).toEqual({ expression: '"user"', fallback: null });
    expect(planMatch([], documentCount, 30_000)).toBeNull();
  });
});

describe('recencyFactor', () => {
  const now = new Date('2025-03-11T00:00:00Z');

  it('halves a daily log per half-life of age and leaves other files alone', () => {
    expect(recencyFactor('memory/2025-03-11.md', now, 10)).toBe(1);
    expect(recencyFactor('memory/2025-03-01.md', now, 10)).toBeCloseTo(0.5, 6);
    expect(recencyFactor('memory/2025-02-19.md', now, 10)).toBeCloseTo(0.25, 6);
    expect(recencyFactor('MEMORY.md', now, 10)).toBe(1);
    expect(recencyFactor('notes/memory/2025-01-01.md', now, 10)).toBe(1);
    expect(recencyFactor('memory/2025-02-30.md', now, 10)).toBe(1);
    expect(recencyFactor('memory/2026-01-01.md', now, 10)).toBe(1);
  });
});

describe('rankFiles', () => {
  const now = new Date('2025-03-11T00:00:00Z');
  const candidate = (id: number, path: string, textScore?: number, similarity?: number): Candidate => ({
    id,
    path,
    ...(textScore === undefined ? {} : { textScore }),
    ...(similarity === undefined ? {} : { similarity }),
  });

  it('ranks by normalized BM25 alone in bm25 mode', () => {
    const ranked = rankFiles([candidate(1, 'a.md', 2, 0.9), candidate(2, 'b.md', 8, 0.1)], {
      vectorWeight: null,
      now,
    });
    expect(ranked.map((r) => [r.candidate.id, r.score])).toEqual([
      [2, 1],
      [1, 0.25],
    ]);
  });

  it('blends text and vector scores by the vector weight', () => {
    const pool = [candidate(1, 'a.md', 10, 0.1), candidate(2, 'b.md', 6, 0.95), candidate(3, 'c.md', undefined, 0.99)];
    expect(rankFiles(pool, { vectorWeight: 0, now }).map((r) => r.candidate.id)).toEqual([1, 2]);
    const blended = rankFiles(pool, { vectorWeight: 0.5, now });
    expect(blended.map((r) => r.candidate.id)).toEqual([2, 1, 3]);
    expect(blended[0]!.score).toBeCloseTo(0.5 * 0.6 + 0.5 * 0.95, 9);
    expect(rankFiles(pool, { vectorWeight: 1, now }).map((r) => r.candidate.id)).toEqual([3, 2, 1]);
  });

  it('clamps negative similarity to zero and breaks ties by path', () => {
    const ranked = rankFiles([candidate(1, 'b.md', 5, -0.8), candidate(2, 'a.md', 5, 0)], {
      vectorWeight: 0.3,
      now,
    });
    expect(ranked.map((r) => r.candidate.path)).toEqual(['a.md', 'b.md']);
    expect(ranked[0]!.score).toBe(ranked[1]!.score);
  });

  it('puts a file holding every query term above a denser section holding fewer', () => {
    // dense.md: one section with two of the three terms, scored far higher by BM25;
    // spread.md: the three terms in three weaker sections.
    const pool = [
      candidate(1, 'dense.md', 12),
      candidate(2, 'spread.md', 3),
      candidate(3, 'spread.md', 2),
      candidate(4, 'spread.md', 2),
    ];
    const coverage = {
      terms: 3,
      files: new Map([
        ['dense.md', { covered: 2 }],
        ['spread.md', { covered: 3 }],
      ]),
    };
    const ranked = rankFiles(pool, { vectorWeight: null, now, coverage });
    // spread.md's best chunk first, then dense.md, then spread.md's other chunks (each file gives up to 3).
    expect(ranked.map((r) => r.candidate.id)).toEqual([2, 1, 3, 4]);
    // Without coverage, BM25 alone puts dense.md first.
    expect(rankFiles(pool, { vectorWeight: null, now })[0]!.candidate.path).toBe('dense.md');
  });

  it("adds a share of a file's other hits to its best one", () => {
    const pool = [candidate(1, 'a.md', 10), candidate(2, 'b.md', 9), candidate(3, 'b.md', 8)];
    const ranked = rankFiles(pool, { vectorWeight: null, now });
    expect(ranked.map((r) => r.candidate.id)).toEqual([2, 1, 3]);
    expect(ranked[0]!.score).toBe(1);
    expect(ranked[1]!.score).toBeCloseTo(10 / (9 + 0.25 * 8), 9);
    // b.md's second chunk: the file's score in proportion to the chunk's own.
    expect(ranked[2]!.score).toBeCloseTo(8 / 9, 9);
  });

  it('decays daily logs by age when a half-life is given', () => {
    const pool = [
      candidate(1, 'memory/2025-01-01.md', 5),
      candidate(2, 'memory/2025-03-10.md', 5),
      candidate(3, 'MEMORY.md', 4),
    ];
    expect(rankFiles(pool, { vectorWeight: null, now }).map((r) => r.candidate.id)).toEqual([1, 2, 3]);
    expect(rankFiles(pool, { vectorWeight: null, now, recencyHalfLifeDays: 30 }).map((r) => r.candidate.id)).toEqual([
      2, 3, 1,
    ]);
  });
});

describe('makeSnippet', () => {
  const long = Array.from({ length: 200 }, (_, i) => (i === 120 ? 'Whiskerino' : `filler${i}`)).join(' ');

  it('returns short text whole, whitespace collapsed, without markers', () => {
    expect(makeSnippet('My cat\n\n  is Whiskerino.', ['whiskerino'])).toBe('My cat is Whiskerino.');
  });

  it('centres on the first matching term and marks both cuts', () => {
    const snippet = makeSnippet(long, ['whiskerino'], 120);
    expect(snippet.startsWith(CUT_MARKER)).toBe(true);
    expect(snippet.endsWith(CUT_MARKER)).toBe(true);
    expect(snippet).toContain('Whiskerino');
    expect(snippet.length).toBeLessThanOrEqual(120);
    expect(snippet).not.toMatch(/…\S*filler\d*[^\s\d…]/); // cut at spaces, not inside words
  });

  it('starts at the beginning, marking only the end, when the match is early or absent', () => {
    for (const terms of [['filler1'], ['absent']]) {
      const snippet = makeSnippet(long, terms, 100);
      expect(snippet.startsWith('filler0 ')).toBe(true);
      expect(snippet.endsWith(CUT_MARKER)).toBe(true);
      expect(snippet.length).toBeLessThanOrEqual(100);
    }
  });

  it('finds a plural term in singular text, as the stemmer does', () => {
    const text = `${'lorem '.repeat(60)}the cat sat ${'ipsum '.repeat(60)}`;
    expect(makeSnippet(text, ['cats'], 80)).toContain('cat sat');
  });
});
