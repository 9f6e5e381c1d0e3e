// Bodies of the admin API (127.0.0.1, admin token) used by the CLI and REPL.
import { z } from 'zod';
import { SubAgentStatusSchema } from './subagents.js';
import { AgentNameSchema } from '../names.js';
import { BudgetSchema } from '../config/schema.js';
import { TopicPatternSchema } from './fleet.js';
import { HeartbeatConfigSchema } from './heartbeat.js';
import { McpServerStatusSchema } from './mcp.js';

export const HealthSchema = z.enum(['starting', 'healthy', 'unhealthy', 'stopped', 'failed']);
export type Health = z.infer<typeof HealthSchema>;

/** An agent's lane: items waiting and in flight (0 or 1), the depth cap, and the item in flight. */
export const LaneStatusSchema = z.object({
  queued: z.number().int(),
  inflight: z.number().int(),
  cap: z.number().int(),
  running: z.object({ kind: z.string(), id: z.string(), since: z.string() }).nullable(),
});
export type LaneStatus = z.infer<typeof LaneStatusSchema>;

export const AgentStatusEntrySchema = z.object({
  name: z.string(),
  role: z.string(),
  model: z.string(),
  health: HealthSchema,
  container: z
    .object({
      id: z.string(),
      name: z.string(),
      state: z.string(),
      image: z.string(),
      /** The OCI runtime it runs under (runsc, runc, ...); sandboxed when that gives it a kernel of its own. */
      runtime: z.string(),
      sandboxed: z.boolean(),
    })
    .nullable(),
  busy: z.boolean(),
  lane: LaneStatusSchema,
  /** Restarts by the health monitor in the last hour. */
  restarts: z.number().int(),
  last_error: z.string().nullable(),
  /** Its live sub-agents (spawn_agent); absent when it has none. */
  subagents: z.array(SubAgentStatusSchema).optional(),
});
export type AgentStatusEntry = z.infer<typeof AgentStatusEntrySchema>;

/** Whether agents are kept from every host port but the mesh's; detail says how, or why not and how to fix it. */
export const HostIsolationSchema = z.object({ enforced: z.boolean(), detail: z.string() });
export type HostIsolation = z.infer<typeof HostIsolationSchema>;

export const MeshStatusSchema = z.object({
  mesh: z.object({
    pid: z.number().int(),
    version: z.string(),
    started_at: z.string(),
    project_dir: z.string(),
    admin_url: z.string(),
    agent_api_url: z.string(),
  }),
  ready: z.boolean(),
  permissions: z.object({
    source: z.enum(['file', 'starter']),
    path: z.string().nullable(),
    last_error: z.string().nullable(),
  }),
  /** agents.yaml and mesh.yaml as reloaded while running: a refused edit's problems, settings waiting for a restart. */
  config: z.object({ last_error: z.string().nullable(), pending_restart: z.array(z.string()), loaded_at: z.string() }),
  /** The egress proxy as agents reach it; host_isolation is null where agents are not containers. */
  egress: z.object({ proxy_url: z.string(), host_isolation: HostIsolationSchema.nullable() }),
  agents: z.array(AgentStatusEntrySchema),
  /** Every agent's MCP servers: state, the last error, restarts and the next retry. */
  mcp: z.array(McpServerStatusSchema).default([]),
});
export type MeshStatus = z.infer<typeof MeshStatusSchema>;

export const AddAgentRequestSchema = z.strictObject({
  name: AgentNameSchema,
  role: z.string().min(1),
  model: z.string().optional(),
  system_prompt: z.string().optional(),
  budget: BudgetSchema.optional(),
  subscriptions: z.array(TopicPatternSchema).optional(),
  heartbeat: HeartbeatConfigSchema.optional(),
});
export type AddAgentRequest = z.infer<typeof AddAgentRequestSchema>;
