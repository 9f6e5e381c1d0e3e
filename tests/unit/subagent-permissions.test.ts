// Sub-agent permissions: the parent's, narrowed by spawn_agent's `permissions`, never
// wider; the can_spawn schema (shorthand and object, strict); the spawn decision's
// refusals in order; and which leftover containers and volumes a starting mesh removes.
import { describe, expect, it } from 'vitest';
import { PermissionsFileSchema, RequestedPermissionsSchema } from '../../src/shared/config/permissions/schema.js';
import type { PermissionRules } from '../../src/shared/config/permissions/policy.js';
import {
  checkRequestWithin,
  decideForSubAgent,
  domainForSubAgent,
  flagForSubAgent,
  internetForSubAgent,
  spawnGrant,
  type SubAgentScope,
} from '../../src/shared/config/permissions/subagent.js';
import { decideSpawn } from '../../src/mesh/subagents/policy.js';
import { judgeLeftover } from '../../src/mesh/subagents/orphans.js';
import { budgetOwner, parentOfSubAgent } from '../../src/shared/subagents.js';

function rules(file: unknown): PermissionRules {
  return { policy: PermissionsFileSchema.parse(file), source: { kind: 'file', path: 'config/permissions.yaml' } };
}

const RULES = rules({
  agents: {
    lead: {
      blackboard_read: ['**'],
      blackboard_write: ['notes/*', 'agents/{agent}/*'],
      allowed_apis: ['llm'],
      allowed_domains: ['api.example.com'],
      can_use_internet: false,
      can_search: true,
      can_spawn: { max_concurrent: 2, models: ['openai/*'] },
    },
    solo: { allowed_apis: ['llm'] },
  },
});

const scope = (requested: unknown = null): SubAgentScope => ({
  id: 'lead_0a1b2c3d',
  parent: 'lead',
  requested: requested === null ? null : RequestedPermissionsSchema.parse(requested),
});

describe('can_spawn in permissions.yaml', () => {
  it('takes a number as max_concurrent and an object with models; absent means no spawning', () => {
    const file = PermissionsFileSchema.parse({
      agents: { a: { can_spawn: 3 }, b: { can_spawn: { max_concurrent: 1, models: ['anthropic/*'] } }, c: {} },
    });
    expect(file.agents.a?.can_spawn).toEqual({ max_concurrent: 3, models: [] });
    expect(file.agents.b?.can_spawn).toEqual({ max_concurrent: 1, models: ['anthropic/*'] });
    expect(file.agents.c?.can_spawn).toBeUndefined();
  });

  it('refuses a cap of 0, one above the maximum, and unknown keys', () => {
    expect(PermissionsFileSchema.safeParse({ agents: { a: { can_spawn: 0 } } }).success).toBe(false);
    expect(PermissionsFileSchema.safeParse({ agents: { a: { can_spawn: 17 } } }).success).toBe(false);
    const typo = PermissionsFileSchema.safeParse({ agents: { a: { can_spawn: { max_concurent: 2 } } } });
    expect(typo.success).toBe(false);
  });
});

describe('a sub-agent has at most its parent permissions', () => {
  it('inherits the parent decisions when nothing was narrowed, {agent} meaning the parent', () => {
    expect(decideForSubAgent(RULES, scope(), 'blackboard_write', 'notes/a')).toEqual({ allowed: true });
    expect(decideForSubAgent(RULES, scope(), 'blackboard_write', 'agents/lead/x')).toEqual({ allowed: true });
    const denied = decideForSubAgent(RULES, scope(), 'blackboard_write', 'secrets/x');
    expect(denied.allowed).toBe(false);
    expect(!denied.allowed && denied.reason).toMatch(
      /^sub-agent lead_0a1b2c3d, which has at most lead's permissions: /,
    );
    expect(flagForSubAgent(RULES, scope(), 'can_search')).toEqual({ allowed: true });
    expect(flagForSubAgent(RULES, scope(), 'can_use_browser').allowed).toBe(false);
  });

  it('is the intersection when narrowed: the narrowed list must allow it, and so must the parent', () => {
    const narrowed = scope({ blackboard_write: ['notes/*'], can_search: false });
    expect(decideForSubAgent(RULES, narrowed, 'blackboard_write', 'notes/a')).toEqual({ allowed: true });
    const outside = decideForSubAgent(RULES, narrowed, 'blackboard_write', 'agents/lead/x');
    expect(!outside.allowed && outside.reason).toContain('as narrowed by spawn_agent');
    expect(flagForSubAgent(RULES, narrowed, 'can_search').allowed).toBe(false);
    // A key it did not narrow stays the parent's.
    expect(decideForSubAgent(RULES, narrowed, 'blackboard_read', 'anything/x')).toEqual({ allowed: true });
    // Even a scope that somehow asked for more gets nothing beyond the parent.
    const wide = scope({ blackboard_write: ['**'], can_use_internet: true, allowed_domains: ['*'] });
    expect(decideForSubAgent(RULES, wide, 'blackboard_write', 'secrets/x').allowed).toBe(false);
    expect(internetForSubAgent(RULES, wide)).toBe(false);
    expect(domainForSubAgent(RULES, wide, { host: 'evil.example.org', port: 443 }).allowed).toBe(false);
    expect(domainForSubAgent(RULES, wide, { host: 'api.example.com', port: 443 }).allowed).toBe(true);
  });

  it('refuses at spawn a request wider than the parent, naming the key', () => {
    expect(
      checkRequestWithin(RULES, 'lead', RequestedPermissionsSchema.parse({ blackboard_write: ['notes/*'] })),
    ).toEqual({
      allowed: true,
    });
    expect(
      checkRequestWithin(RULES, 'lead', RequestedPermissionsSchema.parse({ blackboard_write: ['notes/today'] })),
    ).toEqual({ allowed: true });
    const glob = checkRequestWithin(
      RULES,
      'lead',
      RequestedPermissionsSchema.parse({ blackboard_write: ['notes/**'] }),
    );
    expect(!glob.allowed && glob.reason).toBe(
      `permissions.blackboard_write "notes/**" is wider than lead's own blackboard_write (["notes/*","agents/{agent}/*"]): a sub-agent's permissions are at most its parent's`,
    );
    const flag = checkRequestWithin(RULES, 'lead', RequestedPermissionsSchema.parse({ can_use_internet: true }));
    expect(!flag.allowed && flag.reason).toContain('permissions.can_use_internet true is wider than');
    const spawn = checkRequestWithin(RULES, 'lead', RequestedPermissionsSchema.parse({ can_spawn: 1 }));
    expect(!spawn.allowed && spawn.reason).toContain('a sub-agent may not spawn');
  });

  it('never lets a sub-agent spawn, and names can_spawn for an agent without it', () => {
    expect(spawnGrant(RULES, 'lead_0a1b2c3d', true).allowed).toBe(false);
    const solo = spawnGrant(RULES, 'solo', false);
    expect(!solo.allowed && solo.reason).toContain("can_spawn is not set in solo's entry of config/permissions.yaml");
    expect(spawnGrant(RULES, 'lead', false)).toEqual({
      allowed: true,
      grant: { max_concurrent: 2, models: ['openai/*'] },
    });
  });
});

describe('decideSpawn', () => {
  const base = {
    parent: 'lead',
    grant: spawnGrant(RULES, 'lead', false),
    live: 0,
    requestedModel: undefined,
    parentModel: 'anthropic/claude-sonnet-4',
    permissions: null,
  };

  it('spawns with the parent model by default, or an allowed one', () => {
    expect(decideSpawn(base)).toEqual({ action: 'spawn', model: 'anthropic/claude-sonnet-4' });
    expect(decideSpawn({ ...base, requestedModel: 'openai/gpt-4o-mini' })).toEqual({
      action: 'spawn',
      model: 'openai/gpt-4o-mini',
    });
  });

  it('refuses beyond the cap, a model not allowed, and wider permissions, each naming its rule', () => {
    expect(decideSpawn({ ...base, live: 2 })).toMatchObject({ action: 'refuse', code: 'spawn_limit' });
    const model = decideSpawn({ ...base, requestedModel: 'anthropic/claude-opus-4' });
    expect(model).toMatchObject({ action: 'refuse', code: 'forbidden' });
    expect(model.action === 'refuse' && model.reason).toContain('can_spawn.models is ["openai/*"]');
    const wider = decideSpawn({ ...base, permissions: { allowed: false, reason: 'permissions.x is wider' } });
    expect(wider).toEqual({
      action: 'refuse',
      code: 'forbidden',
      reason: 'spawn_agent refused: permissions.x is wider',
    });
    const none = decideSpawn({ ...base, grant: spawnGrant(RULES, 'solo', false) });
    expect(none.action === 'refuse' && none.reason).toContain('solo may not spawn sub-agents');
  });
});

describe('sub-agent ids and orphans', () => {
  it('names the parent in the id, whose budget it spends', () => {
    expect(parentOfSubAgent('lead_0a1b2c3d')).toBe('lead');
    expect(parentOfSubAgent('lead')).toBeNull();
    expect(parentOfSubAgent('lead_xyz')).toBeNull();
    expect(budgetOwner('lead_0a1b2c3d')).toBe('lead');
    expect(budgetOwner('solo')).toBe('solo');
  });

  it('removes a leftover sub-agent container or volume unless a live run owns it', () => {
    const leftover = { kind: 'container' as const, ref: 'abc', agent: 'lead_0a1b2c3d', parent: 'lead' };
    expect(judgeLeftover(leftover, new Set())).toEqual({
      action: 'remove',
      reason: 'sub-agent lead_0a1b2c3d of lead has no live run (the mesh that started it is gone)',
    });
    expect(judgeLeftover({ ...leftover, kind: 'volume' }, new Set(['lead_0a1b2c3d']))).toEqual({ action: 'keep' });
  });
});
