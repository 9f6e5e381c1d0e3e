// decideDestination is the one egress policy (proxy and POST /mesh/http): allowed_domains
// globs and ports, can_use_internet, this machine's addresses refused unless an entry
// names host:port exactly, model endpoints refused always, non-public addresses refused
// unless listed, address spellings (IPv4-mapped IPv6, decimal, hex, octal), resolver
// failures; and it answers with the addresses it checked. Rules are real parsed
// policies; DNS and the machine's interfaces are fixed tables, so every case is
// deterministic.
import { describe, expect, it, vi } from 'vitest';
import {
  decideDestination,
  isNonPublicAddress,
  normalizeHost,
  type DestinationContext,
  type Resolver,
} from '../../src/mesh/egress/destination.js';
import { modelEndpoints, type ModelProvider } from '../../src/mesh/egress/model-endpoints.js';
import {
  cronManagementAllowed,
  decide,
  domainAllowed,
  internetAllowed,
  type PermissionRules,
} from '../../src/shared/config/permissions/policy.js';
import { PermissionsFileSchema } from '../../src/shared/config/permissions/schema.js';
import type { PermissionChecker } from '../../src/mesh/permissions/types.js';

function checker(file: unknown): PermissionChecker {
  const rules: PermissionRules = {
    policy: PermissionsFileSchema.parse(file),
    source: { kind: 'file', path: 'config/permissions.yaml' },
  };
  return {
    check: (agent, permission, subject) => decide(rules, agent, permission, subject),
    checkDomain: (agent, host, port) => domainAllowed(rules, agent, { host, port }),
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
  'myhost.lan': ['192.168.77.5'],
  'api.openai.com': ['162.159.140.245'],
  'openai-alias.example': ['162.159.140.245'],
  localhost: ['127.0.0.1', '::1'],
});

/** This machine in these tests: its eth0, a docker bridge and a link-local IPv6 address. */
const HOST_ADDRESSES: ReadonlySet<string> = new Set(['192.168.77.5', '172.19.0.1', 'fe80::1']);

function context(dns: Resolver = DNS, providers: ModelProvider[] = []): DestinationContext {
  return { resolve: dns, hostAddresses: () => HOST_ADDRESSES, modelEndpoints: modelEndpoints(() => providers, dns) };
}

/** decideDestination for host:port (443 unless given) in the fixed context. */
function check(
  perms: PermissionChecker,
  agent: string,
  host: string,
  dns: Resolver = DNS,
  port = 443,
): ReturnType<typeof decideDestination> {
  return decideDestination(perms, agent, { host, port }, context(dns));
}

function at(
  perms: PermissionChecker,
  agent: string,
  host: string,
  port: number,
  dns: Resolver = DNS,
): ReturnType<typeof decideDestination> {
  return decideDestination(perms, agent, { host, port }, context(dns));
}

async function reasonOf(promise: ReturnType<typeof decideDestination>): Promise<string> {
  const decision = await promise;
  if (decision.allowed) throw new Error(`expected a refusal, got ${JSON.stringify(decision)}`);
  return decision.reason;
}

async function ruleOf(promise: ReturnType<typeof decideDestination>): Promise<string> {
  const decision = await promise;
  if (decision.allowed) throw new Error(`expected a refusal, got ${JSON.stringify(decision)}`);
  expect(decision.reason).toContain(`[rule: ${decision.rule}]`);
  return decision.rule;
}

describe('allowed_domains globs', () => {
  const perms = checker({ agents: { scout: { allowed_domains: ['*.github.com'] } } });

  it('"*.github.com" allows its subdomains at any depth and hands back the checked addresses', async () => {
    expect(await check(perms, 'scout', 'api.github.com', DNS)).toEqual({ allowed: true, addresses: ['140.82.112.6'] });
    expect(await check(perms, 'scout', 'a.b.github.com', DNS)).toEqual({ allowed: true, addresses: ['140.82.112.7'] });
  });

  it('does not allow the bare domain or a look-alike', async () => {
    expect(await reasonOf(check(perms, 'scout', 'github.com', DNS))).toBe(
      'scout may not connect to github.com:443: allowed_domains is ["*.github.com"], and can_use_internet is false [rule: allowed_domains]',
    );
    expect((await check(perms, 'scout', 'evilgithub.com', DNS)).allowed).toBe(false);
  });

  it('matches case-insensitively, ignoring a trailing dot', async () => {
    expect(await check(perms, 'scout', 'API.GitHub.com.', DNS)).toEqual({ allowed: true, addresses: ['140.82.112.6'] });
    expect(normalizeHost(' [::1] ')).toBe('::1');
  });

  it('gives an unlisted agent the default entry, and nothing without one', async () => {
    const withDefault = checker({ default: { allowed_domains: ['example.org'] }, agents: {} });
    expect((await check(withDefault, 'anyone', 'example.org', DNS)).allowed).toBe(true);
    expect(await reasonOf(check(checker({ agents: {} }), 'anyone', 'example.org', DNS))).toMatch(
      /not listed in config\/permissions\.yaml and there is no default entry/,
    );
  });

  it('refuses an empty host without asking DNS', async () => {
    const dns = fakeDns({});
    expect(await reasonOf(check(perms, 'scout', ' ', dns))).toMatch(/no host given/);
    expect(dns.asked).toEqual([]);
  });
});

describe('can_use_internet', () => {
  const open = checker({ agents: { surfer: { can_use_internet: true } } });
  const closed = checker({ agents: { hermit: {} } });

  it('allows any public host and public IP literal when true', async () => {
    expect(await check(open, 'surfer', 'example.org', DNS)).toEqual({
      allowed: true,
      addresses: ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
    });
    expect(await check(open, 'surfer', '93.184.215.14', DNS)).toEqual({ allowed: true, addresses: ['93.184.215.14'] });
  });

  it('refuses public hosts when false', async () => {
    expect(await reasonOf(check(closed, 'hermit', 'example.org', DNS))).toMatch(/can_use_internet is false/);
    expect(await reasonOf(check(closed, 'hermit', '93.184.215.14', DNS))).toMatch(/can_use_internet is false/);
  });

  it('never lets can_use_internet reach private, loopback or link-local addresses', async () => {
    for (const host of ['10.0.0.5', '192.168.1.1', '169.254.169.254', '100.64.0.1', 'fd00::1', 'fe80::2']) {
      expect(await reasonOf(check(open, 'surfer', host, DNS)), host).toMatch(
        /is a private, loopback or link-local address, reachable only when listed in allowed_domains \[rule: private_address\]$/,
      );
    }
    for (const host of ['127.0.0.1', '172.19.0.1', '0.0.0.0', '::1', 'fe80::1']) {
      expect(await ruleOf(check(open, 'surfer', host, DNS)), host).toBe('host_address');
    }
    expect(await reasonOf(check(open, 'surfer', 'intranet.corp', DNS))).toMatch(
      /intranet\.corp is 10\.1\.2\.3, a private/,
    );
    expect(await reasonOf(check(open, 'surfer', 'metadata.example.org', DNS))).toMatch(/169\.254\.169\.254/);
  });

  it('refuses a name when any of its addresses is private (DNS rebinding)', async () => {
    expect(await reasonOf(check(open, 'surfer', 'rebind.example.org', DNS))).toMatch(
      /rebind\.example\.org is 127\.0\.0\.1/,
    );
  });
});

describe('private addresses listed explicitly', () => {
  it('allows a private IP literal or a name that resolves privately only when listed', async () => {
    const perms = checker({ agents: { dev: { allowed_domains: ['10.20.0.7', 'intranet.corp'] } } });
    expect(await check(perms, 'dev', '10.20.0.7', DNS)).toEqual({ allowed: true, addresses: ['10.20.0.7'] });
    expect(await check(perms, 'dev', 'intranet.corp', DNS)).toEqual({ allowed: true, addresses: ['10.1.2.3'] });
    expect(await ruleOf(check(perms, 'dev', '10.20.0.8', DNS))).toBe('private_address');
    expect(await ruleOf(check(perms, 'dev', '127.0.0.1', DNS))).toBe('host_address');
  });

  it('allows a listed IPv6 literal given in brackets, or bare without a port', async () => {
    expect(
      await check(checker({ agents: { dev: { allowed_domains: ['fd00::7'] } } }), 'dev', '[fd00::7]', DNS),
    ).toEqual({ allowed: true, addresses: ['fd00::7'] });
    const withPort = checker({ agents: { dev: { allowed_domains: ['[fd00:0:0::7]:8080'] } } });
    expect(await at(withPort, 'dev', '[fd00::7]', 8080)).toEqual({ allowed: true, addresses: ['fd00::7'] });
    expect((await at(withPort, 'dev', 'fd00::7', 443)).allowed).toBe(false);
  });
});

describe('IPv4-mapped IPv6', () => {
  const open = checker({ agents: { surfer: { can_use_internet: true } } });

  it('treats mapped private addresses as private, dotted or hex', async () => {
    for (const host of ['::ffff:127.0.0.1', '[::ffff:7f00:1]', '::ffff:192.168.77.5']) {
      expect(await ruleOf(check(open, 'surfer', host, DNS)), host).toBe('host_address');
    }
    for (const host of ['::FFFF:10.0.0.1', '::ffff:a9fe:a9fe', '[0:0:0:0:0:ffff:a00:1]']) {
      expect(await reasonOf(check(open, 'surfer', host, DNS)), host).toMatch(/private, loopback or link-local/);
    }
    expect(await reasonOf(check(open, 'surfer', 'mapped.example.org', DNS))).toMatch(
      /mapped\.example\.org is 127\.0\.0\.1, an address of this machine/,
    );
  });

  it('treats a mapped public address as public', async () => {
    expect(isNonPublicAddress('::ffff:93.184.215.14')).toBe(false);
    expect(await check(open, 'surfer', '::ffff:93.184.215.14', DNS)).toEqual({
      allowed: true,
      addresses: ['93.184.215.14'],
    });
  });
});

describe('resolution', () => {
  const open = checker({ agents: { surfer: { can_use_internet: true, allowed_domains: ['*.corp'] } } });

  it('refuses with the resolver error when a name does not resolve', async () => {
    expect(await reasonOf(check(open, 'surfer', 'nowhere.invalid', DNS))).toMatch(
      /nowhere\.invalid could not be resolved \(getaddrinfo ENOTFOUND nowhere\.invalid\)/,
    );
  });

  it('refuses a name without addresses, even when listed', async () => {
    expect(await reasonOf(check(open, 'surfer', 'empty.example.org', DNS))).toMatch(/has no address/);
    const listed = checker({ agents: { dev: { allowed_domains: ['empty.example.org'] } } });
    expect(await reasonOf(check(listed, 'dev', 'empty.example.org', DNS))).toMatch(/has no address/);
  });

  it('never asks DNS about an IP literal', async () => {
    const dns = fakeDns({});
    expect((await check(open, 'surfer', '93.184.215.14', dns)).allowed).toBe(true);
    expect(dns.asked).toEqual([]);
  });

  it('treats anything that is not an IP address as non-public', () => {
    expect(isNonPublicAddress('not-an-address')).toBe(true);
    expect(isNonPublicAddress('8.8.8.8')).toBe(false);
    expect(isNonPublicAddress('2001:4860:4860::8888')).toBe(false);
  });
});

describe('ports', () => {
  const perms = checker({
    agents: { dev: { allowed_domains: ['example.org', 'api.github.com:8443', 'intranet.corp:*', '*.github.com:22'] } },
  });

  it('a bare host allows ports 80 and 443 only, and the refusal says which entry to add', async () => {
    expect((await at(perms, 'dev', 'example.org', 80)).allowed).toBe(true);
    expect((await at(perms, 'dev', 'example.org', 443)).allowed).toBe(true);
    expect(await reasonOf(at(perms, 'dev', 'example.org', 8080))).toMatch(
      /^dev may not connect to example\.org:8080: allowed_domains is \[.*\], and "example\.org" allows ports 80 and 443 only \(add "example\.org:8080" for this port\), and can_use_internet is false \[rule: allowed_domains\]$/,
    );
  });

  it('host:port allows that port only, host:* any port, and a wildcard host takes a port too', async () => {
    expect((await at(perms, 'dev', 'api.github.com', 8443)).allowed).toBe(true);
    expect((await at(perms, 'dev', 'api.github.com', 443)).allowed).toBe(false);
    expect((await at(perms, 'dev', 'intranet.corp', 5432)).allowed).toBe(true);
    expect((await at(perms, 'dev', 'intranet.corp', 1)).allowed).toBe(true);
    expect((await at(perms, 'dev', 'a.b.github.com', 22)).allowed).toBe(true);
    expect(await reasonOf(at(perms, 'dev', 'a.b.github.com', 23))).toMatch(
      /"\*\.github\.com:22" allows port 22 only \(add "\*\.github\.com:23" for this port\)/,
    );
  });

  it('a port does not open a public host to can_use_internet agents any wider', async () => {
    const open = checker({ agents: { surfer: { can_use_internet: true } } });
    expect((await at(open, 'surfer', 'example.org', 8080)).allowed).toBe(true);
  });
});

describe('addresses of this machine', () => {
  const open = checker({
    agents: {
      surfer: {
        can_use_internet: true,
        allowed_domains: ['127.0.0.1', '192.168.77.5', '*.lan:*', '127.0.0.*:8080', '172.19.0.1:*'],
      },
    },
  });
  const exact = checker({
    agents: { dev: { allowed_domains: ['127.0.0.1:8080', '192.168.77.5:9000', 'myhost.lan:7000', '[::1]:6000'] } },
  });

  it('refuses loopback, every interface address and the docker bridge whatever can_use_internet and non-exact entries say', async () => {
    for (const [host, port] of [
      ['127.0.0.1', 80],
      ['127.0.0.1', 8080],
      ['192.168.77.5', 443],
      ['myhost.lan', 7000],
      ['172.19.0.1', 8420],
      ['127.0.0.2', 8080],
      ['fe80::1', 443],
      ['::', 443],
    ] as const) {
      expect(await ruleOf(at(open, 'surfer', host, port)), `${host}:${port}`).toBe('host_address');
    }
    expect(await reasonOf(at(open, 'surfer', '192.168.77.5', 8420))).toBe(
      'surfer may not connect to 192.168.77.5:8420: 192.168.77.5 is an address of this machine, reachable only through an allowed_domains entry naming exactly "192.168.77.5:8420", whatever can_use_internet says [rule: host_address]',
    );
  });

  it('opens exactly the host:port an entry names, and nothing next to it', async () => {
    expect(await at(exact, 'dev', '127.0.0.1', 8080)).toEqual({ allowed: true, addresses: ['127.0.0.1'] });
    expect(await at(exact, 'dev', '192.168.77.5', 9000)).toEqual({ allowed: true, addresses: ['192.168.77.5'] });
    expect(await at(exact, 'dev', 'myhost.lan', 7000)).toEqual({ allowed: true, addresses: ['192.168.77.5'] });
    expect(await at(exact, 'dev', '[::1]', 6000)).toEqual({ allowed: true, addresses: ['::1'] });
    expect(await ruleOf(at(exact, 'dev', '127.0.0.1', 8081))).toBe('host_address');
    expect(await ruleOf(at(exact, 'dev', '192.168.77.5', 8080))).toBe('host_address');
    expect(await ruleOf(at(exact, 'dev', 'localhost', 8080))).toBe('host_address');
    expect(await ruleOf(at(exact, 'dev', '172.19.0.1', 8080))).toBe('host_address');
  });

  it('reads decimal, hex and octal IPv4 spellings as the address they are, without DNS', async () => {
    const dns = fakeDns({});
    for (const host of ['2130706433', '0x7f000001', '0x7f.0.0.1', '0177.0.0.1', '127.1', '017700000001']) {
      expect(await ruleOf(at(open, 'surfer', host, 8081, dns)), host).toBe('host_address');
    }
    expect(await at(exact, 'dev', '2130706433', 8080, dns)).toEqual({ allowed: true, addresses: ['127.0.0.1'] });
    expect(dns.asked).toEqual([]);
  });

  it('reads the interfaces at each decision', async () => {
    const addresses = new Set<string>();
    const live: DestinationContext = {
      resolve: DNS,
      hostAddresses: () => addresses,
      modelEndpoints: modelEndpoints(() => [], DNS),
    };
    const public_ = checker({ agents: { surfer: { can_use_internet: true } } });
    expect((await decideDestination(public_, 'surfer', { host: '93.184.215.14', port: 443 }, live)).allowed).toBe(true);
    addresses.add('93.184.215.14');
    expect(await ruleOf(decideDestination(public_, 'surfer', { host: '93.184.215.14', port: 443 }, live))).toBe(
      'host_address',
    );
  });
});

describe('model endpoints', () => {
  const providers: ModelProvider[] = [
    { name: 'ollama', baseUrl: 'http://127.0.0.1:11434/v1' },
    { name: 'openai', baseUrl: 'https://api.openai.com/v1' },
  ];
  const perms = checker({
    agents: {
      dev: {
        can_use_internet: true,
        allowed_domains: [
          '127.0.0.1:11434',
          'localhost:11434',
          '192.168.77.5:11434',
          '127.0.0.1:11435',
          'api.openai.com',
          'openai-alias.example',
        ],
      },
    },
  });
  const decideAt = (host: string, port: number, list = providers) =>
    decideDestination(perms, 'dev', { host, port }, context(DNS, list));

  it('refuses a local model server at every address of this machine, even when an entry names it exactly', async () => {
    for (const host of ['127.0.0.1', 'localhost', '192.168.77.5', '[::ffff:127.0.0.1]', '2130706433']) {
      expect(await ruleOf(decideAt(host, 11434)), host).toBe('model_endpoint');
    }
    expect(await reasonOf(decideAt('127.0.0.1', 11434))).toBe(
      "dev may not connect to 127.0.0.1:11434: it is the endpoint of LLM provider ollama (http://127.0.0.1:11434/v1), which agents reach only through the mesh's metered LLM route, whatever allowed_domains and can_use_internet say [rule: model_endpoint]",
    );
    expect((await decideAt('127.0.0.1', 11435)).allowed).toBe(true);
  });

  it('refuses a public provider by name and by its resolved address at its port', async () => {
    expect(await ruleOf(decideAt('api.openai.com', 443))).toBe('model_endpoint');
    expect(await ruleOf(decideAt('API.OpenAI.com.', 443))).toBe('model_endpoint');
    expect(await ruleOf(decideAt('openai-alias.example', 443))).toBe('model_endpoint');
    expect(await ruleOf(decideAt('162.159.140.245', 443))).toBe('model_endpoint');
    expect((await decideAt('162.159.140.245', 8443)).allowed).toBe(true);
  });

  it('decides without the addresses of a provider whose DNS never answers, by name', async () => {
    vi.useFakeTimers();
    try {
      const hanging: Resolver = async (host) =>
        host === 'llm.slow.example' ? new Promise<string[]>(() => undefined) : DNS(host);
      const slow: DestinationContext = {
        resolve: fakeDns({ 'llm.slow.example': ['203.0.113.80'], 'example.org': ['93.184.215.14'] }),
        hostAddresses: () => HOST_ADDRESSES,
        modelEndpoints: modelEndpoints(() => [{ name: 'slow', baseUrl: 'https://llm.slow.example' }], hanging),
      };
      const open = checker({ agents: { surfer: { can_use_internet: true } } });
      const byName = decideDestination(open, 'surfer', { host: 'llm.slow.example', port: 443 }, slow);
      const other = decideDestination(open, 'surfer', { host: 'example.org', port: 443 }, slow);
      await vi.advanceTimersByTimeAsync(3_000);
      expect(await ruleOf(byName)).toBe('model_endpoint');
      expect((await other).allowed).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('still refuses by name when the provider does not resolve, and follows the provider list as it changes', async () => {
    const unresolved = [{ name: 'remote', baseUrl: 'https://llm.nowhere.invalid:8000' }];
    const noDns: DestinationContext = {
      resolve: DNS,
      hostAddresses: () => HOST_ADDRESSES,
      modelEndpoints: modelEndpoints(() => unresolved, fakeDns({})),
    };
    const listed = checker({ agents: { dev: { allowed_domains: ['llm.nowhere.invalid:8000'] } } });
    const dns = fakeDns({ 'llm.nowhere.invalid': ['203.0.113.50'] });
    expect(
      await ruleOf(
        decideDestination(listed, 'dev', { host: 'llm.nowhere.invalid', port: 8000 }, { ...noDns, resolve: dns }),
      ),
    ).toBe('model_endpoint');
    const list: ModelProvider[] = [];
    const changing: DestinationContext = { ...context(), modelEndpoints: modelEndpoints(() => list, DNS) };
    expect((await decideDestination(perms, 'dev', { host: '127.0.0.1', port: 11434 }, changing)).allowed).toBe(true);
    list.push({ name: 'ollama', baseUrl: 'http://localhost:11434' });
    expect(await ruleOf(decideDestination(perms, 'dev', { host: '127.0.0.1', port: 11434 }, changing))).toBe(
      'model_endpoint',
    );
  });
});
