// The bounds of a task run, as one pure decision per model answer: the iteration budget
// (model calls, retries of an invalid answer included) and the loop guard (the same
// tool with the same arguments, REPEAT_LIMIT times in a row). Invariants: inspect() is
// called once per answer of the task's own loop (never for compaction calls) before
// any of its tool calls runs, so a tripped guard means the repeated call never runs
// again; arguments compare by meaning (key order and spacing do not matter); an answer
// without tool calls ends a streak, since the model then tried something else.
import type { LlmChatResponse, ToolCall } from '../../shared/wire/llm.js';

export const REPEAT_LIMIT = 3;

export type AnswerDecision =
  | { action: 'continue' }
  | { action: 'iteration_limit'; iterations: number }
  | { action: 'loop_guard'; call: ToolCall; repeats: number };

export class TaskGuard {
  private used = 0;
  private lastSignature: string | null = null;
  private streak = 0;

  constructor(
    readonly maxIterations: number,
    private readonly repeatLimit = REPEAT_LIMIT,
  ) {}

  /** Model calls made so far. */
  get iterations(): number {
    return this.used;
  }

  get exhausted(): boolean {
    return this.used >= this.maxIterations;
  }

  inspect(response: LlmChatResponse): AnswerDecision {
    this.used += 1;
    const calls = response.message.tool_calls;
    if (calls.length === 0) {
      this.lastSignature = null;
      this.streak = 0;
      return { action: 'continue' };
    }
    for (const call of calls) {
      const signature = callSignature(call);
      this.streak = signature === this.lastSignature ? this.streak + 1 : 1;
      this.lastSignature = signature;
      if (this.streak >= this.repeatLimit) return { action: 'loop_guard', call, repeats: this.streak };
    }
    // The model still wants tools, but their results could not be shown to it again.
    if (this.exhausted) return { action: 'iteration_limit', iterations: this.used };
    return { action: 'continue' };
  }
}

/** The tool name and its arguments in a canonical form; text that is not JSON as sent. */
export function callSignature(call: ToolCall): string {
  const text = call.arguments.trim();
  // Models calling a tool without arguments send "" as often as "{}".
  if (text === '') return `${call.name} {}`;
  try {
    return `${call.name} ${canonicalJson(JSON.parse(text) as unknown)}`;
  } catch {
    return `${call.name} ${text}`;
  }
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
