// Memory index benchmarks, no Docker: generated markdown workspaces of about 1k, 10k
// and 50k chunks (seeded random words with a skewed frequency, headings, daily logs),
// full-index time, BM25 search latency (median, p99 over 200 queries), and the time
// to reindex one changed file in the 10k workspace. Everything is seeded, so two runs
// index the same text and ask the same queries.
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { MemoryIndex } from '../src/agent/memory/index.js';
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
        `memory reindex one changed file, ${label}, sync() (walk + stat + re-chunk), ${rounds}`,
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

export async function memoryBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const chunks of SIZES) await measureSize(chunks, rows);
  return rows;
}
