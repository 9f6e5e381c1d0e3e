// legion doctor's allowlist check: entries that point at this machine (loopback, an
// interface address, the legion gateway, localhost) or at a model provider's endpoint
// are warnings that say what the egress proxy will do with them and how to fix them;
// nothing else is. Rules are real parsed policies; addresses are a fixed table.
import { describe, expect, it } from 'vitest';
import { checkAllowlist, type AllowlistFacts } from '../../src/cli/doctor/allowlist.js';
import type { PermissionRules } from '../../src/shared/config/permissions/policy.js';
import { PermissionsFileSchema } from '../../src/shared/config/permissions/schema.js';
import { STARTER_RULES } from '../../src/shared/config/permissions/starter.js';

const FACTS: AllowlistFacts = {
  hostAddresses: new Set(['192.168.77.5', '172.19.0.1']),
  providers: [
    { name: 'openai', baseUrl: 'https://api.openai.com/v1' },
    { name: 'ollama', baseUrl: 'http://localhost:11434/v1' },
  ],
};

function rules(domains: Record<string, string[]>, defaults?: string[]): PermissionRules {
  const agents = Object.fromEntries(Object.entries(domains).map(([agent, list]) => [agent, { allowed_domains: list }]));
  const file = PermissionsFileSchema.parse({ agents, ...(defaults ? { default: { allowed_domains: defaults } } : {}) });
  return { policy: file, source: { kind: 'file', path: 'config/permissions.yaml' } };
}

describe('checkAllowlist', () => {
  it('is ok for public hosts and private ones that are not this machine', () => {
    expect(checkAllowlist(rules({ scout: ['*.github.com', 'pypi.org', '10.1.2.3:5432'] }), FACTS)).toEqual({
      check: 'egress allowlist',
      status: 'ok',
      detail: 'no allowed_domains entry points at this machine or at a model endpoint',
    });
    expect(checkAllowlist(STARTER_RULES, FACTS).status).toBe('ok');
  });

  it('warns that a bare or wildcard-port entry for this machine opens nothing, with the exact form to use', () => {
    const result = checkAllowlist(
      rules({ scout: ['127.0.0.1', '192.168.77.5:*', 'localhost'] }, ['172.19.0.1']),
      FACTS,
    );
    expect(result.status).toBe('warn');
    expect(result.detail.split('\n')).toEqual([
      'config/permissions.yaml: default.allowed_domains: "172.19.0.1" points at this machine, where the egress proxy opens only an entry naming host:port exactly, so it opens nothing',
      'config/permissions.yaml: agents.scout.allowed_domains: "127.0.0.1" points at this machine, where the egress proxy opens only an entry naming host:port exactly, so it opens nothing',
      'config/permissions.yaml: agents.scout.allowed_domains: "192.168.77.5:*" points at the endpoint of LLM provider ollama (http://localhost:11434/v1); the egress proxy never lets an agent reach it, agents call models only through the mesh\'s metered LLM route',
      'config/permissions.yaml: agents.scout.allowed_domains: "192.168.77.5:*" points at this machine, where the egress proxy opens only an entry naming host:port exactly, so it opens nothing',
      'config/permissions.yaml: agents.scout.allowed_domains: "localhost" points at this machine, where the egress proxy opens only an entry naming host:port exactly, so it opens nothing',
    ]);
    expect(result.hint?.split('\n')[1]).toBe(
      'replace "127.0.0.1" with 127.0.0.1:<port> for the one service agents need, or remove it',
    );
  });

  it('warns that an exact host:port entry really opens that port of this machine', () => {
    const result = checkAllowlist(rules({ scout: ['127.0.0.1:8080', '[::1]:6000'] }), FACTS);
    expect(result.detail).toBe(
      [
        'config/permissions.yaml: agents.scout.allowed_domains: "127.0.0.1:8080" lets the agent reach port 8080 of this machine through the egress proxy',
        'config/permissions.yaml: agents.scout.allowed_domains: "[::1]:6000" lets the agent reach port 6000 of this machine through the egress proxy',
      ].join('\n'),
    );
    expect(result.hint).toContain(
      'keep "127.0.0.1:8080" only if that service is meant for agents (never the admin API or a model server); otherwise remove it',
    );
  });

  it('warns about entries for a model endpoint, local or public, that the proxy will never open', () => {
    const result = checkAllowlist(
      rules({
        scout: ['127.0.0.1:11434', '192.168.77.5:11434', 'api.openai.com', '*.openai.com', 'api.openai.com:8080'],
      }),
      FACTS,
    );
    const lines = result.detail.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe(
      'config/permissions.yaml: agents.scout.allowed_domains: "127.0.0.1:11434" points at the endpoint of LLM provider ollama (http://localhost:11434/v1); the egress proxy never lets an agent reach it, agents call models only through the mesh\'s metered LLM route',
    );
    expect(
      lines.slice(1).map((line) => /"([^"]+)" points at the endpoint of LLM provider (\w+)/.exec(line)?.slice(1)),
    ).toEqual([
      ['192.168.77.5:11434', 'ollama'],
      ['api.openai.com', 'openai'],
      ['*.openai.com', 'openai'],
    ]);
    expect(result.hint?.split('\n')[0]).toBe(
      'remove "127.0.0.1:11434" from config/permissions.yaml: agents.scout.allowed_domains',
    );
  });
});
