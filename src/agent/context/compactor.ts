// Write then compact: the facts of the older messages go to MEMORY.md, on disk, before
// a summary replaces those messages. Invariants: compact() never drops a message when
// the fact extraction or the MEMORY.md write fails (it reports `skipped` and the caller
// goes on with the full history, trying again at its next request); a failed summary
// after the facts are saved still compacts, with a summary that says so; a cancelled
// turn (aborted) propagates; the model is asked without tools, through the mesh like
// every other call, and the usage of these calls is reported through onUsage.
import path from 'node:path';
import { LegionError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logging.js';
import type { Message, Usage } from '../../shared/wire/llm.js';
import type { LlmClient } from '../mesh-client.js';
import { appendDurably, readTextIfExists, separatorAfter, withFileLock } from '../workspace/durable-files.js';
import type { CompactionPlan } from './compaction.js';
import { CHARS_PER_TOKEN } from './tokens.js';
import {
  FACTS_INSTRUCTIONS,
  SUMMARY_INSTRUCTIONS,
  factsSection,
  normalizeFacts,
  renderTranscript,
  splitTranscript,
  summaryMessage,
} from './transcript.js';

const MEMORY_FILE = 'MEMORY.md';

/** The part of a logger a turn uses: the agent's pino logger or a request's. */
export type TurnLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** Share of the window one extraction or summary request may fill with transcript, so
 *  the instructions and the answer fit beside it even when the estimate runs low. */
const TRANSCRIPT_SHARE = 0.5;
const ANSWER_MAX_TOKENS = 1_024;

export interface CompactorOptions {
  llm: LlmClient;
  model: string;
  window: number;
  workspaceDir: string;
  logger: TurnLogger;
  trace: string | null;
  signal: AbortSignal;
  onUsage: (usage: Usage) => void;
}

export type CompactionOutcome =
  | { status: 'compacted'; messages: Message[]; keepFrom: number; facts: number }
  | { status: 'skipped'; reason: 'facts_failed' | 'memory_write_failed' };

export class Compactor {
  constructor(private readonly options: CompactorOptions) {}

  async compact(plan: CompactionPlan, why: 'threshold' | 'overflow'): Promise<CompactionOutcome> {
    const { logger } = this.options;
    const pieceChars = Math.max(2_000, Math.floor(this.options.window * CHARS_PER_TOKEN * TRANSCRIPT_SHARE));
    const pieces = splitTranscript(renderTranscript(plan.older), pieceChars);

    const facts: string[] = [];
    try {
      for (const piece of pieces) facts.push(...normalizeFacts(await this.ask(FACTS_INSTRUCTIONS, piece)));
    } catch (err) {
      this.rethrowIfCancelled(err);
      logger.warn(
        { event: 'context_facts_failed', why, err: describe(err) },
        'could not extract facts before compacting; keeping the full history for now',
      );
      return { status: 'skipped', reason: 'facts_failed' };
    }

    const memoryFile = path.join(this.options.workspaceDir, MEMORY_FILE);
    try {
      if (facts.length > 0) await appendFacts(memoryFile, facts);
    } catch (err) {
      logger.error(
        { event: 'context_memory_write_failed', file: memoryFile, err: describe(err) },
        'could not save facts to MEMORY.md; keeping the full history',
      );
      return { status: 'skipped', reason: 'memory_write_failed' };
    }

    let summary: string;
    try {
      const parts: string[] = [];
      for (const piece of pieces) parts.push((await this.ask(SUMMARY_INSTRUCTIONS, piece)).trim());
      summary = parts.filter((part) => part !== '').join('\n\n') || '(the model gave an empty summary)';
    } catch (err) {
      this.rethrowIfCancelled(err);
      logger.warn(
        { event: 'context_summary_failed', why, err: describe(err) },
        'could not summarize; compacting with a placeholder (the facts are saved)',
      );
      summary = `(no summary: the summary request failed. ${facts.length} facts from these messages are in MEMORY.md.)`;
    }

    logger.info(
      { event: 'context_compacted', why, dropped: plan.older.length, kept: plan.kept.length, facts: facts.length },
      `compacted the conversation: ${plan.older.length} older messages summarized, ${facts.length} facts saved to MEMORY.md`,
    );
    return {
      status: 'compacted',
      messages: [summaryMessage(summary, plan.older.length), ...plan.kept],
      keepFrom: plan.keepFrom,
      facts: facts.length,
    };
  }

  private async ask(instructions: string, transcript: string): Promise<string> {
    const { llm, model, signal, trace } = this.options;
    const response = await llm.llmChat(
      {
        model,
        messages: [
          { role: 'system', content: instructions },
          { role: 'user', content: transcript },
        ],
        max_tokens: ANSWER_MAX_TOKENS,
      },
      { signal, trace },
    );
    this.options.onUsage(response.usage);
    return response.message.content;
  }

  private rethrowIfCancelled(err: unknown): void {
    if (this.options.signal.aborted || (err instanceof LegionError && err.code === 'aborted')) throw err;
  }
}

async function appendFacts(memoryFile: string, facts: readonly string[]): Promise<void> {
  await withFileLock(memoryFile, async () => {
    const existing = await readTextIfExists(memoryFile);
    await appendDurably(memoryFile, `${separatorAfter(existing)}${factsSection(facts, new Date())}`);
  });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
