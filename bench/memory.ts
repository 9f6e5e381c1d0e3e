// Memory index benchmarks, no Docker: generated markdown workspaces of about 1k, 10k
// and 50k chunks (seeded random words with a skewed frequency, headings, daily logs),
// full-index time, BM25 search latency (median, p99 over 200 queries), ranking quality
// for 3-word queries against a plain whole-file BM25, the time to reindex one changed
// file in the 10k workspace; then a 7k-file workspace: the index's start (cold and
// warm, beside the full walk the old start did) and the time from a file written by a
// shell (as exec does) to a search finding it. Everything is seeded, so two runs index
// the same text and ask the same queries.
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { MemoryIndex } from '../src/agent/memory/index.js';
import { WorkspaceWatcher } from '../src/agent/memory/watcher.js';
import { createLogger } from '../src/shared/logging.js';
import { median, percentile, type BenchRow } from './table.js';

const SIZES = [1_000, 10_000, 50_000];
const QUERIES = 200;
const SECTIONS_PER_FILE = 50;
// ~1270 characters: one chunk per section at the chunker's ~400-token target.
const WORDS_PER_SECTION = 144;
const VOCABULARY_SIZE = 20_000;
const REINDEX_ROUNDS = 5;

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function vocabulary(random: () => number): string[] {
  const syllables = [
    'ka',
    'lo',
    'mi',
    'ne',
    'ru',
    'sa',
    'to',
    'vi',
    'ze',
    'qua',
    'bri',
    'dor',
    'fen',
    'gal',
    'hul',
    'jor',
    'pli',
    'sto',
    'tren',
    'wex',
  ];
  const words = new Set<string>();
  while (words.size < VOCABULARY_SIZE) {
    const length = 2 + Math.floor(random() * 3);
    words.add(Array.from({ length }, () => syllables[Math.floor(random() * syllables.length)]).join(''));
  }
  return [...words];
}

/** A word drawn with a skewed frequency, as in prose: low indexes are common, high ones rare. */
function word(words: readonly string[], random: () => number): string {
  return words[Math.floor(words.length * random() ** 3)] ?? 'word';
}

function section(words: readonly string[], random: () => number, title: string): string {
  const lines = [`## ${title}`];
  for (let written = 0; written < WORDS_PER_SECTION; written += 16)
    lines.push(Array.from({ length: 16 }, () => word(words, random)).join(' '));
  return `${lines.join('\n')}\n`;
}

/** Writes a workspace of `chunks` one-chunk sections; a tenth of the files are daily logs. Returns the other files' paths. */
function generateWorkspace(dataDir: string, chunks: number, words: readonly string[], random: () => number): string[] {
  const files = Math.ceil(chunks / SECTIONS_PER_FILE);
  const hourAgo = new Date(Date.now() - 3_600_000);
  const notes: string[] = [];
  for (let f = 0; f < files; f++) {
    const daily = f % 10 === 0;
    const name = daily
      ? `memory/${new Date(Date.UTC(2024, 0, 1) + f * 86_400_000).toISOString().slice(0, 10)}.md`
      : `notes/topic-${f}.md`;
    const count = Math.min(SECTIONS_PER_FILE, chunks - f * SECTIONS_PER_FILE);
    const body = [`# ${word(words, random)} ${word(words, random)} ${f}`];
    for (let s = 0; s < count; s++)
      body.push(
        section(
          words,
          random,
          daily
            ? `${String(8 + (s % 12)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`
            : `${word(words, random)} ${s}`,
        ),
      );
    const file = path.join(dataDir, 'workspace', name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, body.join('\n'));
    // Notes written an hour ago, as a workspace at rest is: a file written within the
    // last seconds is always re-hashed on sync (see MemoryIndex), which is not the case measured.
    utimesSync(file, hourAgo, hourAgo);
    if (!daily) notes.push(name);
  }
  return notes;
}

async function measureSize(chunks: number, rows: BenchRow[]): Promise<void> {
  const random = mulberry32(chunks);
  const words = vocabulary(random);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'legion-bench-memory-'));
  try {
    const notes = generateWorkspace(dataDir, chunks, words, random);
    const index = MemoryIndex.open(dataDir);
    const begin = performance.now();
    const report = await index.sync();
    const indexMs = performance.now() - begin;
    const label = `${(report.chunksWritten / 1000).toFixed(report.chunksWritten < 10_000 ? 1 : 0)}k chunks`;
    rows.push([
      `memory full index, ${label} (${report.added.length} files)`,
      `${(indexMs / 1000).toFixed(2)} s`,
      'reported',
      true,
    ]);

    const queries = Array.from({ length: QUERIES }, () =>
      Array.from({ length: 2 + Math.floor(random() * 2) }, () => word(words, random)).join(' '),
    );
    for (const query of queries.slice(0, 10)) await index.search(query);
    const samples: number[] = [];
    let hits = 0;
    for (const query of queries) {
      const start = performance.now();
      const { results } = await index.search(query);
      samples.push(performance.now() - start);
      hits += results.length;
    }
    const [mid, p99] = [median(samples), percentile(samples, 99)];
    const target = chunks === 10_000 ? '<= 5 ms median' : 'reported';
    rows.push([
      `memory_search BM25, ${label}, ${QUERIES} queries (${(hits / QUERIES).toFixed(1)} hits avg)`,
      `median ${mid.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`,
      target,
      chunks !== 10_000 || mid <= 5,
    ]);

    if (chunks <= 10_000) rows.push(await rankingRow(index, dataDir, label, words, random));

    if (chunks === 10_000) {
      const syncSamples: number[] = [];
      const fileSamples: number[] = [];
      for (let round = 0; round < REINDEX_ROUNDS; round++) {
        const viaSync = notes[round * 2] ?? '';
        appendFileSync(path.join(dataDir, 'workspace', viaSync), `\n${section(words, random, `appended ${round}`)}`);
        const syncStart = performance.now();
        const resync = await index.sync();
        syncSamples.push(performance.now() - syncStart);
        if (resync.updated.length !== 1 || resync.unchanged !== report.added.length - 1)
          throw new Error(`reindex touched more than one file: ${JSON.stringify(resync)}`);

        const viaIndexFile = notes[round * 2 + 1] ?? '';
        appendFileSync(
          path.join(dataDir, 'workspace', viaIndexFile),
          `\n${section(words, random, `appended ${round}`)}`,
        );
        const fileStart = performance.now();
        await index.indexFile(viaIndexFile);
        fileSamples.push(performance.now() - fileStart);
      }
      const rounds = `median of ${REINDEX_ROUNDS}`;
      rows.push([
        `memory reindex one changed file, ${label}, sync() (stat + re-chunk), ${rounds}`,
        `${median(syncSamples).toFixed(1)} ms`,
        'reported',
        true,
      ]);
      rows.push([
        `memory reindex one changed file, ${label}, indexFile(), ${rounds}`,
        `${median(fileSamples).toFixed(1)} ms`,
        'reported',
        true,
      ]);
    }
    index.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const RANKING_QUERIES = 100;

/** Distinct query terms in a text, as whole words (the same count for both rankings). */
function termsHeld(text: string, terms: readonly string[]): number {
  const words = new Set(text.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? []);
  return terms.filter((term) => words.has(term)).length;
}

/** Ranking quality: distinct query terms held by the top 5 files, ours beside a plain whole-file BM25 (one FTS5 row per file). */
async function rankingRow(
  index: MemoryIndex,
  dataDir: string,
  label: string,
  words: readonly string[],
  random: () => number,
): Promise<BenchRow> {
  const workspace = path.join(dataDir, 'workspace');
  const whole = new Database(':memory:');
  whole.exec(
    `CREATE VIRTUAL TABLE f USING fts5 (path UNINDEXED, text, tokenize = 'porter unicode61 remove_diacritics 2')`,
  );
  const texts = new Map<string, string>();
  const insert = whole.prepare('INSERT INTO f (path, text) VALUES (?, ?)');
  const listing = await readdir(workspace, { recursive: true });
  for (const relative of listing.filter((name) => name.endsWith('.md'))) {
    const text = readFileSync(path.join(workspace, relative), 'utf8');
    texts.set(relative.split(path.sep).join('/'), text);
    insert.run(relative.split(path.sep).join('/'), text);
  }
  const byBm25 = whole.prepare<[string], { path: string }>(
    'SELECT path FROM f WHERE f MATCH ? ORDER BY bm25(f) LIMIT 5',
  );
  let ours = 0;
  let plain = 0;
  for (let q = 0; q < RANKING_QUERIES; q++) {
    const terms = [...new Set(Array.from({ length: 3 }, () => word(words, random)))];
    const held = (paths: string[]) =>
      paths.reduce((sum, file) => sum + termsHeld(texts.get(file) ?? '', terms), 0) / Math.max(1, paths.length);
    // A file may give several results; the first 5 distinct files are compared.
    const files = [...new Set((await index.search(terms.join(' '), { limit: 15 })).results.map((r) => r.path))];
    ours += held(files.slice(0, 5));
    plain += held(byBm25.all(terms.map((term) => `"${term}"`).join(' OR ')).map((r) => r.path));
  }
  whole.close();
  const [a, b] = [ours / RANKING_QUERIES, plain / RANKING_QUERIES];
  return [
    `memory ranking, ${label}: distinct query terms per file in the top 5 files, ${RANKING_QUERIES} 3-word queries (ours vs whole-file BM25)`,
    `${a.toFixed(2)} vs ${b.toFixed(2)}`,
    '>= whole-file BM25',
    a >= b,
  ];
}

const START_FILES = 7_000;
const START_DIRS = 700;
const WARM_ROUNDS = 10;
const COLD_ROUNDS = 3;
const EXEC_ROUNDS = 20;

/** A 7k-file workspace: 70 top directories of 10 subdirectories, 10 notes each, an hour old. */
function generateStartWorkspace(dataDir: string): void {
  const hourAgo = new Date(Date.now() - 3_600_000);
  for (let i = 0; i < START_FILES; i++) {
    const d = i % START_DIRS;
    const file = path.join(dataDir, 'workspace', `area-${Math.floor(d / 10)}`, `topic-${d % 10}`, `note-${i}.md`);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(
      file,
      `# Note ${i}
## Body
The note number ${i} about area ${d}: kestrel ${i % 97} heron ${i % 89}.
`,
    );
    utimesSync(file, hourAgo, hourAgo);
  }
}

/** What the old start did before anything else: read every directory and stat every entry. */
async function fullWalk(dir: string): Promise<number> {
  let files = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    await lstat(full);
    if (entry.isDirectory()) files += await fullWalk(full);
    else files += 1;
  }
  return files;
}

const ms = (samples: number[]) =>
  `median ${median(samples).toFixed(0)} ms, p99 ${percentile(samples, 99).toFixed(0)} ms`;

async function startRows(rows: BenchRow[]): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'legion-bench-memstart-'));
  const logger = createLogger({}, { write: () => undefined });
  try {
    generateStartWorkspace(dataDir);
    const walkSamples: number[] = [];
    for (let round = 0; round < WARM_ROUNDS; round++) {
      const begin = performance.now();
      await fullWalk(path.join(dataDir, 'workspace'));
      walkSamples.push(performance.now() - begin);
    }
    const floor = median(walkSamples);
    /** What the agent does at start: opens the index, watches the stored directories, syncs them, then checks every file. */
    const start = async () => {
      const begin = performance.now();
      const index = MemoryIndex.open(dataDir);
      const watcher = new WorkspaceWatcher(index, logger);
      watcher.start();
      const searchable = performance.now() - begin;
      await index.syncDirectories();
      const synced = performance.now() - begin;
      const verifyBegin = performance.now();
      await index.verifyFiles();
      return { searchable, synced, verified: performance.now() - verifyBegin, index, watcher };
    };
    const coldSamples: number[] = [];
    for (let round = 0; round < COLD_ROUNDS; round++) {
      for (const suffix of ['', '-wal', '-shm']) rmSync(path.join(dataDir, `agent.db${suffix}`), { force: true });
      const cold = await start();
      coldSamples.push(cold.synced);
      cold.watcher.close();
      cold.index.close();
    }
    rows.push([
      `memory index start, ${START_FILES} files in ${START_DIRS + 71} dirs, cold (empty agent.db: index all), ${COLD_ROUNDS} runs`,
      ms(coldSamples),
      'reported',
      true,
    ]);
    const samples = { searchable: [] as number[], synced: [] as number[], verified: [] as number[] };
    for (let round = 0; round < WARM_ROUNDS; round++) {
      const warm = await start();
      samples.searchable.push(warm.searchable);
      samples.synced.push(warm.synced);
      samples.verified.push(warm.verified);
      warm.watcher.close();
      warm.index.close();
    }
    rows.push([
      `memory index start, ${START_FILES} files, warm: searchable (open agent.db, watch the stored dirs), ${WARM_ROUNDS} runs`,
      ms(samples.searchable),
      'reported',
      true,
    ]);
    rows.push([
      `memory index start, ${START_FILES} files, warm: synced (stat dirs, read the changed ones), ${WARM_ROUNDS} runs`,
      `${ms(samples.synced)} (floor: the old full walk ${floor.toFixed(0)} ms, x${(median(samples.synced) / floor).toFixed(2)})`,
      '< 0.25x full walk',
      median(samples.synced) < floor * 0.25,
    ]);
    rows.push([
      `memory index start, ${START_FILES} files, warm: then in the background, stat every indexed file (edits made while stopped)`,
      ms(samples.verified),
      'reported',
      true,
    ]);

    const { index, watcher } = await start();
    const execSamples: number[] = [];
    for (let round = 0; round < EXEC_ROUNDS; round++) {
      const term = `ocelot${round}x`;
      execFileSync(
        'sh',
        ['-c', `echo "# Exec ${round}\nwritten by a shell: ${term}" > area-${round}/topic-1/exec-${round}.md`],
        {
          cwd: path.join(dataDir, 'workspace'),
        },
      );
      const written = performance.now();
      while ((await index.search(term)).results.length === 0) {
        if (performance.now() - written > 10_000) throw new Error(`exec-${round}.md not searchable after 10 s`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      execSamples.push(performance.now() - written);
    }
    watcher.close();
    index.close();
    rows.push([
      `memory: file written by exec (sh) to found by search, ${START_FILES}-file workspace, ${EXEC_ROUNDS} files`,
      ms(execSamples),
      '<= 1000 ms',
      percentile(execSamples, 99) <= 1_000,
    ]);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function memoryBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const chunks of SIZES) await measureSize(chunks, rows);
  await startRows(rows);
  return rows;
}
