// The normalized LLM contract between an agent and the mesh's LLM proxy
// (POST /mesh/llm/chat, POST /mesh/llm/embeddings). Provider formats (OpenAI,
// Anthropic) never leave the mesh.
import { z } from 'zod';
import { ErrorBodySchema } from './error.js';

export const ToolCallSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  /** JSON text of the arguments, exactly as the model produced them. */
  arguments: z.string(),
});
export type ToolCall = z.infer<typeof ToolCallSchema>;

/** A picture a tool produced (a browser screenshot), base64, given to the model once,
 *  on its next call, when the model takes images (the mesh decides, see llm.image_models). */
export const ImagePartSchema = z.object({
  media_type: z.enum(['image/png', 'image/jpeg']),
  data: z
    .string()
    .min(1)
    .regex(/^[A-Za-z0-9+/]+=*$/, 'expected base64'),
});
export type ImagePart = z.infer<typeof ImagePartSchema>;

export const MessageSchema = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: z.string() }),
  z.object({ role: z.literal('user'), content: z.string() }),
  z.object({
    role: z.literal('assistant'),
    content: z.string().nullable().default(null),
    tool_calls: z.array(ToolCallSchema).optional(),
  }),
  z.object({
    role: z.literal('tool'),
    tool_call_id: z.string().min(1),
    name: z.string().optional(),
    content: z.string(),
    is_error: z.boolean().optional(),
    images: z.array(ImagePartSchema).max(4).optional(),
  }),
]);
export type Message = z.infer<typeof MessageSchema>;

export const ToolDefSchema = z.object({
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'expected a tool name of letters, digits, _ and - (at most 64)'),
  description: z.string(),
  /** JSON Schema of the arguments object. */
  parameters: z.record(z.string(), z.unknown()),
});
export type ToolDef = z.infer<typeof ToolDefSchema>;

export const LlmChatRequestSchema = z.strictObject({
  /** `provider/model`; the agent's configured model when omitted. */
  model: z.string().optional(),
  messages: z.array(MessageSchema).min(1),
  tools: z.array(ToolDefSchema).optional(),
  stream: z.boolean().default(false),
  max_tokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).max(2).optional(),
});
export type LlmChatRequest = z.input<typeof LlmChatRequestSchema>;
export type LlmChatRequestParsed = z.output<typeof LlmChatRequestSchema>;

export const UsageSchema = z.object({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
});
export type Usage = z.infer<typeof UsageSchema>;

export const FinishReasonSchema = z.enum(['stop', 'tool_calls', 'length', 'other']);
export type FinishReason = z.infer<typeof FinishReasonSchema>;

export const LlmChatResponseSchema = z.object({
  provider: z.string(),
  model: z.string(),
  message: z.object({
    role: z.literal('assistant'),
    content: z.string(),
    tool_calls: z.array(ToolCallSchema),
  }),
  finish_reason: FinishReasonSchema,
  usage: UsageSchema,
});
export type LlmChatResponse = z.infer<typeof LlmChatResponseSchema>;

/** Server-sent events of a streaming LLM call: text deltas, then one done or error. */
export const LlmStreamEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('delta'), text: z.string() }),
  z.object({ type: z.literal('done'), response: LlmChatResponseSchema }),
  z.object({ type: z.literal('error'), error: ErrorBodySchema }),
]);
export type LlmStreamEvent = z.infer<typeof LlmStreamEventSchema>;

/** POST /mesh/llm/embeddings: at most this many texts per request. */
export const MAX_EMBEDDING_INPUTS = 128;
/** Characters per text: at most 8,000, which stays under the 8,191-token input limit of
 *  OpenAI's embedding models even at one character a token. Callers cut longer texts. */
export const MAX_EMBEDDING_INPUT_CHARS = 8_000;

export const LlmEmbeddingsRequestSchema = z.strictObject({
  /** `provider/model`; mesh.yaml llm.embedding_model when omitted. */
  model: z.string().optional(),
  input: z
    .array(
      z
        .string()
        .min(1)
        .max(
          MAX_EMBEDDING_INPUT_CHARS,
          `expected at most ${MAX_EMBEDDING_INPUT_CHARS} characters; cut longer texts before embedding them`,
        ),
    )
    .min(1)
    .max(MAX_EMBEDDING_INPUTS),
});
export type LlmEmbeddingsRequest = z.infer<typeof LlmEmbeddingsRequestSchema>;

export const LlmEmbeddingsResponseSchema = z.object({
  /** `provider/model` that made the vectors. */
  model: z.string(),
  dimensions: z.number().int().positive(),
  /** One vector per input text, in input order. */
  vectors: z.array(z.array(z.number())),
  usage: z.object({ prompt_tokens: z.number().int().nonnegative() }),
});
export type LlmEmbeddingsResponse = z.infer<typeof LlmEmbeddingsResponseSchema>;
