// The dashboard's front door, as pure decisions. A browser page from another site can
// make the user's browser send requests to 127.0.0.1 (CSRF), and a hostile DNS name can
// resolve to 127.0.0.1 after the page loaded (DNS rebinding): so a request is served
// only when its Host is one of the names of the admin address, any Origin it carries
// is that same address, a state-changing request carries such an Origin, and everything
// but the login link needs a session cookie.

export const SESSION_COOKIE = 'legion_session';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);
const WILDCARD = new Set(['0.0.0.0', '::']);

function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The Host values the admin listener answers to: its own address and, when it listens on loopback or everywhere, each loopback name. */
export function allowedHosts(host: string, port: number): Set<string> {
  const hosts = new Set<string>();
  if (!WILDCARD.has(host)) hosts.add(hostPort(host, port));
  if (LOOPBACK.has(host) || WILDCARD.has(host)) for (const name of LOOPBACK) hosts.add(hostPort(name, port));
  return hosts;
}

/** Where the login link points: the admin address, or 127.0.0.1 when it listens everywhere. */
export function dashboardOrigin(host: string, port: number): string {
  return `http://${hostPort(WILDCARD.has(host) ? '127.0.0.1' : host, port)}`;
}

export interface RequestFacts {
  method: string;
  host: string | undefined;
  origin: string | undefined;
  /** The login link is the one way in without a session. */
  needsSession: boolean;
  hasSession: boolean;
}

export type Verdict = { action: 'serve' } | { action: 'refuse'; status: 401 | 403; code: string; message: string };

const SAFE_METHODS = new Set(['GET', 'HEAD']);

export function judgeRequest(facts: RequestFacts, hosts: ReadonlySet<string>): Verdict {
  if (!facts.host || !hosts.has(facts.host.toLowerCase())) {
    return {
      action: 'refuse',
      status: 403,
      code: 'foreign_host',
      message: `the dashboard answers only to ${[...hosts].join(', ')}; open the link \`legion dashboard\` prints`,
    };
  }
  if (facts.origin !== undefined && !isOwnOrigin(facts.origin, hosts)) {
    return { action: 'refuse', status: 403, code: 'foreign_origin', message: 'requests from other sites are refused' };
  }
  if (!SAFE_METHODS.has(facts.method) && facts.origin === undefined) {
    return {
      action: 'refuse',
      status: 403,
      code: 'origin_required',
      message: 'a state-changing request must come from the dashboard page (no Origin header)',
    };
  }
  if (facts.needsSession && !facts.hasSession) {
    return {
      action: 'refuse',
      status: 401,
      code: 'no_session',
      message:
        'not logged in to the dashboard: run `legion dashboard` in the project directory and open the link it prints',
    };
  }
  return { action: 'serve' };
}

function isOwnOrigin(origin: string, hosts: ReadonlySet<string>): boolean {
  if (!origin.startsWith('http://')) return false;
  return hosts.has(origin.slice('http://'.length).toLowerCase());
}

/** The value of one cookie in a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(id: string, maxAgeS: number): string {
  return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/ui; Max-Age=${maxAgeS}`;
}
