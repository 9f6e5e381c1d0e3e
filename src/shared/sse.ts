// Server-sent events as legion uses them: one JSON object per `data:` line, events
// separated by a blank line. The reader never throws on a malformed event; the caller
// validates each parsed object with its own schema.

export function encodeSse(event: unknown): string {
  return `data: ${JSON.stringify(event)}\n\n`;
}

/** Yields the parsed JSON of each event in a byte stream (a fetch body or a Node stream). */
export async function* readSse(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let boundary = buffer.indexOf('\n\n');
    while (boundary !== -1) {
      const raw = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      const data = raw
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      if (data) yield parseJson(data);
      boundary = buffer.indexOf('\n\n');
    }
  }
}

function parseJson(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return { type: 'error', error: { code: 'bad_event', message: `unreadable server event: ${data.slice(0, 200)}` } };
  }
}
