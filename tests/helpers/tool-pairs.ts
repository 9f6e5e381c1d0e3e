// Whether a message list keeps every tool call with its result, as providers require:
// each tool message answers a call of the assistant message just before the run of
// tool messages it belongs to, and every call is answered before the next other
// message. Works on the wire messages and on the fake provider's normalized view.

export interface PairedMessage {
  role: string;
  tool_calls?: readonly { id: string }[] | undefined;
  tool_call_id?: string | undefined;
}

/** A readable line per broken pair; empty when every call has its result and vice versa. */
export function toolPairingProblems(messages: readonly PairedMessage[]): string[] {
  const problems: string[] = [];
  let open: Set<string> | null = null;
  for (const [index, message] of messages.entries()) {
    if (message.role === 'tool') {
      const id = message.tool_call_id ?? '';
      if (!open?.delete(id))
        problems.push(`message ${index}: the result of ${id || '(no id)'} is not right after its call`);
      continue;
    }
    if (open && open.size > 0)
      problems.push(`message ${index}: calls ${[...open].join(', ')} have no result before it`);
    open =
      message.role === 'assistant' && message.tool_calls?.length
        ? new Set(message.tool_calls.map((call) => call.id))
        : null;
  }
  if (open && open.size > 0) problems.push(`the list ends with unanswered calls ${[...open].join(', ')}`);
  return problems;
}
