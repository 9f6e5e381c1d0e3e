// Memory search over the chunk index: BM25 hits (fts.ts) merged with vector hits, ranked
// per file; a file gives up to CHUNKS_PER_FILE results, its best chunk scored as the file
// and the others in proportion to their own score. Invariants: scores are in [0, 1],
// higher is better. A file's text score is its best chunk's BM25 plus a share of its
// other hits', normalized by the best file, then banded by coverage: a file holding k
// of the query's n terms scores (k - 1 + text) / n, so a file holding every term ranks
// above any file holding fewer, however dense (coordination-level ranking, as classic
// IR engines do); cosine similarity is clamped at 0, and hybrid mode weighs the two by
// vectorWeight; recency decay touches only daily logs (memory/YYYY-MM-DD.md); when
// vectors cannot be used the response is mode 'bm25' with the reason, never an error.
import { DEFAULT_VECTOR_WEIGHT } from '../../shared/wire/agent.js';
import type { Db } from './db.js';
import { COVERAGE_POOL, queryTerms, textSearch, type TermCoverage } from './fts.js';
import type { VectorStore } from './vectors.js';

export interface SearchOptions {
  limit?: number;
  /** Share of the score that comes from vector similarity in hybrid mode, 0..1. */
  vectorWeight?: number;
  /** When set, a daily log's score halves every this many days of age. */
  recencyHalfLifeDays?: number;
  snippetChars?: number;
  now?: Date;
}

export interface SearchResult {
  path: string;
  start_line: number;
  end_line: number;
  heading: string;
  snippet: string;
  score: number;
}

export type SearchResponse =
  | { mode: 'hybrid'; results: SearchResult[] }
  | { mode: 'bm25'; reason: string; results: SearchResult[] };

/** Where vectors come from for one search, or why there are none. */
export type VectorSource = { store: VectorStore } | { off: string };

export const DEFAULT_LIMIT = 5;
export const MAX_LIMIT = 50;
export const DEFAULT_SNIPPET_CHARS = 240;
export const CUT_MARKER = '…';
// The pool each ranking contributes before merging: deep enough that recency decay or
// the other ranking can promote a hit from below the first page.
const CANDIDATE_FACTOR = 4;
const MIN_CANDIDATES = 40;
// How much a file's other hits add to its best one: several relevant sections count, without
// letting a long file of weak hits outrank one strong section.
const OTHER_HITS_SHARE = 0.25;
// A daily log holds many unrelated entries: more than one of them may answer a query.
const CHUNKS_PER_FILE = 3;
const DAILY_LOG = /^memory\/(\d{4})-(\d{2})-(\d{2})\.md$/;
const DAY_MS = 86_400_000;

/** The multiplier for a result's age: 1 for anything but a daily log, halving every halfLifeDays for one. */
export function recencyFactor(filePath: string, now: Date, halfLifeDays: number): number {
  const match = DAILY_LOG.exec(filePath);
  if (!match || halfLifeDays <= 0) return 1;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = Date.UTC(year, month - 1, day);
  // Date.UTC rolls 2025-02-30 over to March; a name that is not a real date gets no decay.
  if (new Date(date).getUTCDate() !== day) return 1;
  const ageDays = Math.max(0, (now.getTime() - date) / DAY_MS);
  return 0.5 ** (ageDays / halfLifeDays);
}

export interface Candidate {
  id: number;
  path: string;
  /** -bm25(), higher is better; absent when only the vector ranking found the chunk. */
  textScore?: number;
  /** Cosine similarity; absent when the chunk has no vector. */
  similarity?: number;
}

export interface RankOptions {
  /** null in BM25 mode: the score is the text score alone. */
  vectorWeight: number | null;
  recencyHalfLifeDays?: number;
  now: Date;
  /** Which files hold how many query terms; without it (or for a lone term) every text hit counts as covering all. */
  coverage?: Pick<TermCoverage, 'terms'> & { files: ReadonlyMap<string, { covered: number }> };
}

/** Orders results by score, best first: each file's best chunks, scored by the file (see the header); ties go to the earlier path, then chunk, so the order is stable. */
export function rankFiles(
  candidates: readonly Candidate[],
  options: RankOptions,
): { candidate: Candidate; score: number }[] {
  const best = Math.max(0, ...candidates.map((c) => c.textScore ?? 0));
  const weight = options.vectorWeight === null ? 0 : Math.min(1, Math.max(0, options.vectorWeight));
  const chunkText = (c: Candidate): number => (best > 0 ? (c.textScore ?? 0) / best : 0);
  const similarity = (c: Candidate): number => Math.min(1, Math.max(0, c.similarity ?? 0));
  const byFile = new Map<string, Candidate[]>();
  for (const candidate of candidates) {
    const chunks = byFile.get(candidate.path);
    if (chunks) chunks.push(candidate);
    else byFile.set(candidate.path, [candidate]);
  }
  const files = [...byFile].map(([path, chunks]) => {
    const texts = chunks.map(chunkText).sort((a, b) => b - a);
    const text = (texts[0] ?? 0) + OTHER_HITS_SHARE * texts.slice(1).reduce((sum, t) => sum + t, 0);
    const own = (c: Candidate) => (1 - weight) * chunkText(c) + weight * similarity(c);
    const shown = chunks
      .map((candidate) => ({ candidate, own: own(candidate) }))
      .sort((a, b) => b.own - a.own || a.candidate.id - b.candidate.id)
      .slice(0, CHUNKS_PER_FILE);
    return { path, shown, text, similarity: Math.max(...chunks.map(similarity)) };
  });
  const bestText = Math.max(0, ...files.map((f) => f.text));
  const terms = options.coverage?.terms ?? 0;
  return files
    .map((file) => {
      const text = bestText > 0 ? file.text / bestText : 0;
      const covered = terms > 1 ? (options.coverage?.files.get(file.path)?.covered ?? 0) : text > 0 ? 1 : 0;
      const banded = terms > 1 ? (covered > 0 ? (covered - 1 + text) / terms : 0) : text;
      const blended = (1 - weight) * banded + weight * file.similarity;
      const decay =
        options.recencyHalfLifeDays === undefined
          ? 1
          : recencyFactor(file.path, options.now, options.recencyHalfLifeDays);
      const score = blended * decay;
      const top = file.shown[0]?.own ?? 0;
      return file.shown.map((chunk, i) => ({
        candidate: chunk.candidate,
        score: i === 0 || top <= 0 ? score : (score * chunk.own) / top,
      }));
    })
    .flat()
    .filter((ranked) => ranked.score > 0)
    .sort(
      (a, b) =>
        b.score - a.score || a.candidate.path.localeCompare(b.candidate.path) || a.candidate.id - b.candidate.id,
    );
}

/** A window of at most maxChars around the first query term, whitespace collapsed, with CUT_MARKER wherever text was cut. */
export function makeSnippet(text: string, terms: readonly string[], maxChars = DEFAULT_SNIPPET_CHARS): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= maxChars) return flat;
  const lower = flat.toLowerCase();
  // Porter stems the index, so "cats" finds "cat": look for a term's stem-ish prefix.
  const positions = terms
    .map((term) => lower.indexOf(term.slice(0, Math.max(3, term.length - 2))))
    .filter((at) => at >= 0);
  const hit = positions.length > 0 ? Math.min(...positions) : 0;
  let start = Math.max(0, hit - Math.floor(maxChars / 4));
  if (start > 0) {
    const space = flat.indexOf(' ', start);
    start = space >= 0 && space < hit ? space + 1 : start;
  }
  const room = maxChars - (start > 0 ? CUT_MARKER.length : 0) - CUT_MARKER.length;
  let end = Math.min(flat.length, start + room);
  if (end < flat.length) {
    const space = flat.lastIndexOf(' ', end);
    if (space > start) end = space;
  }
  return `${start > 0 ? CUT_MARKER : ''}${flat.slice(start, end).trim()}${end < flat.length ? CUT_MARKER : ''}`;
}

interface ChunkRow {
  id: number;
  path: string;
  start_line: number;
  end_line: number;
  heading: string;
  text: string;
}

export async function searchMemory(
  db: Db,
  vectors: VectorSource,
  query: string,
  options: SearchOptions = {},
): Promise<SearchResponse> {
  const limit = Math.min(MAX_LIMIT, Math.max(1, Math.floor(options.limit ?? DEFAULT_LIMIT)));
  const pool = Math.max(MIN_CANDIDATES, limit * CANDIDATE_FACTOR);
  const terms = queryTerms(query);
  const rows = new Map<number, ChunkRow>();
  const candidates = new Map<number, Candidate>();
  // The wider pool gives coverage a chance to lift a file whose sections each hold one term.
  const { hits, coverage } = textSearch(db, terms, Math.max(pool, COVERAGE_POOL));
  for (const hit of hits) candidates.set(hit.id, { id: hit.id, path: hit.path, textScore: hit.score });

  let vectorUse: { hybrid: true } | { hybrid: false; reason: string } =
    'off' in vectors ? { hybrid: false, reason: vectors.off } : { hybrid: true };
  if ('store' in vectors && vectors.store.dimensions === null) {
    vectorUse = { hybrid: false, reason: 'no chunk has a vector yet (embedding has not succeeded)' };
  } else if ('store' in vectors && terms.length > 0) {
    try {
      const queryVector = await vectors.store.embedQuery(query);
      addVectorCandidates(db, vectors.store, queryVector, pool, rows, candidates);
    } catch (err) {
      vectorUse = {
        hybrid: false,
        reason: `the query could not be embedded: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
  }

  const ranked = rankFiles([...candidates.values()], {
    vectorWeight: vectorUse.hybrid ? (options.vectorWeight ?? DEFAULT_VECTOR_WEIGHT) : null,
    now: options.now ?? new Date(),
    coverage,
    ...(options.recencyHalfLifeDays === undefined ? {} : { recencyHalfLifeDays: options.recencyHalfLifeDays }),
  }).slice(0, limit);
  fetchRows(
    db,
    ranked.map(({ candidate }) => candidate.id).filter((id) => !rows.has(id)),
    rows,
  );
  const results = ranked.flatMap(({ candidate, score }): SearchResult[] => {
    const row = rows.get(candidate.id);
    if (!row) return [];
    const snippet = makeSnippet(row.text, terms, options.snippetChars);
    return [
      {
        path: row.path,
        start_line: row.start_line,
        end_line: row.end_line,
        heading: row.heading,
        snippet,
        score: Math.round(score * 1000) / 1000,
      },
    ];
  });
  return vectorUse.hybrid ? { mode: 'hybrid', results } : { mode: 'bm25', reason: vectorUse.reason, results };
}

/** Adds the nearest chunks by vector and gives every candidate its similarity; vectors of deleted chunks are ignored. */
function addVectorCandidates(
  db: Db,
  store: VectorStore,
  queryVector: Float32Array,
  pool: number,
  rows: Map<number, ChunkRow>,
  candidates: Map<number, Candidate>,
): void {
  const near = store.nearest(queryVector, pool);
  const nearIds = new Set(near.map((hit) => hit.id));
  const textOnly = [...candidates.keys()].filter((id) => !nearIds.has(id));
  const distances = new Map([...near, ...store.distances(queryVector, textOnly)].map((hit) => [hit.id, hit.distance]));
  const missing = near.map((hit) => hit.id).filter((id) => !candidates.has(id));
  for (const row of fetchRows(db, missing, rows)) candidates.set(row.id, { id: row.id, path: row.path });
  for (const [id, candidate] of candidates) {
    const distance = distances.get(id);
    if (distance !== undefined) candidate.similarity = 1 - distance;
  }
}

/** Reads the chunks `ids` into `rows`; returns those read. */
function fetchRows(db: Db, ids: readonly number[], rows: Map<number, ChunkRow>): ChunkRow[] {
  if (ids.length === 0) return [];
  const fetched = db
    .prepare<[string], ChunkRow>(
      'SELECT id, path, start_line, end_line, heading, text FROM memory_chunks WHERE id IN (SELECT value FROM json_each(?))',
    )
    .all(JSON.stringify(ids));
  for (const row of fetched) rows.set(row.id, row);
  return fetched;
}
