// Whether a spawn_agent call may start a sub-agent: pure, so each refusal is tested
// directly. Checked in this order, the first failing rule named: the caller is not a
// sub-agent and has can_spawn; it runs fewer live sub-agents than
// can_spawn.max_concurrent; the model asked for is its own or matches can_spawn.models;
// the permissions asked for lie within its own.
import picomatch from 'picomatch';
import type { ErrorCode } from '../../shared/errors.js';
import type { Decision } from '../../shared/config/permissions/types.js';
import type { SpawnDecision } from '../../shared/config/permissions/subagent.js';

export interface SpawnInput {
  parent: string;
  /** can_spawn of the caller (a sub-agent's is always a refusal). */
  grant: SpawnDecision;
  /** Its sub-agents starting or running now. */
  live: number;
  /** The model spawn_agent named, if any. */
  requestedModel: string | undefined;
  /** The parent's own model (agents.yaml, else llm.default_model). */
  parentModel: string;
  /** Whether spawn_agent's `permissions` lie within the parent's; null when none were given. */
  permissions: Decision | null;
}

export type SpawnVerdict =
  | { action: 'spawn'; model: string }
  | { action: 'refuse'; code: Extract<ErrorCode, 'forbidden' | 'spawn_limit'>; reason: string };

export function decideSpawn(input: SpawnInput): SpawnVerdict {
  const refuse = (code: 'forbidden' | 'spawn_limit', reason: string): SpawnVerdict => ({
    action: 'refuse',
    code,
    reason: `spawn_agent refused: ${reason}`,
  });
  if (!input.grant.allowed) return refuse('forbidden', input.grant.reason);
  const { max_concurrent: max, models } = input.grant.grant;
  if (input.live >= max) {
    return refuse(
      'spawn_limit',
      `${input.parent} already runs ${input.live} sub-agent(s) and can_spawn.max_concurrent is ${max}; wait for one to finish`,
    );
  }
  const model = input.requestedModel ?? input.parentModel;
  if (model !== input.parentModel && !(models.length > 0 && picomatch(models)(model))) {
    const listed = models.length > 0 ? `can_spawn.models is ${JSON.stringify(models)}` : 'can_spawn.models is not set';
    return refuse(
      'forbidden',
      `model ${model} is not allowed for ${input.parent}'s sub-agents: ${listed} (its own model ${input.parentModel} is always allowed)`,
    );
  }
  if (input.permissions && !input.permissions.allowed) return refuse('forbidden', input.permissions.reason);
  return { action: 'spawn', model };
}
