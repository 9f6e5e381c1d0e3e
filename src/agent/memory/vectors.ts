// Chunk embeddings in a sqlite-vec vec0 table (cosine distance). Invariants: the table
// always holds vectors of one model and one dimension, recorded in memory_vector_meta;
// a different model or dimension drops and recreates it and marks every chunk pending,
// so vectors of two models are never compared; a chunk is marked embedded only in the
// transaction that stores its vector; a failed embedding call leaves chunks pending
// for the next sync instead of failing the sync. Callers run one index operation at a
// time (MemoryIndex queues them), so no chunk is deleted while its batch is embedded.
// vec0 wants BigInt rowids on insert.
import type { Db } from './db.js';

/** Turns texts into vectors. The agent's real one calls the mesh, which tracks the cost. */
export interface Embedder {
  model: string;
  dimensions?: number;
  embed(texts: string[]): Promise<number[][]>;
}

export type EmbedReport =
  | { status: 'off'; reason: string }
  | { status: 'ok'; embedded: number }
  | { status: 'failed'; embedded: number; error: string };

export interface VectorHit {
  id: number;
  distance: number;
}

const VEC_TABLE = 'memory_vec';
// One embedding request per this many chunks: large enough to amortize a mesh round
// trip, small enough that a failure loses little work.
export const EMBED_BATCH_SIZE = 64;

interface Meta {
  model: string;
  dimensions: number;
}

function vecTableExists(db: Db): boolean {
  return (
    db
      .prepare<[string], { n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?")
      .get(VEC_TABLE)?.n === 1
  );
}

/** Deletes the vectors of chunks being removed; call inside the transaction that deletes the chunks, only with sqlite-vec loaded. */
export function deleteVectors(db: Db, ids: readonly number[]): void {
  if (ids.length === 0 || !vecTableExists(db)) return;
  const remove = db.prepare(`DELETE FROM ${VEC_TABLE} WHERE rowid = ?`);
  for (const id of ids) remove.run(BigInt(id));
}

/** A chunk as the embedder sees it: its heading trail for context, its own heading line not repeated. */
export function embeddingText(heading: string, text: string): string {
  if (!heading) return text;
  const newline = text.indexOf('\n');
  const firstLine = newline < 0 ? text : text.slice(0, newline);
  const body = firstLine.trim() !== '' && heading.endsWith(firstLine.trim()) ? text.slice(firstLine.length + 1) : text;
  return `${heading}\n${body}`;
}

export class VectorStore {
  constructor(
    private readonly db: Db,
    readonly embedder: Embedder,
  ) {
    const meta = this.meta();
    const wantedDimensions = embedder.dimensions ?? meta?.dimensions;
    if (meta && (meta.model !== embedder.model || meta.dimensions !== wantedDimensions || !vecTableExists(db))) {
      this.reset();
    } else if (meta) {
      // Vectors orphaned while sqlite-vec was not loaded (chunk deletes could not reach them).
      db.exec(`DELETE FROM ${VEC_TABLE} WHERE rowid NOT IN (SELECT id FROM memory_chunks)`);
    }
  }

  /** The dimension of the stored vectors; null until the first vector is stored. */
  get dimensions(): number | null {
    return this.meta()?.dimensions ?? null;
  }

  /** Embeds every pending chunk, a batch at a time. */
  async embedPending(): Promise<EmbedReport> {
    const pending = this.db.prepare<[number], { id: number; heading: string; text: string }>(
      'SELECT id, heading, text FROM memory_chunks WHERE embedded = 0 ORDER BY id LIMIT ?',
    );
    let embedded = 0;
    for (;;) {
      const batch = pending.all(EMBED_BATCH_SIZE);
      if (batch.length === 0) return { status: 'ok', embedded };
      try {
        const vectors = await this.embed(batch.map((chunk) => embeddingText(chunk.heading, chunk.text)));
        // Only the first batch of a run may restart the table, so an embedder whose
        // output size keeps changing fails instead of looping forever.
        embedded += this.store(
          batch.map((chunk) => chunk.id),
          vectors,
          embedded === 0,
        );
      } catch (err) {
        return { status: 'failed', embedded, error: err instanceof Error ? err.message : String(err) };
      }
    }
  }

  async embedQuery(text: string): Promise<Float32Array> {
    const [vector] = await this.embed([text]);
    if (!vector) throw new Error('the embedder returned no vector for the query');
    const dimensions = this.dimensions;
    if (dimensions !== null && vector.length !== dimensions) {
      throw new Error(
        `the query vector has ${vector.length} dimensions, the index ${dimensions}; a sync rebuilds the index`,
      );
    }
    return vector;
  }

  /** The k nearest chunks to a query vector. */
  nearest(query: Float32Array, k: number): VectorHit[] {
    if (this.dimensions === null) return [];
    return this.db
      .prepare<[Float32Array, number], VectorHit>(
        `SELECT rowid AS id, distance FROM ${VEC_TABLE} WHERE embedding MATCH ? AND k = ?`,
      )
      .all(query, k);
  }

  /** Distances from a query vector to given chunks; chunks without a vector are absent from the result. */
  distances(query: Float32Array, ids: readonly number[]): VectorHit[] {
    if (this.dimensions === null || ids.length === 0) return [];
    return this.db
      .prepare<[Float32Array, string], VectorHit>(
        `SELECT rowid AS id, vec_distance_cosine(embedding, ?) AS distance FROM ${VEC_TABLE} WHERE rowid IN (SELECT value FROM json_each(?))`,
      )
      .all(query, JSON.stringify(ids));
  }

  private async embed(texts: string[]): Promise<Float32Array[]> {
    const vectors = await this.embedder.embed(texts);
    if (vectors.length !== texts.length)
      throw new Error(`the embedder returned ${vectors.length} vectors for ${texts.length} texts`);
    return vectors.map((vector) => {
      if (vector.length === 0 || !vector.every(Number.isFinite))
        throw new Error('the embedder returned an empty or non-numeric vector');
      return Float32Array.from(vector);
    });
  }

  private store(ids: readonly number[], vectors: readonly Float32Array[], mayRestart: boolean): number {
    const dimensions = vectors[0]?.length ?? 0;
    if (vectors.some((vector) => vector.length !== dimensions))
      throw new Error('the embedder returned vectors of different dimensions in one batch');
    // Trusting the vectors over a wrong declaration would rebuild the table at every start.
    const declared = this.embedder.dimensions;
    if (declared !== undefined && declared !== dimensions)
      throw new Error(`${this.embedder.model} is configured for ${declared} dimensions but returned ${dimensions}`);
    const stored = this.meta()?.dimensions;
    if (stored !== undefined && stored !== dimensions) {
      if (!mayRestart)
        throw new Error(`the embedder changed its vector size from ${stored} to ${dimensions} during one sync`);
      // The model changed its output size under the same name: start over rather than mix.
      this.reset();
    }
    this.db.transaction(() => {
      if (!this.meta()) this.create(dimensions);
      const insert = this.db.prepare(`INSERT OR REPLACE INTO ${VEC_TABLE} (rowid, embedding) VALUES (?, ?)`);
      const mark = this.db.prepare('UPDATE memory_chunks SET embedded = 1 WHERE id = ?');
      vectors.forEach((vector, index) => {
        const id = ids[index] ?? 0;
        insert.run(BigInt(id), vector);
        mark.run(id);
      });
    })();
    return vectors.length;
  }

  private create(dimensions: number): void {
    this.db.exec(
      `CREATE VIRTUAL TABLE ${VEC_TABLE} USING vec0 (embedding float[${dimensions}] distance_metric=cosine)`,
    );
    this.db
      .prepare('INSERT INTO memory_vector_meta (id, model, dimensions) VALUES (1, ?, ?)')
      .run(this.embedder.model, dimensions);
  }

  private reset(): void {
    this.db.transaction(() => {
      this.db.exec(`DROP TABLE IF EXISTS ${VEC_TABLE}`);
      this.db.exec('DELETE FROM memory_vector_meta');
      this.db.exec('UPDATE memory_chunks SET embedded = 0 WHERE embedded = 1');
    })();
  }

  private meta(): Meta | null {
    return this.db.prepare<[], Meta>('SELECT model, dimensions FROM memory_vector_meta WHERE id = 1').get() ?? null;
  }
}
