// The format of a team template (templates/<name>.yaml): agents with their
// config/agents.yaml fields and workspace seeds, the permission entries that let them
// hand work to each other, and example workflows. Every object is strict, so a typo in a
// shipped or hand-written template is an error naming the key. Permission entries and
// workflows are kept as the template writes them (no defaults filled in), since that is
// what ends up in the user's files.
import { z } from 'zod';
import { AGENT_NAME_PATTERN } from '../names.js';
import { AgentEntrySchema, BudgetSchema } from './schema.js';
import { MAX_WORKSPACE_SEED_CHARS } from './workspace-seeds.js';
import { WorkflowFileSchema, WorkflowNameSchema } from './workflow.js';
import { TopicPatternSchema } from '../wire/fleet.js';
import { HeartbeatConfigSchema } from '../wire/heartbeat.js';
import { PermissionEntrySchema } from './permissions/schema.js';

export const TemplateNameSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,31}$/,
    'expected a template name of lowercase letters, digits and dashes, starting with a letter',
  );

const AgentNameKey = z
  .string()
  .regex(
    AGENT_NAME_PATTERN,
    'agent names use lowercase letters, digits and dashes, starting with a letter (at most 32)',
  );
const SeedText = z
  .string()
  .trim()
  .min(1, 'expected some text')
  .max(MAX_WORKSPACE_SEED_CHARS, `expected at most ${MAX_WORKSPACE_SEED_CHARS} characters`);

export const TemplateAgentSchema = z.strictObject({
  /** Workflows may pick agents by it (`capability: <role>`), so it is a short stable phrase. */
  role: AgentEntrySchema.shape.role,
  model: AgentEntrySchema.shape.model,
  system_prompt: z.string().trim().min(1, 'expected the instructions the agent works by'),
  /** SOUL.md of its workspace (tone, values), seeded at its first start. */
  soul_md: SeedText,
  /** HEARTBEAT.md of its workspace: what to check when the heartbeat wakes it. */
  heartbeat_md: SeedText,
  budget: BudgetSchema,
  subscriptions: z.array(TopicPatternSchema).optional(),
  /** agents.yaml `heartbeat`: how often the mesh runs its probes. */
  heartbeat: HeartbeatConfigSchema.optional(),
});

/** A JSON-like value as the YAML parser gives it. */
const Raw = z.record(z.string(), z.unknown());

export const TemplateFileSchema = z
  .strictObject({
    name: TemplateNameSchema,
    description: z.string().trim().min(1, 'expected one line saying what the team does'),
    agents: z
      .record(AgentNameKey, TemplateAgentSchema)
      .refine((agents) => Object.keys(agents).length > 0, 'expected at least one agent'),
    /** Entries for config/permissions.yaml `agents`, one per template agent that needs more
     *  than the starter default (an agent listed there gets exactly its entry). */
    permissions: z.strictObject({ agents: z.record(AgentNameKey, Raw) }).optional(),
    /** Files for config/workflows/<name>.yaml, by workflow name. */
    workflows: z.record(WorkflowNameSchema, Raw).optional(),
  })
  .superRefine((file, ctx) => {
    const agents = Object.keys(file.agents);
    for (const [name, entry] of Object.entries(file.permissions?.agents ?? {})) {
      if (!agents.includes(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['permissions', 'agents', name],
          message: `not an agent of this template (agents: ${agents.join(', ')})`,
        });
      }
      const parsed = PermissionEntrySchema.safeParse(entry);
      for (const issue of parsed.error?.issues ?? [])
        ctx.addIssue({ ...issue, path: ['permissions', 'agents', name, ...issue.path] });
    }
    for (const [name, workflow] of Object.entries(file.workflows ?? {})) {
      const parsed = WorkflowFileSchema.safeParse(workflow);
      for (const issue of parsed.error?.issues ?? [])
        ctx.addIssue({ ...issue, path: ['workflows', name, ...issue.path] });
      if (parsed.success && parsed.data.name !== name) {
        ctx.addIssue({
          code: 'custom',
          path: ['workflows', name, 'name'],
          message: `expected "${name}", the key it is listed under`,
        });
      }
    }
  });
