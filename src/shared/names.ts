// Agent names appear in container names, volume names and URLs, so they are narrow.
// Workflow names appear in URLs and file names; they live here so that both the
// workflow file schema and the webhook wire contract can import them without a cycle.
import { z } from 'zod';

export const AGENT_NAME_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

export const AgentNameSchema = z
  .string()
  .regex(
    AGENT_NAME_PATTERN,
    'expected a name of lowercase letters, digits and dashes, starting with a letter (at most 32)',
  );

export function checkAgentName(name: string): string | null {
  return AGENT_NAME_PATTERN.test(name)
    ? null
    : `invalid agent name "${name}": use lowercase letters, digits and dashes, starting with a letter (at most 32)`;
}

export const WorkflowNameSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9_-]{0,63}$/,
    'expected a workflow name of lowercase letters, digits, _ and -, starting with a letter (at most 64)',
  );
