// Types shared by the scripted fake LLM provider and its two wire formats. A format
// module turns a raw provider request into the normalized view tests assert on, and a
// FakeAnswer back into that provider's real response bodies and stream frames.

export interface FakeToolCall {
  id: string;
  name: string;
  /** JSON text of the arguments. */
  arguments: string;
}

export interface FakeMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  tool_calls?: FakeToolCall[];
  tool_call_id?: string;
  /** Anthropic's tool_result is_error flag; OpenAI has none. */
  is_error?: boolean;
  /** Pictures: OpenAI's image_url parts (data URLs) of a user message, Anthropic's image blocks of a tool_result. */
  images?: FakeImage[];
}

export interface FakeImage {
  media_type: string;
  /** base64 */
  data: string;
}

export interface FakeCall {
  provider: 'openai' | 'anthropic';
  headers: Record<string, string | string[] | undefined>;
  /** The raw JSON request body. */
  body: unknown;
  messages: FakeMessage[];
  /** Names of the tools offered. */
  tools: string[];
}

export type FakeStep =
  | { text: string }
  | { tool_calls: { name: string; arguments: unknown }[]; text?: string }
  | { error: { status: number; message: string; type?: string } };

/** What the fake says, before it is put into a provider's format. */
export interface FakeAnswer {
  id: string;
  model: string;
  text: string;
  toolCalls: FakeToolCall[];
  usage: { input: number; output: number };
}

export interface ParsedRequest {
  model: string;
  stream: boolean;
  /** OpenAI only: stream_options.include_usage. */
  includeUsage: boolean;
  messages: FakeMessage[];
  tools: string[];
}

export interface FakeFormat {
  provider: FakeCall['provider'];
  path: string;
  /** The parsed request, or a message for a 400 in the provider's format. */
  parse(body: unknown): ParsedRequest | string;
  authorized(headers: FakeCall['headers'], apiKey: string): boolean;
  unauthorized(headers: FakeCall['headers']): { status: number; body: unknown };
  errorBody(status: number, message: string, type?: string): unknown;
  /** Prefix of the ids of answers, tool calls: `chatcmpl`/`call`, `msg`/`toolu`. */
  idPrefixes: { answer: string; toolCall: string };
  json(answer: FakeAnswer): unknown;
  /** Complete SSE frames, written one at a time. */
  frames(answer: FakeAnswer, request: ParsedRequest): string[];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Text split after each space, so every chunk is a visible delta and they join back exactly. */
export function textChunks(text: string): string[] {
  return text.split(/(?<= )/).filter((chunk) => chunk !== '');
}

/** JSON text in two pieces, as providers stream tool arguments in fragments. */
export function argumentPieces(json: string): string[] {
  const middle = Math.ceil(json.length / 2);
  return [json.slice(0, middle), json.slice(middle)].filter((piece) => piece !== '');
}
