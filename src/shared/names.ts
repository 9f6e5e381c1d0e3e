// Agent names appear in container names, volume names and URLs, so they are narrow.
import { z } from 'zod';

export const AGENT_NAME_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

export const AgentNameSchema = z
  .string()
  .regex(AGENT_NAME_PATTERN, 'expected a name of lowercase letters, digits and dashes, starting with a letter (at most 32)');

export function checkAgentName(name: string): string | null {
  return AGENT_NAME_PATTERN.test(name)
    ? null
    : `invalid agent name "${name}": use lowercase letters, digits and dashes, starting with a letter (at most 32)`;
}
