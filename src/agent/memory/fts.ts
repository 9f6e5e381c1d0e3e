// Full-text side of memory search: user text to an FTS5 MATCH expression, and the
// BM25 query. Invariants: any text is safe to search with (it is reduced to quoted
// letter-and-digit terms, so FTS5 syntax in it is never interpreted and never throws);
// scores are -bm25() (higher is better) with the heading trail weighing twice the body;
// the cost of a search is bounded by how common its rarest useful term is, not by the
// index size, once the index is large (see planMatch). termCoverage tells which files
// hold which of a query's terms anywhere, not only in the best-scored chunks, so ranking
// can put a file holding every term above one dense section holding some (search.ts).
import type { Db } from './db.js';

export interface TextHit {
  id: number;
  path: string;
  start_line: number;
  end_line: number;
  heading: string;
  score: number;
}

/** What to hand FTS5: an expression, and a narrower one to try if the first finds nothing. */
export interface MatchPlan {
  expression: string;
  fallback: string | null;
}

// A long message used as a query (first-message recall) would otherwise become an OR
// of hundreds of terms, slow and diluted; the first distinct terms carry the topic.
const MAX_QUERY_TERMS = 24;
// Terms so common that matching them says nothing; dropped unless nothing else is left.
const STOPWORDS = new Set(
  (
    'a about after all also am an and any are as at be been before but by can could did do does for from get got had has have how i if in into ' +
    'is it its just me more most my no not of on or our out so some than that the their them then there these they this to up very was we ' +
    'were what when where which who why will with would you your'
  ).split(' '),
);
// bm25() runs once per matching row, so a word found in a large share of a big index
// makes a search slow while adding little to the order (its idf is near zero). Above
// this size such words are left out of the match while rarer ones remain, as stopwords
// are; small indexes keep every word, since there recall matters more than speed.
const COMMON_TERM_MIN_CHUNKS = 5_000;
const COMMON_TERM_SHARE = 0.1;

/** The words of a query, lowercased and deduplicated: letters and digits only. */
export function queryTerms(query: string): string[] {
  // "cat's", "don't": the clitic would be a one-letter term that matches nearly everything.
  const plain = query.toLowerCase().replace(/(?<=\p{L})['’]\p{L}{1,2}\b/gu, '');
  const words = [...new Set(plain.match(/[\p{L}\p{N}_]+/gu) ?? [])];
  const meaningful = words.filter((word) => !STOPWORDS.has(word));
  return (meaningful.length > 0 ? meaningful : words).slice(0, MAX_QUERY_TERMS);
}

/** The FTS5 MATCH expression for a query on a small index (any term may match; bm25 ranks), or null when it has no searchable words. */
export function toFtsQuery(query: string): string | null {
  return planMatch(queryTerms(query), () => 0, 0)?.expression ?? null;
}

/**
 * Which terms to match. On an index of COMMON_TERM_MIN_CHUNKS or more, terms found in
 * COMMON_TERM_SHARE of the chunks are dropped when a rarer term remains; when every
 * term is that common, all must match (AND), and failing that the rarest one alone.
 */
export function planMatch(
  terms: readonly string[],
  documentCount: (term: string) => number,
  totalChunks: number,
): MatchPlan | null {
  if (terms.length === 0) return null;
  if (terms.length === 1 || totalChunks < COMMON_TERM_MIN_CHUNKS)
    return { expression: join(terms, 'OR'), fallback: null };
  const counts = new Map(terms.map((term) => [term, documentCount(term)]));
  const rare = terms.filter((term) => (counts.get(term) ?? 0) < totalChunks * COMMON_TERM_SHARE);
  if (rare.length > 0) return { expression: join(rare, 'OR'), fallback: null };
  const rarest = [...terms].sort((a, b) => (counts.get(a) ?? 0) - (counts.get(b) ?? 0))[0] ?? terms[0] ?? '';
  return { expression: join(terms, 'AND'), fallback: join([rarest], 'OR') };
}

function join(terms: readonly string[], operator: 'OR' | 'AND'): string {
  return terms.map((term) => `"${term}"`).join(` ${operator} `);
}

/** Which of the terms each file of the hits holds, in any of its chunks. */
export interface TermCoverage {
  /** How many terms were counted (the planned OR terms; 0 when the plan was a lone term or an AND). */
  terms: number;
  /** Per file: how many distinct terms it holds. */
  files: Map<string, { covered: number }>;
}

// Coverage is counted for the files of this many best chunks: deep enough to reach a file whose
// sections each hold one term, while a search stays a few index seeks per file.
export const COVERAGE_POOL = 200;

/** The best `pool` chunks for the terms by BM25, best first, and which files hold which of the matched terms. */
export function textSearch(
  db: Db,
  terms: readonly string[],
  pool: number,
): { hits: TextHit[]; coverage: TermCoverage } {
  const total =
    terms.length > 1 ? (db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM memory_chunks').get()?.n ?? 0) : 0;
  // Counting stops at the threshold, so a common word costs a bounded scan, not a full one.
  const cap = Math.ceil(total * COMMON_TERM_SHARE);
  const count = db.prepare<[string, number], { n: number }>(
    'SELECT COUNT(*) AS n FROM (SELECT 1 FROM memory_fts WHERE memory_fts MATCH ? LIMIT ?)',
  );
  const plan = planMatch(terms, (term) => count.get(join([term], 'OR'), cap)?.n ?? 0, total);
  if (!plan) return { hits: [], coverage: { terms: 0, files: new Map() } };
  // Ranking in a subquery first means only the pool's rows are read, not every match; the
  // text is left to the caller, for the few hits it shows.
  const search = db.prepare<[string, number], TextHit>(
    `SELECT c.id, c.path, c.start_line, c.end_line, c.heading, hit.score
     FROM (SELECT rowid AS id, -bm25(memory_fts, 2.0, 1.0) AS score FROM memory_fts
           WHERE memory_fts MATCH ? ORDER BY bm25(memory_fts, 2.0, 1.0) LIMIT ?) AS hit
     JOIN memory_chunks c ON c.id = hit.id
     ORDER BY hit.score DESC`,
  );
  const hits = search.all(plan.expression, pool);
  if (hits.length === 0 && plan.fallback) return { hits: search.all(plan.fallback, pool), coverage: noCoverage() };
  // Only an OR of several terms leaves files holding different shares of them.
  const counted = plan.fallback === null ? plan.expression.split(' OR ') : [];
  return { hits, coverage: counted.length > 1 ? termCoverage(db, counted, hits) : noCoverage() };
}

function noCoverage(): TermCoverage {
  return { terms: 0, files: new Map() };
}

/**
 * For each file of the hits, how many of the quoted terms any of its chunks holds. A file's
 * chunks have consecutive ids (MemoryIndex writes them in one transaction), so "file f holds
 * term t" is "t's match list has a rowid in f's id range": one sorted rowid list per term
 * (no row is read) and a binary search per file.
 */
function termCoverage(db: Db, quoted: readonly string[], hits: readonly TextHit[]): TermCoverage {
  const paths = [...new Set(hits.map((hit) => hit.path))];
  const ranges = db
    .prepare<[string], { path: string; lo: number; hi: number }>(
      `SELECT value AS path, (SELECT MIN(id) FROM memory_chunks WHERE path = value) AS lo,
              (SELECT MAX(id) FROM memory_chunks WHERE path = value) AS hi
       FROM json_each(?)`,
    )
    .all(JSON.stringify(paths));
  const rowids = db.prepare<[string], { id: number }>(
    'SELECT rowid AS id FROM memory_fts WHERE memory_fts MATCH ? ORDER BY rowid',
  );
  const files = new Map(paths.map((path) => [path, { covered: 0 }]));
  for (const term of quoted) {
    const ids = rowids.all(term).map((row) => row.id);
    for (const range of ranges) {
      const held = files.get(range.path);
      if (held && (ids[firstAtLeast(ids, range.lo)] ?? Infinity) <= range.hi) held.covered += 1;
    }
  }
  return { terms: quoted.length, files };
}

/** The index of the first element >= value in a sorted array (its length when none). */
function firstAtLeast(sorted: readonly number[], value: number): number {
  let [lo, hi] = [0, sorted.length];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? Infinity) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
