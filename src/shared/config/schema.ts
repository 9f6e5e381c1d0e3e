// Schemas of the human-edited files in config/. Every object is strict: an unknown
// key is an error that names it, so a typo never silently does nothing.
import { z } from 'zod';
import { AGENT_NAME_PATTERN } from '../names.js';
import { DEFAULT_MAX_TOOL_ROUNDS } from '../wire/agent.js';
import { TopicPatternSchema } from '../wire/fleet.js';

const ModelRefSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*\/.+$/, 'expected "provider/model", for example openai/gpt-4o-mini');

const ProviderSchema = z.strictObject({
  /** `openai` speaks the OpenAI chat-completions format (OpenAI, Ollama, vLLM, Groq...). */
  kind: z.enum(['openai', 'anthropic']).optional(),
  base_url: z.url().optional(),
});
export type ProviderConfig = z.infer<typeof ProviderSchema>;

export const MeshFileSchema = z.strictObject({
  mesh: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(1).max(65535).default(8420),
    })
    .default({ host: '127.0.0.1', port: 8420 }),
  llm: z.strictObject({
    default_model: ModelRefSchema,
    providers: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/), ProviderSchema).default({}),
  }),
  image: z
    .strictObject({
      /** Base of the agent image; must be Debian-based with node 20 and npm. */
      base_image: z.string().min(1).optional(),
      /** PEM bundle trusted while npm installs inside the image build (corporate TLS proxies). */
      extra_ca_cert: z.string().min(1).optional(),
    })
    .default({}),
});
export type MeshFile = z.infer<typeof MeshFileSchema>;

const MemoryLimitSchema = z
  .string()
  .regex(/^\d+(\.\d+)?[kmg]?$/i, 'expected a size such as 512m or 1g');

export const AgentEntrySchema = z.strictObject({
  role: z.string().min(1),
  model: ModelRefSchema.optional(),
  system_prompt: z.string().default(''),
  resources: z
    .strictObject({
      memory_limit: MemoryLimitSchema.default('512m'),
      cpu_limit: z.number().positive().max(64).default(0.5),
    })
    .default({ memory_limit: '512m', cpu_limit: 0.5 }),
  max_tool_rounds: z.number().int().min(1).max(100).default(DEFAULT_MAX_TOOL_ROUNDS),
  /** Pub/sub topics (globs allowed) this agent is woken for; checked against can_subscribe. */
  subscriptions: z.array(TopicPatternSchema).default([]),
});
export type AgentEntry = z.infer<typeof AgentEntrySchema>;

export const AgentsFileSchema = z.strictObject({
  agents: z
    .record(
      z.string().regex(AGENT_NAME_PATTERN, 'agent names use lowercase letters, digits and dashes, starting with a letter'),
      AgentEntrySchema,
    )
    .default({}),
});
export type AgentsFile = z.infer<typeof AgentsFileSchema>;

/** Bytes for a memory limit such as "512m". */
export function parseMemoryLimit(limit: string): number {
  const match = /^(\d+(?:\.\d+)?)([kmg]?)$/i.exec(limit);
  if (!match) throw new Error(`invalid memory limit "${limit}"`);
  const unit = (match[2] ?? '').toLowerCase();
  const factor = unit === 'g' ? 1024 ** 3 : unit === 'm' ? 1024 ** 2 : unit === 'k' ? 1024 : 1;
  return Math.round(Number(match[1]) * factor);
}
