// Doctor check of allowed_domains: an entry that points at this machine (loopback, an
// interface address, the legion network's gateway) or at a model provider's endpoint is
// worth a warning, because the egress proxy treats both specially: this machine opens
// only to an entry naming host:port exactly (and then that port really is open to the
// agent), a model endpoint never. Pure: the addresses and endpoints are probed by the
// runner. Only what the entries spell out is compared; no name is looked up in DNS.
import picomatch from 'picomatch';
import { endpointOf, isHostAddress } from '../../shared/config/permissions/addresses.js';
import { parseDomainEntry, WEB_PORTS, type DomainEntry } from '../../shared/config/permissions/domains.js';
import type { PermissionRules } from '../../shared/config/permissions/policy.js';
import { ok, warn, type CheckResult } from './types.js';

const CHECK = 'egress allowlist';

export interface AllowlistFacts {
  /** This machine's interface addresses, canonical (the legion gateway among them when it exists). */
  hostAddresses: ReadonlySet<string>;
  /** The providers' base URLs (every LLM and embedding endpoint the mesh calls). */
  providers: readonly { name: string; baseUrl: string }[];
}

interface Finding {
  detail: string;
  hint: string;
}

function coversPort(entry: DomainEntry, port: number): boolean {
  return entry.port === 'any' || (entry.port === 'web' ? WEB_PORTS.includes(port) : entry.port === port);
}

function matchesHost(entry: DomainEntry, host: string): boolean {
  return entry.literalHost ? entry.host === host : picomatch(entry.host, { dot: true, nonegate: true })(host);
}

/** Whether the entry's host is this machine: a literal address of it, localhost, or a glob over loopback. */
function pointsAtHost(entry: DomainEntry, facts: AllowlistFacts): boolean {
  if (entry.literalHost)
    return (
      entry.host === 'localhost' || entry.host.endsWith('.localhost') || isHostAddress(entry.host, facts.hostAddresses)
    );
  return ['localhost', '127.0.0.1', ...facts.hostAddresses].some((host) => matchesHost(entry, host));
}

function findingsFor(where: string, entry: DomainEntry, facts: AllowlistFacts): Finding[] {
  const onHost = pointsAtHost(entry, facts);
  const findings: Finding[] = [];
  for (const provider of facts.providers) {
    const endpoint = endpointOf(provider.baseUrl);
    if (!endpoint || !coversPort(entry, endpoint.port)) continue;
    const local = endpoint.host === 'localhost' || isHostAddress(endpoint.host, facts.hostAddresses);
    if (matchesHost(entry, endpoint.host) || (local && onHost)) {
      findings.push({
        detail: `${where}: "${entry.text}" points at the endpoint of LLM provider ${provider.name} (${provider.baseUrl}); the egress proxy never lets an agent reach it, agents call models only through the mesh's metered LLM route`,
        hint: `remove "${entry.text}" from ${where}`,
      });
    }
  }
  // An entry for one port that is a model endpoint opens nothing else to warn about.
  if (!onHost || (findings.length > 0 && typeof entry.port === 'number')) return findings;
  if (entry.literalHost && typeof entry.port === 'number') {
    findings.push({
      detail: `${where}: "${entry.text}" lets the agent reach port ${entry.port} of this machine through the egress proxy`,
      hint: `keep "${entry.text}" only if that service is meant for agents (never the admin API or a model server); otherwise remove it`,
    });
  } else {
    const host = entry.literalHost ? (entry.host.includes(':') ? `[${entry.host}]` : entry.host) : '<address>';
    findings.push({
      detail: `${where}: "${entry.text}" points at this machine, where the egress proxy opens only an entry naming host:port exactly, so it opens nothing`,
      hint: `replace "${entry.text}" with ${host}:<port> for the one service agents need, or remove it`,
    });
  }
  return findings;
}

export function checkAllowlist(rules: PermissionRules, facts: AllowlistFacts): CheckResult {
  const file = rules.source.kind === 'file' ? rules.source.path : 'the starter policy';
  const entries: [string, readonly string[]][] = [];
  if (rules.policy.default) entries.push([`${file}: default.allowed_domains`, rules.policy.default.allowed_domains]);
  for (const [agent, entry] of Object.entries(rules.policy.agents))
    entries.push([`${file}: agents.${agent}.allowed_domains`, entry.allowed_domains]);
  const findings: Finding[] = [];
  for (const [where, list] of entries) {
    for (const text of list) {
      const entry = parseDomainEntry(text.replaceAll('{agent}', 'agent'));
      if (typeof entry !== 'string') findings.push(...findingsFor(where, { ...entry, text }, facts));
    }
  }
  if (findings.length === 0) return ok(CHECK, 'no allowed_domains entry points at this machine or at a model endpoint');
  return warn(CHECK, findings.map((f) => f.detail).join('\n'), findings.map((f) => f.hint).join('\n'));
}
