// What the mesh and an agent container tell each other about the agent.
import { z } from 'zod';
import { WorkspaceSeedsSchema } from '../config/workspace-seeds.js';

/** POST with no body, from the agent server once it listens: the mesh, which is waiting
 *  for that agent to start, stops waiting at once instead of at its next GET /health. */
export const AGENT_READY_ROUTE = '/mesh/agent/ready';

/** GET /mesh/agent/config: fetched by the agent at each session start, so edits to
 *  PROJECT.md or the agent's entry reach it without a restart. */
export const AgentRuntimeConfigSchema = z.object({
  agent: z.string(),
  role: z.string(),
  model: z.string(),
  system_prompt: z.string(),
  project_md: z.string(),
  max_tool_rounds: z.number().int().positive(),
  /** Tokens of the model's context window; the agent compacts its conversation at 70%. */
  context_window: z.number().int().positive(),
  /** mesh.yaml llm.embedding_model (`provider/model`); null: memory search stays BM25. */
  embedding_model: z.string().nullable(),
  /** mesh.yaml `memory`: how memory search weighs its rankings. */
  memory: z.object({
    /** Share of a hybrid score that comes from vector similarity, 0..1. */
    vector_weight: z.number().min(0).max(1),
    /** A daily log's score halves every this many days of age; null: no decay. */
    recency_half_life_days: z.number().positive().nullable(),
  }),
  /** config/agents/<agent>/*.md: written to the workspace at start where the file does
   *  not exist yet, instead of the image's default. Absent: no seeds. */
  workspace_seeds: WorkspaceSeedsSchema.optional(),
});
export type AgentRuntimeConfig = z.infer<typeof AgentRuntimeConfigSchema>;
export type MemorySearchSettings = AgentRuntimeConfig['memory'];

/** mesh.yaml memory.vector_weight when unset. */
export const DEFAULT_VECTOR_WEIGHT = 0.3;

/** GET /status on the agent server. */
export const AgentServerStatusSchema = z.object({
  agent: z.string(),
  state: z.enum(['idle', 'busy']),
  session: z.string(),
  session_messages: z.number().int().nonnegative(),
  uptime_s: z.number().nonnegative(),
  version: z.string(),
});
export type AgentServerStatus = z.infer<typeof AgentServerStatusSchema>;

/** GET /capabilities on the agent server. */
export const AgentCapabilitiesSchema = z.object({
  agent: z.string(),
  tools: z.array(z.object({ name: z.string(), description: z.string() })),
});
export type AgentCapabilities = z.infer<typeof AgentCapabilitiesSchema>;

/** Environment variables the mesh sets in every agent container. The tokens are not
 *  among them: they come on stdin (AgentSecretsSchema). */
export const AGENT_ENV = {
  name: 'LEGION_AGENT',
  meshUrl: 'LEGION_MESH_URL',
  dataDir: 'LEGION_DATA_DIR',
  port: 'LEGION_AGENT_PORT',
  host: 'LEGION_AGENT_HOST',
  /** Set only for agents started with the browser image: the browser's idle timeout in seconds. */
  browserIdleS: 'LEGION_BROWSER_IDLE_S',
  /** The operator's skill folders (agents.yaml `skills:`) as the agent sees them: a JSON array of paths. */
  skillDirs: 'LEGION_SKILL_DIRS',
} as const;

/** The one JSON line the agent server reads from its stdin at boot: the token it
 *  presents to the mesh and the token the mesh presents to it. */
export const AgentSecretsSchema = z.strictObject({
  mesh_token: z.string().min(1),
  server_token: z.string().min(1),
});
export type AgentSecrets = z.infer<typeof AgentSecretsSchema>;

export const AGENT_SERVER_PORT = 8400;
export const DEFAULT_MAX_TOOL_ROUNDS = 10;
