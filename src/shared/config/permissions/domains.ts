// allowed_domains entries: what each one lets an agent reach. Grammar: `host` (ports 80
// and 443 only), `host:port`, `host:*` (any port); the host may be a glob
// (`*.github.com`, any depth) and `{agent}` stands for the agent's name; IPv6 takes
// brackets when a port follows (`[::1]:8080`). Invariants: parseDomainEntry is the one
// reading of an entry, used by the schema (a malformed entry is a config error) and by
// every decision; hosts compare in lower case, IP literals in canonical form; a match
// says whether an entry names the destination exactly (literal host and literal port),
// the only kind that may open an address of the host itself.
import picomatch from 'picomatch';
import { canonicalIp } from './addresses.js';

/** Ports a bare host allows: plain HTTP and HTTPS. */
export const WEB_PORTS: readonly number[] = [80, 443];

export interface DomainEntry {
  /** As written in the permissions file. */
  text: string;
  /** Lower case; an IP literal in canonical form, without brackets. */
  host: string;
  port: number | 'any' | 'web';
  /** No glob characters in the host (after `{agent}` is substituted). */
  literalHost: boolean;
}

export interface Destination {
  host: string;
  port: number;
}

export type DomainMatch = { matched: true; exact: boolean } | { matched: false; hostOnly: DomainEntry | null };

const GLOB_CHARS = /[*?[\]{}()!+@|]/;

/** The entry, or a sentence saying what is wrong with it. */
export function parseDomainEntry(text: string): DomainEntry | string {
  const raw = text.trim();
  if (raw === '') return 'expected a host, host:port or host:*';
  if (/\s/.test(raw)) return `"${text}" holds a space: expected a host, host:port or host:*`;
  if (raw.includes('://') || raw.includes('/'))
    return `"${text}" is not a host: write the host alone, without scheme or path (for example api.github.com or api.github.com:8443)`;
  if (raw.includes('@')) return `"${text}" is not a host: it holds "@"`;
  let host: string;
  let portText: string | null;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(raw);
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2] ?? null;
    if (canonicalIp(host) === null) return `"${text}": only an IPv6 address goes in brackets`;
  } else if ((raw.match(/:/g) ?? []).length > 1) {
    host = raw; // A bare IPv6 address; with a port it needs brackets.
    portText = null;
    if (canonicalIp(host) === null)
      return `"${text}" is neither host:port nor an IPv6 address (write [address]:port for IPv6 with a port)`;
  } else {
    const colon = raw.lastIndexOf(':');
    host = colon < 0 ? raw : raw.slice(0, colon);
    portText = colon < 0 ? null : raw.slice(colon + 1);
  }
  if (host === '') return `"${text}" has no host`;
  let port: DomainEntry['port'] = 'web';
  if (portText !== null) {
    if (portText === '*') port = 'any';
    else if (/^\d{1,5}$/.test(portText) && Number(portText) >= 1 && Number(portText) <= 65535) port = Number(portText);
    else return `"${text}" has a bad port "${portText}": expected a number from 1 to 65535, or * for any port`;
  }
  const lower = host.toLowerCase().replace(/\.$/, '');
  const literalHost = !GLOB_CHARS.test(lower);
  const ip = literalHost ? canonicalIp(lower) : null;
  return { text, host: ip !== null && /[:.]/.test(lower) ? ip : lower, port, literalHost };
}

/** How the destination is written in messages: host:port, IPv6 in brackets. */
export function destinationText({ host, port }: Destination): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function portAllows(entry: DomainEntry, port: number): boolean {
  if (entry.port === 'any') return true;
  if (entry.port === 'web') return WEB_PORTS.includes(port);
  return entry.port === port;
}

interface Compiled {
  entry: DomainEntry;
  matches: (host: string) => boolean;
}

// An agent name is substituted into globs; its characters must match only themselves.
function escapeGlob(text: string): string {
  return text.replace(/[\\*?[\]{}()!+@|]/g, '\\$&');
}

// Parsing and compiling cost far more than matching; the lists of a loaded policy are
// stable objects, so compiled entries are cached per list and agent, and a reload drops them.
const compiledCache = new WeakMap<readonly string[], Map<string, Compiled[]>>();

function compiled(entries: readonly string[], agent: string): Compiled[] {
  let perAgent = compiledCache.get(entries);
  if (!perAgent) {
    perAgent = new Map();
    compiledCache.set(entries, perAgent);
  }
  let list = perAgent.get(agent);
  if (!list) {
    list = [];
    for (const text of entries) {
      const entry = parseDomainEntry(text.replaceAll('{agent}', escapeGlob(agent)));
      // The schema refuses malformed entries; one that slips through (constructed rules) grants nothing.
      if (typeof entry === 'string') continue;
      const matches = entry.literalHost
        ? (host: string) => host === entry.host
        : picomatch(entry.host, { dot: true, nonegate: true });
      list.push({ entry: { ...entry, text }, matches });
    }
    perAgent.set(agent, list);
  }
  return list;
}

/** Which of `entries` let `agent` reach `destination`: a match says whether one names it exactly;
 *  a miss names an entry that covers the host on other ports, for the refusal to explain. */
export function matchDomain(entries: readonly string[], agent: string, destination: Destination): DomainMatch {
  const host = canonicalIp(destination.host) ?? destination.host.toLowerCase();
  let matched = false;
  let exact = false;
  let hostOnly: DomainEntry | null = null;
  for (const { entry, matches } of compiled(entries, agent)) {
    if (!matches(host)) continue;
    if (!portAllows(entry, destination.port)) {
      hostOnly ??= entry;
      continue;
    }
    matched = true;
    if (entry.literalHost && typeof entry.port === 'number') exact = true;
  }
  return matched ? { matched: true, exact } : { matched: false, hostOnly };
}
