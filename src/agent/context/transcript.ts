// What compaction says to the model and keeps of its answers. Pure. Invariants: the
// transcript renders every message it is given in full (it is split, never cut, so no
// fact is lost before extraction); a summary message always starts with SUMMARY_MARKER
// and is the only kind of message that does; the facts appended to MEMORY.md are
// bullet lines under one dated `##` heading, and no fact line can start a heading.
import type { Message } from '../../shared/wire/llm.js';

export const FACTS_INSTRUCTIONS = [
  "You extract durable facts from an excerpt of a conversation between a user and an AI agent, before that excerpt is removed from the agent's context.",
  'A durable fact stays true and useful later: names, preferences, decisions, commitments, identifiers, paths, results of work, and things the user asked the agent to remember.',
  'Leave out small talk, greetings, and anything only relevant to the moment.',
  'Answer with one fact per line, each line starting with "- ". If there is nothing durable, answer exactly NONE.',
].join(' ');

export const SUMMARY_INSTRUCTIONS = [
  "You summarize an excerpt of a conversation between a user and an AI agent; the summary replaces the excerpt in the agent's context.",
  'Keep what the agent needs to continue: the goals, what was asked and answered, what was done with which tools and with what result, open questions and next steps.',
  'Write at most 200 words of plain prose, in the third person.',
].join(' ');

export const SUMMARY_MARKER = '[Summary of the earlier conversation';

export function summaryMessage(summary: string, replaced: number): Message {
  return {
    role: 'user',
    content: `${SUMMARY_MARKER}: it replaces ${replaced} older messages to keep the context window from filling; durable facts from them were saved to MEMORY.md]\n\n${summary.trim()}`,
  };
}

export function isSummaryMessage(message: Message): boolean {
  return message.role === 'user' && message.content.startsWith(SUMMARY_MARKER);
}

/** The messages as plain text, one block per message, tool calls and results included. */
export function renderTranscript(messages: readonly Message[]): string {
  return messages.map(renderMessage).join('\n\n');
}

function renderMessage(message: Message): string {
  switch (message.role) {
    case 'system':
      return `[system]\n${message.content}`;
    case 'user':
      return isSummaryMessage(message) ? `[earlier summary]\n${message.content}` : `[user]\n${message.content}`;
    case 'assistant': {
      const parts = message.content ? [`[assistant]\n${message.content}`] : [];
      for (const call of message.tool_calls ?? [])
        parts.push(`[assistant called the tool ${call.name} with ${call.arguments}]`);
      return parts.join('\n');
    }
    case 'tool':
      return `[result of ${message.name ?? 'a tool'}${message.is_error ? ', an error' : ''}]\n${message.content}`;
  }
}

/** Pieces of at most `maxChars`, cut between messages where possible. */
export function splitTranscript(text: string, maxChars: number): string[] {
  const pieces: string[] = [];
  let current = '';
  for (const block of text.split('\n\n')) {
    const joined = current ? `${current}\n\n${block}` : block;
    if (joined.length <= maxChars) {
      current = joined;
      continue;
    }
    if (current) pieces.push(current);
    current = block;
    while (current.length > maxChars) {
      pieces.push(current.slice(0, maxChars));
      current = current.slice(maxChars);
    }
  }
  if (current) pieces.push(current);
  return pieces;
}

const FACT_CAP_CHARS = 1_000;

/** The facts of an extraction answer as `- ` lines; none for NONE or an empty answer. */
export function normalizeFacts(answer: string): string[] {
  if (/^\s*none\.?\s*$/i.test(answer)) return [];
  return answer
    .split('\n')
    .map((line) =>
      line
        .trim()
        .replace(/^(#+\s*|[-*•]\s+|\d+[.)]\s+)/, '')
        .trim(),
    )
    .filter((line) => line !== '' && !/^none\.?$/i.test(line))
    .map((line) => `- ${line.length > FACT_CAP_CHARS ? `${line.slice(0, FACT_CAP_CHARS)}…` : line}`);
}

/** The block appended to MEMORY.md: a dated heading and the facts. */
export function factsSection(facts: readonly string[], time: Date): string {
  const stamp = `${time.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `## Facts saved ${stamp} (context compaction)\n\n${facts.join('\n')}\n`;
}
