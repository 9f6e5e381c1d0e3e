// Where an agent may connect, for the egress proxy and for POST /mesh/http alike:
// a host listed in allowed_domains is allowed (private addresses only this way);
// otherwise private, loopback, link-local and other non-public addresses are refused;
// otherwise can_use_internet decides. The answer carries the addresses that were
// checked, and callers must connect to those (never resolve again), so a DNS answer
// that changes between check and connect cannot smuggle in a private address.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { PermissionChecker } from '../permissions/types.js';

export type DestinationDecision = { allowed: true; addresses: string[] } | { allowed: false; reason: string };

export type Resolver = (host: string) => Promise<string[]>;

const NON_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv6');
}

/** True for addresses that are not on the public internet (including IPv4-mapped ones). */
export function isNonPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return NON_PUBLIC.check(mapped[1], 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return NON_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export const systemResolver: Resolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** Lower-case, without IPv6 brackets or a trailing dot: the form globs are matched against. */
export function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

export async function decideDestination(
  permissions: PermissionChecker,
  agent: string,
  rawHost: string,
  resolve: Resolver = systemResolver,
): Promise<DestinationDecision> {
  const host = normalizeHost(rawHost);
  if (!host) return { allowed: false, reason: `${agent} may not connect: no host given` };
  const listed = permissions.check(agent, 'allowed_domains', host);
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : await resolve(host);
  } catch (err) {
    return { allowed: false, reason: `${host} could not be resolved (${err instanceof Error ? err.message : String(err)})` };
  }
  if (addresses.length === 0) return { allowed: false, reason: `${host} has no address` };
  if (listed.allowed) return { allowed: true, addresses };
  const internal = addresses.find(isNonPublicAddress);
  if (internal) {
    return { allowed: false, reason: `${listed.reason}; ${host} is ${internal === host ? 'a' : `${internal}, a`} private, loopback or link-local address, reachable only when listed in allowed_domains` };
  }
  if (permissions.canUseInternet(agent)) return { allowed: true, addresses };
  return { allowed: false, reason: `${listed.reason}, and can_use_internet is false` };
}
