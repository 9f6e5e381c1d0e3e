// WorkspaceMemory.configure, as the agent applies the runtime config the mesh sends at a
// session start: an embedding model turns search hybrid once a background sync embedded
// the workspace; a failing embedder leaves search in BM25 mode with the reason and is
// retried by the next index run; vector weight and recency decay reach every search.
// Real agent.db with sqlite-vec, real files, the fake provider's embedding function.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryIndex } from '../../src/agent/memory/index.js';
import type { Embedder } from '../../src/agent/memory/vectors.js';
import { WorkspaceMemory } from '../../src/agent/memory/workspace-memory.js';
import { createLogger } from '../../src/shared/logging.js';
import type { MemorySearchSettings } from '../../src/shared/wire/agent.js';
import { fakeEmbedding } from '../fakes/fake-embeddings.js';

class LocalEmbedder implements Embedder {
  readonly calls: string[][] = [];
  failing = false;

  constructor(readonly model: string) {}

  embed(texts: string[]): Promise<number[][]> {
    this.calls.push(texts);
    if (this.failing) return Promise.reject(new Error('openai returned 503: overloaded'));
    return Promise.resolve(texts.map(fakeEmbedding));
  }
}

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

const SETTINGS: MemorySearchSettings = { vector_weight: 0.3, recency_half_life_days: null };

function setUp(files: Record<string, string>, loadVectors = true) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'legion-memory-config-'));
  const workspaceDir = path.join(dataDir, 'workspace');
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(workspaceDir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  const index = MemoryIndex.open(dataDir, { loadVectors });
  cleanups.push(() => {
    index.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger(
    {},
    { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const embedders: LocalEmbedder[] = [];
  const memory = new WorkspaceMemory(index, workspaceDir, logger, (model) => {
    const embedder = new LocalEmbedder(model);
    embedders.push(embedder);
    return embedder;
  });
  return { index, memory, logs, embedders };
}

const PETS = { 'MEMORY.md': "# Pets\nMy cat's name is Whiskerino and she sleeps on the sofa.\n" };

describe('WorkspaceMemory.configure', () => {
  it('attaches the embedding model, embeds the workspace in the background, and then searches hybrid', async () => {
    const { index, memory, embedders } = setUp(PETS);
    await index.sync();
    expect(await memory.search('cat name')).toMatchObject({ mode: 'bm25', reason: 'no embedding model is configured' });

    await memory.configure({ embedding_model: 'openai/text-embedding-3-small', memory: SETTINGS });
    expect(embedders.map((e) => e.model)).toEqual(['openai/text-embedding-3-small']);
    expect(embedders[0]?.calls.flat().join('\n')).toContain('Whiskerino');
    const found = await memory.search('cat name');
    expect(found.mode).toBe('hybrid');
    expect(found.results[0]?.snippet).toContain('Whiskerino');

    // The same model again (every session start) changes nothing and embeds nothing.
    const callsBefore = embedders[0]?.calls.length;
    await memory.configure({ embedding_model: 'openai/text-embedding-3-small', memory: SETTINGS });
    expect(embedders).toHaveLength(1);
    expect(embedders[0]?.calls.length).toBe(callsBefore);
  });

  it('stays in BM25 mode with the reason while embedding fails, and recovers at the next index run', async () => {
    const { memory, logs, embedders } = setUp(PETS);
    const configured = memory.configure({ embedding_model: 'openai/text-embedding-3-small', memory: SETTINGS });
    const embedder = embedders[0];
    if (!embedder) throw new Error('no embedder was made');
    embedder.failing = true;
    await expect(configured).resolves.toBeUndefined();
    expect(logs).toContainEqual(
      expect.objectContaining({ event: 'memory_embedding_failed', error: 'openai returned 503: overloaded' }),
    );
    const during = await memory.search('cat name');
    expect(during).toMatchObject({ mode: 'bm25', reason: 'no chunk has a vector yet (embedding has not succeeded)' });
    expect(during.results[0]?.snippet).toContain('Whiskerino');

    embedder.failing = false;
    await memory.save('The dog is called Rex.');
    const after = await memory.search('cat name');
    expect(after.mode).toBe('hybrid');
    expect(after.results[0]?.snippet).toContain('Whiskerino');
  });

  it('says why when the query cannot be embedded, and turns vectors off when the model is removed', async () => {
    const { memory, embedders } = setUp(PETS);
    await memory.configure({ embedding_model: 'openai/text-embedding-3-small', memory: SETTINGS });
    const embedder = embedders[0];
    if (!embedder) throw new Error('no embedder was made');
    embedder.failing = true;
    expect(await memory.search('cat name')).toMatchObject({
      mode: 'bm25',
      reason: 'the query could not be embedded: openai returned 503: overloaded',
    });

    await memory.configure({ embedding_model: null, memory: SETTINGS });
    expect(await memory.search('cat name')).toMatchObject({ mode: 'bm25', reason: 'no embedding model is configured' });
  });

  it('stays BM25 with the reason, embedding nothing, when sqlite-vec is not available', async () => {
    const { memory, logs, embedders } = setUp(PETS, false);
    await memory.configure({ embedding_model: 'openai/text-embedding-3-small', memory: SETTINGS });
    expect(await memory.search('cat name')).toMatchObject({ mode: 'bm25', reason: 'sqlite-vec disabled' });
    expect(embedders[0]?.calls).toEqual([]);
    expect(logs).toContainEqual(
      expect.objectContaining({ event: 'memory_embeddings_unavailable', reason: 'sqlite-vec disabled' }),
    );
  });

  it('applies vector_weight to hybrid scores', async () => {
    const { memory, embedders } = setUp(PETS);
    await memory.configure({
      embedding_model: 'openai/text-embedding-3-small',
      memory: { vector_weight: 0, recency_half_life_days: null },
    });
    // Weight 0: the score is the normalized BM25 score alone, 1 for the best hit.
    expect((await memory.search('cat name')).results[0]?.score).toBe(1);
    await memory.configure({
      embedding_model: 'openai/text-embedding-3-small',
      memory: { vector_weight: 1, recency_half_life_days: null },
    });
    // Weight 1: the cosine similarity of the query and the chunk as it was embedded
    // (both vectors have length 1, so it is their dot product).
    const chunk = embedders[0]?.calls.flat().find((text) => text.includes('Whiskerino')) ?? '';
    const query = fakeEmbedding('cat name');
    const similarity = fakeEmbedding(chunk).reduce((sum, value, i) => sum + value * (query[i] ?? 0), 0);
    expect(similarity).toBeLessThan(0.9);
    expect((await memory.search('cat name')).results[0]?.score).toBeCloseTo(similarity, 2);
  });

  it('decays older daily logs when recency_half_life_days is set', async () => {
    const day = (offset: number) => new Date(Date.now() - offset * 86_400_000).toISOString().slice(0, 10);
    const { index, memory } = setUp({
      [`memory/${day(10)}.md`]: '## note\nThe deploy key rotates monthly.\n',
      [`memory/${day(0)}.md`]: '## note\nThe deploy key rotates monthly.\n',
    });
    await index.sync();
    const flat = (await memory.search('deploy key')).results.map((r) => r.score);
    expect(flat[0]).toBe(flat[1]);

    await memory.configure({ embedding_model: null, memory: { vector_weight: 0.3, recency_half_life_days: 5 } });
    const decayed = (await memory.search('deploy key')).results;
    expect(decayed[0]?.path).toBe(`memory/${day(0)}.md`);
    // Ten days at a five-day half-life: a quarter of the score, give or take today's hours.
    expect((decayed[1]?.score ?? 0) / (decayed[0]?.score ?? 1)).toBeCloseTo(0.25, 1);
  });
});
