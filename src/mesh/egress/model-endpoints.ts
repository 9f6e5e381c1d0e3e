// The mesh's LLM and embedding endpoints (every provider's base URL), which no agent may
// reach except through the mesh's metered LLM route. Invariants: an endpoint is matched
// by its host name and port, and by its resolved addresses at that port; an endpoint on
// this machine (loopback or a host interface) is matched at every host address, since a
// server listening on 0.0.0.0 answers on all of them; resolution is cached for
// RESOLVED_TTL_MS and bounded by RESOLVE_TIMEOUT_MS, so a slow DNS never stalls a
// decision for long, and a failed one leaves the name check in force; the provider list
// is read at each decision, so a config reload is seen at once.
import { canonicalIp, endpointOf, isHostAddress } from '../../shared/config/permissions/addresses.js';
import type { Destination } from '../../shared/config/permissions/domains.js';

export interface ModelProvider {
  name: string;
  baseUrl: string;
}

export interface ModelEndpoint {
  provider: string;
  baseUrl: string;
  /** Lower case; an IP literal in canonical form. */
  host: string;
  port: number;
  /** Canonical addresses the host resolved to (the host itself for an IP literal). */
  addresses: readonly string[];
}

export type ModelEndpointSource = () => Promise<readonly ModelEndpoint[]>;

const RESOLVED_TTL_MS = 60_000;
const FAILED_TTL_MS = 5_000;
const RESOLVE_TIMEOUT_MS = 3_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no DNS answer within ${ms / 1000} s`)), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** The endpoint `destination` (at `addresses`, canonical) would reach, or null. */
export function modelEndpointAt(
  endpoints: readonly ModelEndpoint[],
  destination: Destination,
  addresses: readonly string[],
  hostAddresses: ReadonlySet<string>,
): ModelEndpoint | null {
  const host = canonicalIp(destination.host) ?? destination.host.toLowerCase();
  for (const endpoint of endpoints) {
    if (endpoint.port !== destination.port) continue;
    if (endpoint.host === host) return endpoint;
    const onThisHost = endpoint.host === 'localhost' || endpoint.addresses.some((a) => isHostAddress(a, hostAddresses));
    if (addresses.some((a) => endpoint.addresses.includes(a) || (onThisHost && isHostAddress(a, hostAddresses))))
      return endpoint;
  }
  return null;
}

/** Endpoints of the providers `providers()` names now, their host names resolved through `resolve` (cached). */
export function modelEndpoints(
  providers: () => readonly ModelProvider[],
  resolve: (host: string) => Promise<string[]>,
): ModelEndpointSource {
  const cache = new Map<string, { until: number; addresses: Promise<string[]> }>();
  const addressesOf = (host: string): Promise<string[]> => {
    if (canonicalIp(host) !== null) return Promise.resolve([host]);
    const cached = cache.get(host);
    if (cached && cached.until > Date.now()) return cached.addresses;
    const entry = { until: Date.now() + RESOLVED_TTL_MS, addresses: Promise.resolve<string[]>([]) };
    entry.addresses = withTimeout(resolve(host), RESOLVE_TIMEOUT_MS).then(
      (found) => found.map((a) => canonicalIp(a) ?? a),
      () => {
        entry.until = Date.now() + FAILED_TTL_MS;
        return [];
      },
    );
    cache.set(host, entry);
    return entry.addresses;
  };
  return async () => {
    const located = providers().flatMap((provider) => {
      const at = endpointOf(provider.baseUrl);
      return at ? [{ provider: provider.name, baseUrl: provider.baseUrl, ...at }] : [];
    });
    // All at once: one slow name must not add its wait to the others'.
    const addresses = await Promise.all(located.map((endpoint) => addressesOf(endpoint.host)));
    return located.map((endpoint, i) => ({ ...endpoint, addresses: addresses[i] ?? [] }));
  };
}
