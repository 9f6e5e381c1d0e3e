// Permission decisions are pure: globs per namespace, {agent} substitution, default
// fallback, deny-all without a default, and a reason that names the rule.
import { describe, expect, it } from 'vitest';
import { decide, type PermissionRules } from '../../src/shared/config/permissions/policy.js';
import { PermissionsFileSchema } from '../../src/shared/config/permissions/schema.js';
import { STARTER_RULES } from '../../src/shared/config/permissions/starter.js';
import type { Permission } from '../../src/shared/config/permissions/types.js';

function rules(file: unknown, path = 'config/permissions.yaml'): PermissionRules {
  return { policy: PermissionsFileSchema.parse(file), source: { kind: 'file', path } };
}

const ISSUE_EXAMPLE = rules({
  default: { blackboard_read: ['context/*'] },
  agents: {
    researcher: {
      can_message: ['qualifier'],
      can_publish: ['research_complete'],
      can_subscribe: ['new_lead'],
      blackboard_read: ['tasks/*', 'context/*'],
      blackboard_write: ['context/prospect_*'],
      allowed_apis: ['llm'],
    },
  },
});

function allowed(r: PermissionRules, agent: string, permission: Permission, subject: string): boolean {
  return decide(r, agent, permission, subject).allowed;
}

function reason(r: PermissionRules, agent: string, permission: Permission, subject: string): string {
  const decision = decide(r, agent, permission, subject);
  if (decision.allowed) throw new Error(`expected ${agent} to be denied ${permission} ${subject}`);
  return decision.reason;
}

describe('blackboard globs', () => {
  it('"*" stays within one segment, "**" spans segments', () => {
    const r = rules({ agents: { a: { blackboard_read: ['context/*', 'tasks/**'] } } });
    expect(allowed(r, 'a', 'blackboard_read', 'context/x')).toBe(true);
    expect(allowed(r, 'a', 'blackboard_read', 'context/x/y')).toBe(false);
    expect(allowed(r, 'a', 'blackboard_read', 'tasks/x/y/z')).toBe(true);
    expect(allowed(r, 'a', 'blackboard_read', 'signals/x')).toBe(false);
    expect(allowed(r, 'a', 'blackboard_read', 'contextual/x')).toBe(false);
  });

  it('matches a prefix glob within a segment and treats dot-names as ordinary', () => {
    const r = rules({ agents: { a: { blackboard_write: ['context/prospect_*'] } } });
    expect(allowed(r, 'a', 'blackboard_write', 'context/prospect_acme')).toBe(true);
    expect(allowed(r, 'a', 'blackboard_write', 'context/prospect_acme/notes')).toBe(false);
    expect(allowed(r, 'a', 'blackboard_write', 'context/lead_acme')).toBe(false);
    const dots = rules({ agents: { a: { blackboard_read: ['context/*'] } } });
    expect(allowed(dots, 'a', 'blackboard_read', 'context/.draft')).toBe(true);
  });

  it('keeps read and write separate', () => {
    expect(allowed(ISSUE_EXAMPLE, 'researcher', 'blackboard_read', 'tasks/t1')).toBe(true);
    expect(allowed(ISSUE_EXAMPLE, 'researcher', 'blackboard_write', 'tasks/t1')).toBe(false);
  });
});

describe('{agent} substitution', () => {
  const r = rules({ default: { blackboard_write: ['agents/{agent}/**'] } });

  it('gives each agent its own namespace', () => {
    expect(allowed(r, 'scout', 'blackboard_write', 'agents/scout/notes')).toBe(true);
    expect(allowed(r, 'scout', 'blackboard_write', 'agents/scout/deep/notes')).toBe(true);
    expect(allowed(r, 'scout', 'blackboard_write', 'agents/writer/notes')).toBe(false);
    expect(allowed(r, 'writer', 'blackboard_write', 'agents/writer/notes')).toBe(true);
  });

  it('does not let an agent name act as a glob', () => {
    expect(allowed(r, 'w*', 'blackboard_write', 'agents/writer/notes')).toBe(false);
    expect(allowed(r, 'w*', 'blackboard_write', 'agents/w*/notes')).toBe(true);
  });

  it('works in topics and message targets too', () => {
    const topics = rules({ default: { can_publish: ['{agent}.done'], can_message: ['{agent}-helper'] } });
    expect(allowed(topics, 'scout', 'can_publish', 'scout.done')).toBe(true);
    expect(allowed(topics, 'scout', 'can_publish', 'writer.done')).toBe(false);
    expect(allowed(topics, 'scout', 'can_message', 'scout-helper')).toBe(true);
    expect(allowed(topics, 'scout', 'can_message', 'writer-helper')).toBe(false);
  });
});

describe('resolution', () => {
  it('gives an unlisted agent the default entry', () => {
    expect(allowed(ISSUE_EXAMPLE, 'scout', 'blackboard_read', 'context/x')).toBe(true);
    expect(allowed(ISSUE_EXAMPLE, 'scout', 'blackboard_read', 'tasks/x')).toBe(false);
    expect(allowed(ISSUE_EXAMPLE, 'scout', 'allowed_apis', 'llm')).toBe(false);
  });

  it('does not merge a listed agent with the default', () => {
    const r = rules({ default: { allowed_apis: ['llm'] }, agents: { quiet: { blackboard_read: ['context/*'] } } });
    expect(allowed(r, 'quiet', 'allowed_apis', 'llm')).toBe(false);
    expect(allowed(r, 'other', 'allowed_apis', 'llm')).toBe(true);
  });

  it('denies everything to an unlisted agent when there is no default', () => {
    const r = rules({ agents: { a: { blackboard_read: ['**'], allowed_apis: ['*'] } } });
    for (const permission of [
      'blackboard_read',
      'blackboard_write',
      'can_publish',
      'can_subscribe',
      'can_message',
      'allowed_apis',
    ] as const) {
      expect(allowed(r, 'b', permission, 'x')).toBe(false);
    }
    expect(allowed(r, 'a', 'blackboard_read', 'any/key/at/all')).toBe(true);
  });

  it('does not resolve an agent named after an Object.prototype key', () => {
    expect(allowed(rules({ agents: {} }), 'constructor', 'blackboard_read', 'x')).toBe(false);
  });

  it('an empty file denies everything', () => {
    expect(allowed(rules({}), 'a', 'allowed_apis', 'llm')).toBe(false);
  });
});

describe('topics, agents and APIs', () => {
  it('checks publish, subscribe, message and API names by their own lists', () => {
    expect(allowed(ISSUE_EXAMPLE, 'researcher', 'can_publish', 'research_complete')).toBe(true);
    expect(allowed(ISSUE_EXAMPLE, 'researcher', 'can_publish', 'new_lead')).toBe(false);
    expect(allowed(ISSUE_EXAMPLE, 'researcher', 'can_subscribe', 'new_lead')).toBe(true);
    expect(allowed(ISSUE_EXAMPLE, 'researcher', 'can_subscribe', 'research_complete')).toBe(false);
    expect(allowed(ISSUE_EXAMPLE, 'researcher', 'can_message', 'qualifier')).toBe(true);
    expect(allowed(ISSUE_EXAMPLE, 'researcher', 'can_message', 'writer')).toBe(false);
    expect(allowed(ISSUE_EXAMPLE, 'researcher', 'allowed_apis', 'llm')).toBe(true);
    expect(allowed(ISSUE_EXAMPLE, 'researcher', 'allowed_apis', 'web')).toBe(false);
  });

  it('applies globs to topic, agent and API names', () => {
    const r = rules({ agents: { a: { can_subscribe: ['lead_*'], can_message: ['*'], allowed_apis: ['llm*'] } } });
    expect(allowed(r, 'a', 'can_subscribe', 'lead_new')).toBe(true);
    expect(allowed(r, 'a', 'can_subscribe', 'new_lead')).toBe(false);
    expect(allowed(r, 'a', 'can_message', 'anyone')).toBe(true);
    expect(allowed(r, 'a', 'allowed_apis', 'llm')).toBe(true);
    expect(allowed(r, 'a', 'allowed_apis', 'web')).toBe(false);
  });

  it('a missing list grants nothing', () => {
    expect(allowed(ISSUE_EXAMPLE, 'scout', 'can_publish', 'research_complete')).toBe(false);
  });
});

describe('denial reasons', () => {
  it('names the agent, the verb, the subject and the rule', () => {
    expect(reason(ISSUE_EXAMPLE, 'researcher', 'blackboard_write', 'context/x')).toBe(
      'researcher may not write context/x: blackboard_write is ["context/prospect_*"]',
    );
    expect(reason(ISSUE_EXAMPLE, 'researcher', 'blackboard_read', 'signals/x')).toBe(
      'researcher may not read signals/x: blackboard_read is ["tasks/*","context/*"]',
    );
    expect(reason(ISSUE_EXAMPLE, 'researcher', 'can_publish', 'x')).toBe(
      'researcher may not publish to x: can_publish is ["research_complete"]',
    );
    expect(reason(ISSUE_EXAMPLE, 'researcher', 'can_subscribe', 'x')).toBe(
      'researcher may not subscribe to x: can_subscribe is ["new_lead"]',
    );
    expect(reason(ISSUE_EXAMPLE, 'researcher', 'can_message', 'writer')).toBe(
      'researcher may not message writer: can_message is ["qualifier"]',
    );
    expect(reason(ISSUE_EXAMPLE, 'researcher', 'allowed_apis', 'web')).toBe(
      'researcher may not use the API web: allowed_apis is ["llm"]',
    );
  });

  it('shows globs as written, {agent} included', () => {
    const r = rules({ agents: { a: { blackboard_write: ['agents/{agent}/**'] } } });
    expect(reason(r, 'a', 'blackboard_write', 'context/x')).toBe(
      'a may not write context/x: blackboard_write is ["agents/{agent}/**"]',
    );
  });

  it('says when the default entry decided', () => {
    expect(reason(ISSUE_EXAMPLE, 'scout', 'blackboard_write', 'context/x')).toBe(
      'scout may not write context/x: blackboard_write is [] (default entry)',
    );
  });

  it('says when the agent is not listed and there is no default', () => {
    const r = rules({ agents: {} });
    expect(reason(r, 'scout', 'blackboard_write', 'context/x')).toBe(
      'scout may not write context/x: scout is not listed in config/permissions.yaml and there is no default entry',
    );
    const json = rules({ agents: {} }, 'config/permissions.json');
    expect(reason(json, 'scout', 'can_message', 'writer')).toBe(
      'scout may not message writer: scout is not listed in config/permissions.json and there is no default entry',
    );
  });

  it('says when the starter policy decided and how to change it', () => {
    expect(reason(STARTER_RULES, 'scout', 'blackboard_write', 'context/x')).toBe(
      'scout may not write context/x: blackboard_write is ["agents/{agent}/**"] (starter policy; write config/permissions.yaml to change it)',
    );
  });
});

describe('starter policy', () => {
  it('lets every agent call the LLM, use its own namespace and read context', () => {
    expect(allowed(STARTER_RULES, 'scout', 'allowed_apis', 'llm')).toBe(true);
    expect(allowed(STARTER_RULES, 'scout', 'blackboard_write', 'agents/scout/notes')).toBe(true);
    expect(allowed(STARTER_RULES, 'scout', 'blackboard_read', 'agents/scout/notes')).toBe(true);
    expect(allowed(STARTER_RULES, 'scout', 'blackboard_read', 'context/a/b')).toBe(true);
  });

  it('keeps agents out of each other and out of pub/sub and messaging', () => {
    expect(allowed(STARTER_RULES, 'scout', 'blackboard_read', 'agents/writer/notes')).toBe(false);
    expect(allowed(STARTER_RULES, 'scout', 'blackboard_write', 'context/x')).toBe(false);
    expect(allowed(STARTER_RULES, 'scout', 'can_publish', 'x')).toBe(false);
    expect(allowed(STARTER_RULES, 'scout', 'can_subscribe', 'x')).toBe(false);
    expect(allowed(STARTER_RULES, 'scout', 'can_message', 'writer')).toBe(false);
  });
});

describe('can_read_history', () => {
  it('allows reading the agents its globs name and names the rule otherwise', () => {
    const r = rules({ agents: { lead: { can_read_history: ['research-*', 'qualifier'] } } });
    expect(allowed(r, 'lead', 'can_read_history', 'research-eu')).toBe(true);
    expect(allowed(r, 'lead', 'can_read_history', 'qualifier')).toBe(true);
    expect(reason(r, 'lead', 'can_read_history', 'writer')).toBe(
      'lead may not read the history of writer: can_read_history is ["research-*","qualifier"]',
    );
    expect(allowed(STARTER_RULES, 'lead', 'can_read_history', 'writer')).toBe(false);
  });
});
