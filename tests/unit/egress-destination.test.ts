// decideDestination is the one egress policy (proxy and POST /mesh/http): allowed_domains
// globs, can_use_internet, non-public addresses refused unless listed, IPv4-mapped IPv6,
// resolver failures; and it answers with the addresses it checked. Rules are real
// parsed policies; DNS is a fake resolver, so every case is deterministic.
import { describe, expect, it } from 'vitest';
import { decideDestination, isNonPublicAddress, normalizeHost, type Resolver } from '../../src/mesh/egress/destination.js';
import { cronManagementAllowed, decide, internetAllowed, type PermissionRules } from '../../src/mesh/permissions/policy.js';
import { PermissionsFileSchema } from '../../src/mesh/permissions/schema.js';
import type { PermissionChecker } from '../../src/mesh/permissions/types.js';

function checker(file: unknown): PermissionChecker {
  const rules: PermissionRules = { policy: PermissionsFileSchema.parse(file), source: { kind: 'file', path: 'config/permissions.yaml' } };
  return {
    check: (agent, permission, subject) => decide(rules, agent, permission, subject),
    canUseInternet: (agent) => internetAllowed(rules, agent),
    canManageCron: (agent) => cronManagementAllowed(rules, agent),
  };
}

/** Answers from a fixed table; records every host it was asked about. */
function fakeDns(table: Record<string, string[]>): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (host: string): Promise<string[]> => {
    asked.push(host);
    const answer = table[host];
    if (!answer) throw new Error(`getaddrinfo ENOTFOUND ${host}`);
    return answer;
  };
  return Object.assign(resolve, { asked });
}

const DNS = fakeDns({
  'api.github.com': ['140.82.112.6'],
  'a.b.github.com': ['140.82.112.7'],
  'github.com': ['140.82.112.3'],
  'evilgithub.com': ['203.0.113.9'],
  'example.org': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
  'intranet.corp': ['10.1.2.3'],
  'rebind.example.org': ['93.184.215.14', '127.0.0.1'],
  'metadata.example.org': ['169.254.169.254'],
  'mapped.example.org': ['::ffff:127.0.0.1'],
  'empty.example.org': [],
});

async function reasonOf(promise: ReturnType<typeof decideDestination>): Promise<string> {
  const decision = await promise;
  if (decision.allowed) throw new Error(`expected a refusal, got ${JSON.stringify(decision)}`);
  return decision.reason;
}

describe('allowed_domains globs', () => {
  const perms = checker({ agents: { scout: { allowed_domains: ['*.github.com'] } } });

  it('"*.github.com" allows its subdomains at any depth and hands back the checked addresses', async () => {
    expect(await decideDestination(perms, 'scout', 'api.github.com', DNS)).toEqual({ allowed: true, addresses: ['140.82.112.6'] });
    expect(await decideDestination(perms, 'scout', 'a.b.github.com', DNS)).toEqual({ allowed: true, addresses: ['140.82.112.7'] });
  });

  it('does not allow the bare domain or a look-alike', async () => {
    expect(await reasonOf(decideDestination(perms, 'scout', 'github.com', DNS))).toMatch(/scout may not connect to github\.com: allowed_domains is \["\*\.github\.com"\].*can_use_internet is false/);
    expect((await decideDestination(perms, 'scout', 'evilgithub.com', DNS)).allowed).toBe(false);
  });

  it('matches case-insensitively, ignoring a trailing dot', async () => {
    expect(await decideDestination(perms, 'scout', 'API.GitHub.com.', DNS)).toEqual({ allowed: true, addresses: ['140.82.112.6'] });
    expect(normalizeHost(' [::1] ')).toBe('::1');
  });

  it('gives an unlisted agent the default entry, and nothing without one', async () => {
    const withDefault = checker({ default: { allowed_domains: ['example.org'] }, agents: {} });
    expect((await decideDestination(withDefault, 'anyone', 'example.org', DNS)).allowed).toBe(true);
    expect(await reasonOf(decideDestination(checker({ agents: {} }), 'anyone', 'example.org', DNS))).toMatch(/not listed in config\/permissions\.yaml and there is no default entry/);
  });

  it('refuses an empty host without asking DNS', async () => {
    const dns = fakeDns({});
    expect(await reasonOf(decideDestination(perms, 'scout', ' ', dns))).toMatch(/no host given/);
    expect(dns.asked).toEqual([]);
  });
});

describe('can_use_internet', () => {
  const open = checker({ agents: { surfer: { can_use_internet: true } } });
  const closed = checker({ agents: { hermit: {} } });

  it('allows any public host and public IP literal when true', async () => {
    expect(await decideDestination(open, 'surfer', 'example.org', DNS)).toEqual({ allowed: true, addresses: ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'] });
    expect(await decideDestination(open, 'surfer', '93.184.215.14', DNS)).toEqual({ allowed: true, addresses: ['93.184.215.14'] });
  });

  it('refuses public hosts when false', async () => {
    expect(await reasonOf(decideDestination(closed, 'hermit', 'example.org', DNS))).toMatch(/can_use_internet is false/);
    expect(await reasonOf(decideDestination(closed, 'hermit', '93.184.215.14', DNS))).toMatch(/can_use_internet is false/);
  });

  it('never lets can_use_internet reach private, loopback or link-local addresses', async () => {
    for (const host of ['127.0.0.1', '10.0.0.5', '172.19.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1']) {
      expect(await reasonOf(decideDestination(open, 'surfer', host, DNS)), host).toMatch(/is a private, loopback or link-local address, reachable only when listed in allowed_domains/);
    }
    expect(await reasonOf(decideDestination(open, 'surfer', 'intranet.corp', DNS))).toMatch(/intranet\.corp is 10\.1\.2\.3, a private/);
    expect(await reasonOf(decideDestination(open, 'surfer', 'metadata.example.org', DNS))).toMatch(/169\.254\.169\.254/);
  });

  it('refuses a name when any of its addresses is private (DNS rebinding)', async () => {
    expect(await reasonOf(decideDestination(open, 'surfer', 'rebind.example.org', DNS))).toMatch(/rebind\.example\.org is 127\.0\.0\.1/);
  });
});

describe('private addresses listed explicitly', () => {
  it('allows a private IP literal or a name that resolves privately only when listed', async () => {
    const perms = checker({ agents: { dev: { allowed_domains: ['172.19.0.1', 'intranet.corp'] } } });
    expect(await decideDestination(perms, 'dev', '172.19.0.1', DNS)).toEqual({ allowed: true, addresses: ['172.19.0.1'] });
    expect(await decideDestination(perms, 'dev', 'intranet.corp', DNS)).toEqual({ allowed: true, addresses: ['10.1.2.3'] });
    expect((await decideDestination(perms, 'dev', '172.19.0.2', DNS)).allowed).toBe(false);
    expect((await decideDestination(perms, 'dev', '127.0.0.1', DNS)).allowed).toBe(false);
  });

  it('allows a listed IPv6 literal given in brackets', async () => {
    const perms = checker({ agents: { dev: { allowed_domains: ['::1'] } } });
    expect(await decideDestination(perms, 'dev', '[::1]', DNS)).toEqual({ allowed: true, addresses: ['::1'] });
  });
});

describe('IPv4-mapped IPv6', () => {
  const open = checker({ agents: { surfer: { can_use_internet: true } } });

  it('treats mapped private addresses as private, dotted or hex', async () => {
    for (const host of ['::ffff:127.0.0.1', '[::ffff:7f00:1]', '::FFFF:10.0.0.1', '::ffff:a9fe:a9fe']) {
      expect(await reasonOf(decideDestination(open, 'surfer', host, DNS)), host).toMatch(/private, loopback or link-local/);
    }
    expect(await reasonOf(decideDestination(open, 'surfer', 'mapped.example.org', DNS))).toMatch(/::ffff:127\.0\.0\.1/);
  });

  it('treats a mapped public address as public', async () => {
    expect(isNonPublicAddress('::ffff:93.184.215.14')).toBe(false);
    expect(await decideDestination(open, 'surfer', '::ffff:93.184.215.14', DNS)).toEqual({ allowed: true, addresses: ['::ffff:93.184.215.14'] });
  });
});

describe('resolution', () => {
  const open = checker({ agents: { surfer: { can_use_internet: true, allowed_domains: ['*.corp'] } } });

  it('refuses with the resolver error when a name does not resolve', async () => {
    expect(await reasonOf(decideDestination(open, 'surfer', 'nowhere.invalid', DNS))).toMatch(/nowhere\.invalid could not be resolved \(getaddrinfo ENOTFOUND nowhere\.invalid\)/);
  });

  it('refuses a name without addresses, even when listed', async () => {
    expect(await reasonOf(decideDestination(open, 'surfer', 'empty.example.org', DNS))).toMatch(/has no address/);
    const listed = checker({ agents: { dev: { allowed_domains: ['empty.example.org'] } } });
    expect(await reasonOf(decideDestination(listed, 'dev', 'empty.example.org', DNS))).toMatch(/has no address/);
  });

  it('never asks DNS about an IP literal', async () => {
    const dns = fakeDns({});
    expect((await decideDestination(open, 'surfer', '93.184.215.14', dns)).allowed).toBe(true);
    expect(dns.asked).toEqual([]);
  });

  it('treats anything that is not an IP address as non-public', () => {
    expect(isNonPublicAddress('not-an-address')).toBe(true);
    expect(isNonPublicAddress('8.8.8.8')).toBe(false);
    expect(isNonPublicAddress('2001:4860:4860::8888')).toBe(false);
  });
});
