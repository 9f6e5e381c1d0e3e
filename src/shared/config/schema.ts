// Schemas of the human-edited files in config/. Every object is strict: an unknown
// key is an error that names it, so a typo never silently does nothing.
import { z } from 'zod';
import { AGENT_NAME_PATTERN } from '../names.js';
import { DEFAULT_MAX_TOOL_ROUNDS, DEFAULT_VECTOR_WEIGHT } from '../wire/agent.js';
import { TopicPatternSchema } from '../wire/fleet.js';
import { HeartbeatConfigSchema } from '../wire/heartbeat.js';
import { AUTO_RUNTIME } from '../sandbox.js';
import { ChannelsConfigSchema } from './channels.js';
import { McpServersSchema } from './mcp.js';

const ModelRefSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*\/.+$/, 'expected "provider/model", for example openai/gpt-4o-mini');

/** Most tokens of one answer (the provider's max_tokens). */
const MaxTokensSchema = z.int().positive('expected a positive whole number of tokens');

/** Sampling temperature, the range OpenAI accepts. */
const TemperatureSchema = z
  .number()
  .min(0, 'expected a temperature from 0 to 2')
  .max(2, 'expected a temperature from 0 to 2');

/** Models known to take image input; llm.image_models replaces the list. */
export const DEFAULT_IMAGE_MODELS = [
  'openai/gpt-4o*',
  'openai/gpt-4.1*',
  'openai/gpt-5*',
  'openai/o1*',
  'openai/o3*',
  'openai/o4*',
  'anthropic/claude-*',
] as const;

const ProviderSchema = z.strictObject({
  /** `openai` speaks the OpenAI chat-completions format (OpenAI, Ollama, vLLM, Groq...). */
  kind: z.enum(['openai', 'anthropic']).optional(),
  base_url: z.url().optional(),
});

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

/** Items an agent's lane may hold, queued and running, before new work is refused. */
export const DEFAULT_LANE_DEPTH_CAP = 100;

/** The health monitor's checks and restart policy (src/mesh/runtime/health.ts). */
export const HealthConfigSchema = z.strictObject({
  /** How often each agent is checked: its container's state, then GET /health. */
  interval_ms: z.number().int().min(100).default(2000),
  /** Unanswered checks in a row after which a running container is restarted. */
  failed_checks: z.number().int().min(1).default(3),
  /** Restarts allowed within any hour; the agent is marked failed instead of one more. */
  max_restarts_per_hour: z.number().int().min(0).default(10),
});
export type HealthConfig = z.infer<typeof HealthConfigSchema>;
const DEFAULT_HEALTH: HealthConfig = { interval_ms: 2000, failed_checks: 3, max_restarts_per_hour: 10 };

/** How long one kind of record is kept: rows older than max_age_days, and the oldest
 *  rows beyond max_rows, are pruned (see src/mesh/retention/). */
function retentionRule(maxAgeDays: number, maxRows: number) {
  return z
    .strictObject({
      max_age_days: z.number().positive().default(maxAgeDays),
      max_rows: z.number().int().min(1).default(maxRows),
    })
    .default({ max_age_days: maxAgeDays, max_rows: maxRows });
}

export const RetentionSchema = z.strictObject({
  /** Past versions of blackboard keys (the newest change of a deleted key is always kept). */
  blackboard_history: retentionRule(30, 20_000),
  /** The event log (audit, denials, traces). */
  events: retentionRule(30, 50_000),
  /** Lane items that finished (done or failed); queued and running ones are never pruned. */
  lane_items: retentionRule(14, 10_000),
  /** Records of received webhook calls. */
  webhook_deliveries: retentionRule(30, 10_000),
  /** Per-call LLM cost rows; pruned ones are first added to daily per-agent per-model totals. */
  llm_calls: retentionRule(90, 20_000),
  /** How often the pruner runs (it also runs at mesh start). */
  interval_minutes: z.number().positive().default(10),
});
export type RetentionConfig = z.infer<typeof RetentionSchema>;
export const DEFAULT_RETENTION: RetentionConfig = RetentionSchema.parse({});

/** An OCI runtime for agent containers: auto (gVisor when the engine has it, else runc),
 *  runc, runsc, or any runtime registered with the Docker engine (checked at start). */
const RuntimeNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    'expected auto, runc, runsc or the name of a runtime registered with Docker (docker info lists them)',
  );

/** web_search backends, tried in the order Brave, SearXNG, DuckDuckGo: the first that
 *  answers wins, a failing one falls back to the next (src/mesh/search). */
export const SearchConfigSchema = z.strictObject({
  /** Brave Search API; its key is the secret LEGION_CRED_<CREDENTIAL> (default LEGION_CRED_BRAVE_API_KEY). */
  brave: z
    .strictObject({
      credential: z
        .string()
        .regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a credential name such as brave_api_key')
        .default('brave_api_key'),
      url: z.url().default('https://api.search.brave.com/res/v1/web/search'),
    })
    .optional(),
  /** A SearXNG instance with the JSON format enabled (search.formats: [html, json] in its settings.yml). */
  searxng: z.strictObject({ url: z.url() }).optional(),
  /** The key-less DuckDuckGo HTML endpoint, tried last; `enabled: false` turns it off. */
  duckduckgo: z
    .strictObject({
      enabled: z.boolean().default(true),
      url: z.url().default('https://html.duckduckgo.com/html/'),
    })
    .default({ enabled: true, url: 'https://html.duckduckgo.com/html/' }),
  /** What one search costs, booked in `legion costs` (USD per call). */
  price_usd: z.number().nonnegative().default(0),
  /** Searches one agent may make per minute; more are refused with rate_limited. */
  rate_limit_per_minute: z.number().int().min(1).default(20),
  /** How long one backend may take before the next is tried. */
  timeout_s: z.number().positive().max(60).default(10),
});
export type SearchConfig = z.infer<typeof SearchConfigSchema>;
const DEFAULT_SEARCH: SearchConfig = SearchConfigSchema.parse({});

const TimeZoneSchema = z.string().refine(isTimeZone, 'expected an IANA time zone such as UTC or Europe/Berlin');

export const MeshFileSchema = z.strictObject({
  mesh: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(1).max(65535).default(8420),
      /** Port of the egress proxy, next to the agent API on the legion network's gateway; default port + 1. */
      egress_port: z.number().int().min(1).max(65535).optional(),
      /** Items an agent's lane may hold (queued and running); more are refused with lane_full. */
      lane_depth_cap: z.number().int().min(1).default(DEFAULT_LANE_DEPTH_CAP),
      health: HealthConfigSchema.default(DEFAULT_HEALTH),
    })
    .refine((mesh) => (mesh.egress_port === undefined ? mesh.port < 65535 : mesh.egress_port !== mesh.port), {
      message: 'the egress proxy needs a port of its own: set mesh.egress_port to a port other than mesh.port',
      path: ['egress_port'],
    })
    .default({ host: '127.0.0.1', port: 8420, lane_depth_cap: DEFAULT_LANE_DEPTH_CAP, health: DEFAULT_HEALTH }),
  llm: z.strictObject({
    default_model: ModelRefSchema,
    /** Embeddings for agents' memory search; must name an OpenAI-kind provider (Anthropic has
     *  no embeddings API, which loadProject reports). Without it memory search is BM25 only. */
    embedding_model: ModelRefSchema.optional(),
    /** provider/model globs of the models that take images (a browser screenshot is shown to them); others get a note instead. */
    image_models: z.array(z.string().min(1)).default([...DEFAULT_IMAGE_MODELS]),
    /** Most tokens of one answer, sent with every agent call (agents.yaml max_tokens overrides it per agent). */
    max_tokens: MaxTokensSchema.optional(),
    /** Sampling temperature sent with every agent call (agents.yaml temperature overrides it per agent). */
    temperature: TemperatureSchema.optional(),
    providers: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/), ProviderSchema).default({}),
  }),
  /** How every agent's memory search ranks; sent to agents with their runtime config. */
  memory: z
    .strictObject({
      /** Share of a hybrid score that comes from vector similarity (used with llm.embedding_model). */
      vector_weight: z.number().min(0).max(1).default(DEFAULT_VECTOR_WEIGHT),
      /** When set, a daily log's (memory/YYYY-MM-DD.md) score halves every this many days of age. */
      recency_half_life_days: z.number().positive().optional(),
    })
    .default({ vector_weight: DEFAULT_VECTOR_WEIGHT }),
  image: z
    .strictObject({
      /** Base of the agent image; must be Debian-based with node 20 and npm. */
      base_image: z.string().min(1).optional(),
      /** PEM bundle trusted while npm installs inside the image build (corporate TLS proxies). */
      extra_ca_cert: z.string().min(1).optional(),
    })
    .default({}),
  /** A listener of its own serving only /webhook/* (the admin API serves them too), for
   *  a tunnel or reverse proxy to expose; public_url is what `legion webhook add` prints
   *  when senders reach it under another address. */
  webhooks: z
    .strictObject({
      /** 127.0.0.1 keeps it local (behind a proxy); 0.0.0.0 accepts other machines. */
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(1).max(65535),
      public_url: z.url().optional(),
    })
    .optional(),
  /** Telegram and Discord bots that let paired users chat with agents (docs/channels.md). */
  channels: ChannelsConfigSchema.optional(),
  /** Fleet-wide limits over every agent's calls together. */
  budget: BudgetSchema.optional(),
  /** Where budget days and months (and `legion costs` periods) begin. */
  timezone: TimeZoneSchema.default('UTC'),
  /** How long mesh.db keeps history, events, finished lane items, webhook deliveries and per-call costs. */
  retention: RetentionSchema.default(() => RetentionSchema.parse({})),
  /** Every agent's OCI runtime unless its agents.yaml entry names one. */
  runtime: RuntimeNameSchema.default(AUTO_RUNTIME),
  search: SearchConfigSchema.default(DEFAULT_SEARCH),
});
export type MeshFile = z.infer<typeof MeshFileSchema>;

const MemoryLimitSchema = z.string().regex(/^\d+(\.\d+)?[kmg]?$/i, 'expected a size such as 512m or 1g');

export const AgentEntrySchema = z.strictObject({
  role: z.string().min(1),
  model: ModelRefSchema.optional(),
  /** This agent's answer limit; mesh.yaml llm.max_tokens when absent. */
  max_tokens: MaxTokensSchema.optional(),
  /** This agent's sampling temperature; mesh.yaml llm.temperature when absent. */
  temperature: TemperatureSchema.optional(),
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
  /** Probes run in the mesh every `every`; the agent is woken only when one fires. */
  heartbeat: HeartbeatConfigSchema.optional(),
  /** This agent's OCI runtime; mesh.yaml's `runtime` when absent. */
  runtime: RuntimeNameSchema.optional(),
  /** The browser image variant and tools (needs can_use_browser in the permissions too). */
  browser: z.boolean().default(false),
  /** Seconds without a browser tool call after which the browser is closed (it restarts on the next call). */
  browser_idle_timeout_s: z.number().int().min(10).max(86_400).default(300),
  /** MCP servers whose tools this agent gets as <server>__<tool>, narrowed by allowed_mcp_tools (docs/mcp.md). */
  mcp_servers: McpServersSchema,
  /** Skill folders of the project (each holding a SKILL.md), mounted read-only; see docs/skills.md. */
  skills: z.array(z.string().min(1, 'expected a folder path')).default([]),
});
export type AgentEntry = z.infer<typeof AgentEntrySchema>;

export const AgentsFileSchema = z.strictObject({
  agents: z
    .record(
      z
        .string()
        .regex(AGENT_NAME_PATTERN, 'agent names use lowercase letters, digits and dashes, starting with a letter'),
      AgentEntrySchema,
    )
    .default({}),
});

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
