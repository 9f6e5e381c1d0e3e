// Where an agent may connect, for the egress proxy and for POST /mesh/http alike, by
// rules checked in this order, the first that refuses naming itself in the reason:
//   model_endpoint   a provider's LLM/embedding endpoint: never (the metered route is the way)
//   host_address     an address of this machine (loopback, any interface, the docker
//                    bridges): only when an allowed_domains entry names that exact host:port
//   allowed_domains  an entry matching host and port allows (a bare host: 80 and 443)
//   private_address  private, link-local and other non-public addresses: only when listed
//   allowed_domains  otherwise can_use_internet decides
// Invariants: IP literals are compared in canonical form (decimal, hex, octal and
// IPv4-mapped spellings included) and never sent to DNS; a name is refused when any of
// its addresses is refused; the answer carries the addresses that were checked, and
// callers must connect to those (never resolve again), so a DNS answer that changes
// between check and connect cannot smuggle in another address.
import { lookup } from 'node:dns/promises';
import type { Destination } from '../../shared/config/permissions/domains.js';
import { destinationText } from '../../shared/config/permissions/domains.js';
import type { PermissionChecker } from '../permissions/types.js';
import { canonicalIp, isHostAddress, isNonPublicAddress } from '../../shared/config/permissions/addresses.js';
import { modelEndpointAt, type ModelEndpointSource } from './model-endpoints.js';

export { isNonPublicAddress } from '../../shared/config/permissions/addresses.js';

export type EgressRule = 'no_address' | 'model_endpoint' | 'host_address' | 'private_address' | 'allowed_domains';

export type DestinationDecision =
  | { allowed: true; addresses: string[] }
  | { allowed: false; rule: EgressRule; reason: string };

export type Resolver = (host: string) => Promise<string[]>;

export interface DestinationContext {
  resolve: Resolver;
  /** This machine's interface addresses, canonical; read at each decision. */
  hostAddresses: () => ReadonlySet<string>;
  modelEndpoints: ModelEndpointSource;
}

export const systemResolver: Resolver = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** Lower-case, without IPv6 brackets or a trailing dot: the form globs are matched against. */
export function normalizeHost(host: string): string {
  return host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}

function refuse(rule: EgressRule, reason: string): DestinationDecision {
  return { allowed: false, rule, reason: `${reason} [rule: ${rule}]` };
}

/** "h is" for an IP literal, "h is a," for a name that resolved to a. */
function whatItIs(host: string, address: string): string {
  return address === host ? `${host} is` : `${host} is ${address},`;
}

export async function decideDestination(
  permissions: Pick<PermissionChecker, 'checkDomain' | 'canUseInternet'>,
  agent: string,
  target: Destination,
  context: DestinationContext,
): Promise<DestinationDecision> {
  const named = normalizeHost(target.host);
  if (!named) return refuse('no_address', `${agent} may not connect: no host given`);
  const literal = canonicalIp(named);
  const host = literal ?? named;
  const destination = { host, port: target.port };
  const subject = destinationText(destination);
  let addresses: string[];
  try {
    addresses = literal !== null ? [literal] : (await context.resolve(host)).map((a) => canonicalIp(a) ?? a);
  } catch (err) {
    return refuse('no_address', `${host} could not be resolved (${err instanceof Error ? err.message : String(err)})`);
  }
  if (addresses.length === 0) return refuse('no_address', `${host} has no address`);

  const hostAddresses = context.hostAddresses();
  const endpoint = modelEndpointAt(await context.modelEndpoints(), destination, addresses, hostAddresses);
  if (endpoint) {
    return refuse(
      'model_endpoint',
      `${agent} may not connect to ${subject}: it is the endpoint of LLM provider ${endpoint.provider} (${endpoint.baseUrl}), which agents reach only through the mesh's metered LLM route, whatever allowed_domains and can_use_internet say`,
    );
  }
  const listed = permissions.checkDomain(agent, host, target.port);
  const onHost = addresses.find((a) => isHostAddress(a, hostAddresses));
  if (onHost !== undefined) {
    if (listed.allowed && listed.exact) return { allowed: true, addresses };
    return refuse(
      'host_address',
      `${agent} may not connect to ${subject}: ${whatItIs(host, onHost)} an address of this machine, reachable only through an allowed_domains entry naming exactly "${subject}", whatever can_use_internet says`,
    );
  }
  if (listed.allowed) return { allowed: true, addresses };
  const internal = addresses.find(isNonPublicAddress);
  if (internal !== undefined) {
    return refuse(
      'private_address',
      `${listed.reason}; ${whatItIs(host, internal)} a private, loopback or link-local address, reachable only when listed in allowed_domains`,
    );
  }
  if (permissions.canUseInternet(agent)) return { allowed: true, addresses };
  return refuse('allowed_domains', `${listed.reason}, and can_use_internet is false`);
}
