// Hybrid search with a deterministic local embedder: a bag of words in 64 dimensions
// where a few synonyms share a dimension (so "feline" is near "cat"), every other word
// is hashed into the rest with a small weight. Real sqlite-vec, real files.
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as sqliteVec from 'sqlite-vec';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryIndex } from '../../src/agent/memory/index.js';
import type { Embedder } from '../../src/agent/memory/vectors.js';

const CONCEPTS: Record<string, number> = {
  cat: 0,
  feline: 0,
  kitty: 0,
  sofa: 1,
  couch: 1,
  settee: 1,
  price: 2,
  prices: 2,
  cost: 2,
  costs: 2,
  pricing: 2,
};
const RESERVED_DIMENSIONS = 3;

class BagOfWordsEmbedder implements Embedder {
  readonly calls: string[][] = [];
  failing = false;

  constructor(
    readonly model = 'fake-bow',
    readonly dimensions = 64,
  ) {}

  embed(texts: string[]): Promise<number[][]> {
    this.calls.push(texts);
    if (this.failing) return Promise.reject(new Error('mesh unreachable'));
    return Promise.resolve(texts.map((text) => this.vector(text)));
  }

  private vector(text: string): number[] {
    const vector = new Array<number>(this.dimensions).fill(0);
    for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
      const concept = CONCEPTS[word];
      if (concept !== undefined) vector[concept]! += 1;
      else vector[RESERVED_DIMENSIONS + (fnv1a(word) % (this.dimensions - RESERVED_DIMENSIONS))]! += 0.1;
    }
    return vector;
  }
}

function fnv1a(word: string): number {
  let hash = 0x811c9dc5;
  for (const char of word) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
  return hash;
}

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

function dataDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'legion-hybrid-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) write(dir, name, content);
  return dir;
}

function write(dir: string, name: string, content: string): void {
  const file = path.join(dir, 'workspace', name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

function open(dir: string, embedder: Embedder): MemoryIndex {
  const index = MemoryIndex.open(dir, { embedder });
  cleanups.unshift(() => index.close());
  return index;
}

function vectorState(dir: string): { rows: number; meta: unknown } {
  const db = new Database(path.join(dir, 'agent.db'), { readonly: true });
  sqliteVec.load(db);
  const rows = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM memory_vec').get()?.n ?? -1;
  const meta = db.prepare('SELECT model, dimensions FROM memory_vector_meta').get();
  db.close();
  return { rows, meta };
}

// shopping.md is short and names both query words, so BM25 ranks it first; pets.md is
// about cats on sofas throughout (in synonyms), so the vectors rank it first.
const FILES = {
  'shopping.md': '# Shopping\nCat and sofa: prices, costs, pricing, price list, cost tally, price tags.\n',
  'pets.md': '# Pets\nThe feline naps on the couch; the cat and the kitty share the sofa.\n',
  'dreams.md': '# Dreams\nA feline on a couch.\n',
  'garden.md': '# Garden\nTomatoes need water.\n',
};

describe('hybrid memory search', () => {
  it('reorders BM25 results by vector similarity and finds chunks by meaning alone', async () => {
    const dir = dataDir(FILES);
    const embedder = new BagOfWordsEmbedder();
    const index = open(dir, embedder);
    expect(index.mode).toEqual({ mode: 'hybrid' });
    expect((await index.sync()).vectors).toEqual({ status: 'ok', embedded: 4 });

    const textOnly = await index.search('cat sofa', { vectorWeight: 0 });
    expect(textOnly.mode).toBe('hybrid');
    expect(textOnly.results.map((r) => r.path)).toEqual(['shopping.md', 'pets.md']);

    const hybrid = await index.search('cat sofa');
    expect(hybrid.mode).toBe('hybrid');
    expect(hybrid.results.map((r) => r.path)).toEqual(['pets.md', 'shopping.md', 'dreams.md']);
    // dreams.md contains neither word: only its vector brought it in, worth at most the vector share.
    expect(hybrid.results[2]!.score).toBeGreaterThan(0.25);
    expect(hybrid.results[2]!.score).toBeLessThanOrEqual(0.3);

    const plain = MemoryIndex.open(dir);
    cleanups.unshift(() => plain.close());
    expect((await plain.search('cat sofa')).results.map((r) => r.path)).toEqual(['shopping.md', 'pets.md']);
  });

  it('embeds only the chunks of a changed file and drops the vectors of a deleted one', async () => {
    const dir = dataDir(FILES);
    const embedder = new BagOfWordsEmbedder();
    const index = open(dir, embedder);
    await index.sync();
    expect(vectorState(dir).rows).toBe(4);
    embedder.calls.length = 0;

    write(dir, 'garden.md', '# Garden\nTomatoes need water and a cat-proof fence.\n');
    expect(await index.sync()).toMatchObject({
      updated: ['garden.md'],
      unchanged: 3,
      vectors: { status: 'ok', embedded: 1 },
    });
    expect(embedder.calls).toEqual([['# Garden\nTomatoes need water and a cat-proof fence.']]);

    unlinkSync(path.join(dir, 'workspace', 'dreams.md'));
    expect(await index.sync()).toMatchObject({ removed: ['dreams.md'], vectors: { status: 'ok', embedded: 0 } });
    expect(vectorState(dir).rows).toBe(3);
    expect((await index.search('cat sofa')).results.map((r) => r.path)).not.toContain('dreams.md');
  });

  it('rebuilds the vectors when the model or its dimension changes', async () => {
    const dir = dataDir(FILES);
    const first = open(dir, new BagOfWordsEmbedder('fake-bow', 64));
    await first.sync();
    expect(vectorState(dir)).toEqual({ rows: 4, meta: { model: 'fake-bow', dimensions: 64 } });
    first.close();

    const same = new BagOfWordsEmbedder('fake-bow', 64);
    const restarted = open(dir, same);
    expect(await restarted.sync()).toMatchObject({ unchanged: 4, vectors: { status: 'ok', embedded: 0 } });
    expect(same.calls).toEqual([]);
    restarted.close();

    const smaller = new BagOfWordsEmbedder('fake-bow', 32);
    const second = open(dir, smaller);
    expect(await second.sync()).toMatchObject({ unchanged: 4, vectors: { status: 'ok', embedded: 4 } });
    expect(vectorState(dir)).toEqual({ rows: 4, meta: { model: 'fake-bow', dimensions: 32 } });
    expect((await second.search('cat sofa')).results[0]!.path).toBe('pets.md');
    second.close();

    const renamed = new BagOfWordsEmbedder('fake-bow-v2', 32);
    const third = open(dir, renamed);
    expect(await third.sync()).toMatchObject({ vectors: { status: 'ok', embedded: 4 } });
    expect(vectorState(dir).meta).toEqual({ model: 'fake-bow-v2', dimensions: 32 });
  });

  it('refuses vectors that do not have the configured dimension', async () => {
    const dir = dataDir(FILES);
    const liar: Embedder = {
      model: 'liar',
      dimensions: 16,
      embed: (texts) => new BagOfWordsEmbedder('liar', 64).embed(texts),
    };
    const index = open(dir, liar);
    expect((await index.sync()).vectors).toEqual({
      status: 'failed',
      embedded: 0,
      error: 'liar is configured for 16 dimensions but returned 64',
    });
    expect(await index.search('cat sofa')).toMatchObject({
      mode: 'bm25',
      reason: 'no chunk has a vector yet (embedding has not succeeded)',
      results: [{ path: 'shopping.md' }, { path: 'pets.md' }],
    });
  });

  it('keeps chunks pending when embedding fails, and falls back to BM25 (saying why) when the query cannot be embedded', async () => {
    const dir = dataDir(FILES);
    const embedder = new BagOfWordsEmbedder();
    const index = open(dir, embedder);
    await index.sync();
    embedder.failing = true;
    write(dir, 'garden.md', '# Garden\nA cat sleeps on the garden sofa.\n');
    expect(await index.sync()).toMatchObject({
      updated: ['garden.md'],
      vectors: { status: 'failed', embedded: 0, error: 'mesh unreachable' },
    });

    const fallback = await index.search('cat sofa');
    expect(fallback).toMatchObject({ mode: 'bm25', reason: 'the query could not be embedded: mesh unreachable' });
    expect(fallback.results.map((r) => r.path)).toEqual(['garden.md', 'shopping.md', 'pets.md']);

    embedder.failing = false;
    expect(await index.sync()).toMatchObject({ updated: [], unchanged: 4, vectors: { status: 'ok', embedded: 1 } });
    expect(vectorState(dir).rows).toBe(4);
    expect((await index.search('cat sofa')).mode).toBe('hybrid');
  });
});
