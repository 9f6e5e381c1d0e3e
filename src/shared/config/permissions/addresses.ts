// IP address facts the egress decision and allowed_domains entries rest on, and where a
// provider's base URL points; all pure except systemHostAddresses.
// Invariants: every comparison goes through canonicalIp, so one address has one
// spelling: IPv4 in dotted decimal (also when written as decimal, hex or octal
// numbers, the forms inet_aton accepts, or as IPv4-mapped IPv6), IPv6 compressed in
// lower case (RFC 5952) without zone. Anything that is not an address is non-public.
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

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

// Addresses that always mean this machine, whatever its interfaces: loopback, and the
// unspecified address, which a connect() on Linux sends to loopback.
const ALWAYS_HOST = new BlockList();
ALWAYS_HOST.addSubnet('127.0.0.0', 8, 'ipv4');
ALWAYS_HOST.addSubnet('0.0.0.0', 8, 'ipv4');
ALWAYS_HOST.addAddress('::1', 'ipv6');
ALWAYS_HOST.addAddress('::', 'ipv6');

/** inet_aton's forms: 1 to 4 parts, each decimal, 0x-hex or 0-octal, the last filling the rest. */
function numericIpv4(text: string): string | null {
  const parts = text.split('.');
  if (parts.length < 1 || parts.length > 4) return null;
  const values: number[] = [];
  for (const part of parts) {
    let value: number;
    if (/^0x[0-9a-f]*$/i.test(part)) value = part.length === 2 ? 0 : parseInt(part.slice(2), 16);
    else if (/^0[0-7]+$/.test(part)) value = parseInt(part, 8);
    else if (/^(0|[1-9][0-9]*)$/.test(part)) value = Number(part);
    else return null;
    values.push(value);
  }
  const last = values.pop() ?? 0;
  if (values.some((v) => v > 255) || last >= 2 ** (8 * (4 - values.length))) return null;
  let number = last;
  values.forEach((v, i) => (number += v * 2 ** (8 * (3 - i))));
  return [24, 16, 8, 0].map((shift) => Math.floor(number / 2 ** shift) % 256).join('.');
}

/** The eight 16-bit groups of an IPv6 address (an embedded dotted IPv4 tail allowed). */
function ipv6Groups(text: string): number[] | null {
  if (isIP(text) !== 6) return null;
  // A dotted tail is two groups written another way: rewrite it as hex first.
  const body = text.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_all, a: string, b: string, c: string, d: string) =>
    [
      [a, b],
      [c, d],
    ]
      .map(([hi, lo]) => ((Number(hi) << 8) | Number(lo)).toString(16))
      .join(':'),
  );
  const halves = body.split('::');
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const front = parse(halves[0] ?? '');
  const back = halves.length > 1 ? parse(halves[1] ?? '') : [];
  const missing = 8 - front.length - back.length;
  if (halves.length === 1 ? missing !== 0 : missing < 0) return null;
  return [...front, ...new Array<number>(missing).fill(0), ...back];
}

function compressIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** The one spelling of an IP address, or null when `text` is not one. */
export function canonicalIp(text: string): string | null {
  const bare = text
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/%.*$/, '');
  if (isIP(bare) === 4) return bare.split('.').map(Number).join('.');
  const v4 = numericIpv4(bare);
  if (v4) return v4;
  const groups = ipv6Groups(bare);
  if (!groups) return null;
  // ::ffff:a.b.c.d is a.b.c.d to every socket on this machine.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6] ?? 0, groups[7] ?? 0].flatMap((g) => [g >> 8, g & 0xff]).join('.');
  }
  return compressIpv6(groups);
}

function family(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 4 ? 'ipv4' : 'ipv6';
}

/** True for addresses that are not on the public internet (including IPv4-mapped ones). */
export function isNonPublicAddress(address: string): boolean {
  const canonical = canonicalIp(address);
  if (canonical === null) return true;
  return NON_PUBLIC.check(canonical, family(canonical));
}

/** True when `address` is this machine: loopback, unspecified, or one of `hostAddresses` (canonical). */
export function isHostAddress(address: string, hostAddresses: ReadonlySet<string>): boolean {
  const canonical = canonicalIp(address);
  if (canonical === null) return false;
  return ALWAYS_HOST.check(canonical, family(canonical)) || hostAddresses.has(canonical);
}

/** Every address of every interface of this machine right now (docker bridges included),
 *  canonical. Read per decision: getifaddrs is cheap, and interfaces come and go. */
export function systemHostAddresses(): ReadonlySet<string> {
  const found = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) {
      const canonical = canonicalIp(entry.address);
      if (canonical) found.add(canonical);
    }
  }
  return found;
}

/** host and port of a base URL (port by scheme when the URL has none), or null. */
export function endpointOf(baseUrl: string): { host: string; port: number } | null {
  if (!URL.canParse(baseUrl)) return null;
  const url = new URL(baseUrl);
  const host = url.hostname
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return host ? { host: canonicalIp(host) ?? host, port } : null;
}
