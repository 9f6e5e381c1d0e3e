// The agent's real Embedder: texts go to the mesh (POST /mesh/llm/embeddings), which calls
// the provider with a key the agent never sees and books the cost against the agent's
// budget. Invariants: every request names this embedder's model, so a config change
// between two batches cannot mix vectors of two models under one name; a request holds
// at most MAX_EMBEDDING_INPUTS texts, each cut to MAX_EMBEDDING_INPUT_CHARS (its start
// kept: a chunk opens with its heading trail) and never empty, so a chunk the mesh would
// refuse cannot block the pending queue forever; vectors come back in input order.
import { LegionError } from '../../shared/errors.js';
import { MAX_EMBEDDING_INPUT_CHARS, MAX_EMBEDDING_INPUTS } from '../../shared/wire/llm.js';
import type { EmbeddingsClient } from '../mesh-client.js';
import type { Embedder } from './vectors.js';

export class MeshEmbedder implements Embedder {
  constructor(
    private readonly client: EmbeddingsClient,
    readonly model: string,
  ) {}

  async embed(texts: string[]): Promise<number[][]> {
    const vectors: number[][] = [];
    for (let start = 0; start < texts.length; start += MAX_EMBEDDING_INPUTS) {
      const input = texts.slice(start, start + MAX_EMBEDDING_INPUTS).map(embeddableText);
      const response = await this.client.llmEmbeddings({ model: this.model, input });
      if (response.model !== this.model) {
        throw new LegionError(
          'mesh_bad_response',
          `asked the mesh for ${this.model} embeddings, got ${response.model}`,
        );
      }
      vectors.push(...response.vectors);
    }
    return vectors;
  }
}

/** The text as the mesh accepts it: at most MAX_EMBEDDING_INPUT_CHARS, not cutting a
 *  surrogate pair in half, and never empty (providers refuse an empty input). */
export function embeddableText(text: string): string {
  let cut = text.length > MAX_EMBEDDING_INPUT_CHARS ? text.slice(0, MAX_EMBEDDING_INPUT_CHARS) : text;
  if (cut.length < text.length && /[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return cut === '' ? ' ' : cut;
}
