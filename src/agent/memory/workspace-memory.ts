// The agent's memory as the loop uses it: memory_save and every chat turn append to
// today's log (memory/YYYY-MM-DD.md, UTC) durably and re-index that one file; recall
// searches for a session's first message. A failing index never fails a chat turn:
// the log line is on disk first, and the next sync picks it up.
import path from 'node:path';
import type { Logger } from '../../shared/logging.js';
import { appendDurably } from '../workspace/durable-files.js';
import type { MemoryIndex } from './index.js';
import type { SearchResponse } from './search.js';

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
  const hits = response.results.map((r) => `- ${r.path}:${r.start_line}-${r.end_line}${r.heading ? ` (${r.heading})` : ''}\n  ${r.snippet.replace(/\n/g, '\n  ')}`);
  return `## From your memory (searched for this session's first message)\n${hits.join('\n')}`;
}

export class WorkspaceMemory {
  private readonly index: MemoryIndex;
  private readonly workspaceDir: string;
  private readonly logger: Logger;

  constructor(index: MemoryIndex, workspaceDir: string, logger: Logger) {
    this.index = index;
    this.workspaceDir = workspaceDir;
    this.logger = logger;
  }

  search(query: string, limit?: number): Promise<SearchResponse> {
    return this.index.search(query, limit === undefined ? {} : { limit });
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
      await appendDurably(path.join(this.workspaceDir, file), `\n## ${clock(now)} chat\n**user:** ${cap(userMessage)}\n\n**agent:** ${cap(reply)}\n`);
      await this.reindex(file);
    } catch (err) {
      this.logger.warn({ event: 'daily_log_failed', err }, 'could not append the chat turn to the daily log');
    }
  }

  /** The best hits for a session's first message, as a prompt section, or null. */
  async recall(firstMessage: string): Promise<string | null> {
    try {
      return formatRecall(await this.index.search(firstMessage, { limit: RECALL_HITS, snippetChars: RECALL_SNIPPET_CHARS }));
    } catch (err) {
      this.logger.warn({ event: 'recall_failed', err }, 'memory recall failed');
      return null;
    }
  }

  private async reindex(file: string): Promise<void> {
    try {
      await this.index.indexFile(file);
    } catch (err) {
      this.logger.warn({ event: 'memory_index_failed', file, err }, 'could not index; the next sync will');
    }
  }
}
