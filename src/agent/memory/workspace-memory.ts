// The agent's memory as the loop uses it: memory_save and every chat turn append to
// today's log (memory/YYYY-MM-DD.md, UTC) durably and re-index that one file; recall
// searches for a session's first message. A failing index never fails a chat turn:
// the log line is on disk first, and the next sync picks it up. Embeddings follow the
// runtime config the mesh sends at each session start (configure), never block a turn,
// and a failed embedding only leaves search in BM25 mode until a later index run succeeds.
// A search first applies the file changes the watcher has received (settle), and a file
// a tool wrote is indexed at once (noteWrite), so what was just written is found.
import path from 'node:path';
import type { Logger } from '../../shared/logging.js';
import { DEFAULT_VECTOR_WEIGHT, type AgentRuntimeConfig, type MemorySearchSettings } from '../../shared/wire/agent.js';
import { appendDurably } from '../workspace/durable-files.js';
import type { MemoryIndex } from './index.js';
import type { SearchOptions, SearchResponse } from './search.js';
import type { Embedder } from './vectors.js';

/** File changes received but maybe not yet in the index (the agent's WorkspaceWatcher). */
export interface PendingChanges {
  settle(): Promise<void>;
}

/** Makes the embedder of a `provider/model` embedding model (in the agent: a MeshEmbedder). */
export type EmbedderFactory = (model: string) => Embedder;

const RECALL_HITS = 4;
const RECALL_SNIPPET_CHARS = 400;
const LOGGED_TEXT_CAP = 4000;

export function dailyLogPath(now: Date): string {
  return `memory/${now.toISOString().slice(0, 10)}.md`;
}

function clock(now: Date): string {
  return now.toISOString().slice(11, 19);
}

function cap(text: string): string {
  return text.length > LOGGED_TEXT_CAP ? `${text.slice(0, LOGGED_TEXT_CAP)}… [cut]` : text;
}

export function formatRecall(response: SearchResponse): string | null {
  if (response.results.length === 0) return null;
  const hits = response.results.map(
    (r) =>
      `- ${r.path}:${r.start_line}-${r.end_line}${r.heading ? ` (${r.heading})` : ''}\n  ${r.snippet.replace(/\n/g, '\n  ')}`,
  );
  return `## From your memory (searched for this session's first message)\n${hits.join('\n')}`;
}

export class WorkspaceMemory {
  private readonly index: MemoryIndex;
  private readonly workspaceDir: string;
  private readonly logger: Logger;
  private readonly embedderFor: EmbedderFactory;
  private settings: MemorySearchSettings = { vector_weight: DEFAULT_VECTOR_WEIGHT, recency_half_life_days: null };
  /** The model of the embedder attached to the index; null: none. */
  private embeddingModel: string | null = null;

  constructor(
    index: MemoryIndex,
    workspaceDir: string,
    logger: Logger,
    embedderFor: EmbedderFactory,
    private readonly changes: PendingChanges | null = null,
  ) {
    this.index = index;
    this.workspaceDir = workspaceDir;
    this.logger = logger;
    this.embedderFor = embedderFor;
  }

  /** A tool wrote `file` (absolute): a markdown file inside the workspace is indexed now, without waiting for its event. */
  noteWrite(file: string): void {
    const relative = path.relative(this.workspaceDir, file);
    if (relative.startsWith('..') || path.isAbsolute(relative) || !relative.toLowerCase().endsWith('.md')) return;
    void this.reindex(file);
  }

  /** Applies the memory part of a runtime config from the mesh: search weights at once;
   *  a changed embedding model is attached to the index, followed by a sync that embeds
   *  every pending chunk. Callers need not wait: searches meanwhile run on what is
   *  there. The promise ends when that work has, and never rejects (failures are logged). */
  async configure(config: Pick<AgentRuntimeConfig, 'embedding_model' | 'memory'>): Promise<void> {
    this.settings = config.memory;
    const model = config.embedding_model;
    if (model === this.embeddingModel) return;
    this.embeddingModel = model;
    try {
      await this.index.setEmbedder(model === null ? null : this.embedderFor(model));
      if (model === null) {
        this.logger.info(
          { event: 'memory_embeddings_off' },
          'memory search is BM25 only: no embedding model is configured',
        );
        return;
      }
      const { vectors } = await this.index.sync();
      if (vectors.status === 'off') {
        this.logger.warn(
          { event: 'memory_embeddings_unavailable', model, reason: vectors.reason },
          `memory search stays BM25: ${vectors.reason}`,
        );
      } else if (vectors.status === 'failed') {
        this.logger.warn(
          { event: 'memory_embedding_failed', model, embedded: vectors.embedded, error: vectors.error },
          'embedding memory failed; search stays BM25 until a later index run succeeds',
        );
      } else {
        this.logger.info(
          { event: 'memory_embeddings_on', model, embedded: vectors.embedded },
          `memory search is hybrid with ${model}`,
        );
      }
    } catch (err) {
      this.logger.warn(
        { event: 'memory_embedding_failed', model, err },
        'could not switch memory embeddings; the next session retries',
      );
      // So the next configure tries again rather than taking the model as attached.
      this.embeddingModel = null;
    }
  }

  async search(query: string, limit?: number): Promise<SearchResponse> {
    await this.changes?.settle();
    return this.index.search(query, { ...this.searchOptions(), ...(limit === undefined ? {} : { limit }) });
  }

  /** Appends a timestamped entry to today's log and indexes it; returns where it went. */
  async save(text: string, now = new Date()): Promise<string> {
    const file = dailyLogPath(now);
    await appendDurably(path.join(this.workspaceDir, file), `\n## ${clock(now)} saved\n${text.trim()}\n`);
    await this.reindex(file);
    return file;
  }

  async logTurn(userMessage: string, reply: string, now = new Date()): Promise<void> {
    const file = dailyLogPath(now);
    try {
      await appendDurably(
        path.join(this.workspaceDir, file),
        `\n## ${clock(now)} chat\n**user:** ${cap(userMessage)}\n\n**agent:** ${cap(reply)}\n`,
      );
      await this.reindex(file);
    } catch (err) {
      this.logger.warn({ event: 'daily_log_failed', err }, 'could not append the chat turn to the daily log');
    }
  }

  /** The best hits for a session's first message, as a prompt section, or null. */
  async recall(firstMessage: string): Promise<string | null> {
    try {
      await this.changes?.settle();
      return formatRecall(
        await this.index.search(firstMessage, {
          ...this.searchOptions(),
          limit: RECALL_HITS,
          snippetChars: RECALL_SNIPPET_CHARS,
        }),
      );
    } catch (err) {
      this.logger.warn({ event: 'recall_failed', err }, 'memory recall failed');
      return null;
    }
  }

  private searchOptions(): SearchOptions {
    const halfLife = this.settings.recency_half_life_days;
    return {
      vectorWeight: this.settings.vector_weight,
      ...(halfLife === null ? {} : { recencyHalfLifeDays: halfLife }),
    };
  }

  private async reindex(file: string): Promise<void> {
    try {
      await this.index.indexFile(file);
    } catch (err) {
      this.logger.warn({ event: 'memory_index_failed', file, err }, 'could not index; the next sync will');
    }
  }
}
