// allowed_domains entries: what each form means (bare host: 80 and 443; host:port;
// host:*; wildcard hosts with or without a port; IPv6 in brackets), and a malformed
// entry refused when the permissions file loads, with the file, agent and entry named.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ConfigError } from '../../src/shared/config/project.js';
import { readPermissionRules } from '../../src/shared/config/permissions/file.js';
import { matchDomain, parseDomainEntry } from '../../src/shared/config/permissions/domains.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function loadErrors(yaml: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'legion-allowlist-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'config'));
  writeFileSync(join(dir, 'config', 'permissions.yaml'), yaml);
  try {
    readPermissionRules(dir);
  } catch (err) {
    if (err instanceof ConfigError) return err.lines;
    throw err;
  }
  return [];
}

describe('parseDomainEntry', () => {
  it('reads a bare host as ports 80 and 443, host:port and host:* as written', () => {
    expect(parseDomainEntry('API.GitHub.com')).toEqual({
      text: 'API.GitHub.com',
      host: 'api.github.com',
      port: 'web',
      literalHost: true,
    });
    expect(parseDomainEntry('127.0.0.1:8080')).toEqual({
      text: '127.0.0.1:8080',
      host: '127.0.0.1',
      port: 8080,
      literalHost: true,
    });
    expect(parseDomainEntry('intranet.corp:*')).toMatchObject({ host: 'intranet.corp', port: 'any' });
    expect(parseDomainEntry('*.example.com:8443')).toMatchObject({
      host: '*.example.com',
      port: 8443,
      literalHost: false,
    });
  });

  it('reads IPv6 bare or in brackets, in canonical form', () => {
    expect(parseDomainEntry('::1')).toMatchObject({ host: '::1', port: 'web' });
    expect(parseDomainEntry('[0:0:0:0:0:0:0:1]:6000')).toMatchObject({ host: '::1', port: 6000, literalHost: true });
    expect(parseDomainEntry('[::ffff:127.0.0.1]:80')).toMatchObject({ host: '127.0.0.1', port: 80 });
  });

  it('says what is wrong with a malformed entry', () => {
    expect(parseDomainEntry('example.com:99999')).toBe(
      '"example.com:99999" has a bad port "99999": expected a number from 1 to 65535, or * for any port',
    );
    expect(parseDomainEntry('example.com:0')).toMatch(/bad port "0"/);
    expect(parseDomainEntry('example.com:')).toMatch(/bad port ""/);
    expect(parseDomainEntry('example.com:http')).toMatch(/bad port "http"/);
    expect(parseDomainEntry('https://example.com')).toMatch(/without scheme or path/);
    expect(parseDomainEntry('example.com/api')).toMatch(/without scheme or path/);
    expect(parseDomainEntry(':8080')).toMatch(/has no host/);
    expect(parseDomainEntry('[example.com]:80')).toMatch(/only an IPv6 address goes in brackets/);
    expect(parseDomainEntry('fe80::1::2')).toMatch(/neither host:port nor an IPv6 address/);
    expect(parseDomainEntry('user@example.com')).toMatch(/"@"/);
  });
});

describe('matchDomain', () => {
  it('matches wildcard hosts at any depth, on their ports only', () => {
    const entries = ['*.example.com', '*.example.com:8443'];
    expect(matchDomain(entries, 'a', { host: 'x.y.example.com', port: 443 })).toEqual({ matched: true, exact: false });
    expect(matchDomain(entries, 'a', { host: 'x.example.com', port: 8443 })).toEqual({ matched: true, exact: false });
    expect(matchDomain(entries, 'a', { host: 'example.com', port: 443 })).toEqual({ matched: false, hostOnly: null });
    expect(matchDomain(entries, 'a', { host: 'x.example.com', port: 22 })).toMatchObject({
      matched: false,
      hostOnly: { text: '*.example.com' },
    });
  });

  it('is exact only for a literal host with a literal port', () => {
    expect(matchDomain(['127.0.0.1:8080'], 'a', { host: '127.0.0.1', port: 8080 })).toEqual({
      matched: true,
      exact: true,
    });
    expect(matchDomain(['127.0.0.1:*'], 'a', { host: '127.0.0.1', port: 8080 })).toEqual({
      matched: true,
      exact: false,
    });
    expect(matchDomain(['127.0.0.1'], 'a', { host: '127.0.0.1', port: 80 })).toEqual({ matched: true, exact: false });
    expect(matchDomain(['127.0.0.?:8080'], 'a', { host: '127.0.0.1', port: 8080 })).toEqual({
      matched: true,
      exact: false,
    });
  });

  it('substitutes the agent name', () => {
    expect(matchDomain(['{agent}.svc.internal:9000'], 'scout', { host: 'scout.svc.internal', port: 9000 })).toEqual({
      matched: true,
      exact: true,
    });
    expect(
      matchDomain(['{agent}.svc.internal:9000'], 'scout', { host: 'other.svc.internal', port: 9000 }).matched,
    ).toBe(false);
  });
});

describe('allowed_domains in config/permissions.yaml', () => {
  it('refuses a malformed entry, naming the file, the agent, the entry and what is wrong', () => {
    expect(loadErrors('agents:\n  scout:\n    allowed_domains: ["api.github.com", "localhost:99999"]\n')).toEqual([
      'config/permissions.yaml: agents.scout.allowed_domains.1: "localhost:99999" has a bad port "99999": expected a number from 1 to 65535, or * for any port',
    ]);
    expect(loadErrors('default:\n  allowed_domains: ["https://pypi.org/simple"]\nagents: {}\n')).toEqual([
      'config/permissions.yaml: default.allowed_domains.0: "https://pypi.org/simple" is not a host: write the host alone, without scheme or path (for example api.github.com or api.github.com:8443)',
    ]);
  });

  it('loads every valid form', () => {
    expect(
      loadErrors(
        'agents:\n  scout:\n    allowed_domains: ["*.github.com", "127.0.0.1:8080", "intranet.corp:*", "[::1]:6000", "::1", "*.example.com:8443"]\n',
      ),
    ).toEqual([]);
  });
});
