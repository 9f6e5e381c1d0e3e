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

/** Spending limits in USD; 0 stops all LLM calls of that scope. Checked before each call. */
export const BudgetSchema = z.strictObject({
  daily_usd: z.number().nonnegative().optional(),
  monthly_usd: z.number().nonnegative().optional(),
});
export type Budget = z.infer<typeof BudgetSchema>;

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const TimeZoneSchema = z.string().refine(isTimeZone, 'expected an IANA time zone such as UTC or Europe/Berlin');

export const MeshFileSchema = z.strictObject({
  mesh: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(1).max(65535).default(8420),
      /** Port of the egress proxy, next to the agent API on the legion network's gateway; default port + 1. */
      egress_port: z.number().int().min(1).max(65535).optional(),
    })
    .refine((mesh) => (mesh.egress_port === undefined ? mesh.port < 65535 : mesh.egress_port !== mesh.port), {
      message: 'the egress proxy needs a port of its own: set mesh.egress_port to a port other than mesh.port',
      path: ['egress_port'],
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
  /** Fleet-wide limits over every agent's calls together. */
  budget: BudgetSchema.optional(),
  /** Where budget days and months (and `legion costs` periods) begin. */
  timezone: TimeZoneSchema.default('UTC'),
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
  budget: BudgetSchema.optional(),
  /** Tokens of the model's context window; overrides config/context-windows.yaml for this agent. */
  context_window: z.number().int().min(1000).optional(),
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

/** The egress proxy's port: mesh.egress_port, else the agent API's port + 1. */
export function egressPort(mesh: MeshFile['mesh']): number {
  return mesh.egress_port ?? mesh.port + 1;
}

/** Bytes for a memory limit such as "512m". */
export function parseMemoryLimit(limit: string): number {
  const match = /^(\d+(?:\.\d+)?)([kmg]?)$/i.exec(limit);
  if (!match) throw new Error(`invalid memory limit "${limit}"`);
  const unit = (match[2] ?? '').toLowerCase();
  const factor = unit === 'g' ? 1024 ** 3 : unit === 'm' ? 1024 ** 2 : unit === 'k' ? 1024 : 1;
  return Math.round(Number(match[1]) * factor);
}
