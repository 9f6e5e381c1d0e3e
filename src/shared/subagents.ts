// Sub-agent ids: `<parent>_<8 hex>`. An agent name never holds `_` (AGENT_NAME_PATTERN),
// so an id is never a configured agent's name and always names its parent, which is how
// the costs ledger charges the parent's budget and how a restarted mesh knows whose an
// orphaned container was, with nothing stored. The id is safe in container, volume and
// token names (a token is `<agent>.<secret>`, so no `.` here).
import { randomBytes } from 'node:crypto';
import { AGENT_NAME_PATTERN } from './names.js';

export const SUBAGENT_ID_PATTERN = /^([a-z][a-z0-9-]{0,31})_([0-9a-f]{8})$/;

export function newSubAgentId(parent: string): string {
  return `${parent}_${randomBytes(4).toString('hex')}`;
}

/** The parent of a sub-agent id; null for anything else (a configured agent's name included). */
export function parentOfSubAgent(name: string): string | null {
  return SUBAGENT_ID_PATTERN.exec(name)?.[1] ?? null;
}

/** Whose budget a call of `agent` counts against: a sub-agent's parent, else the agent itself. */
export function budgetOwner(agent: string): string {
  return parentOfSubAgent(agent) ?? agent;
}

/** The name an agent server may run under: a configured agent's or a sub-agent id. */
export function checkAgentProcessName(name: string): string | null {
  return AGENT_NAME_PATTERN.test(name) || SUBAGENT_ID_PATTERN.test(name)
    ? null
    : `invalid agent name "${name}": use lowercase letters, digits and dashes, starting with a letter (at most 32)`;
}
