// `$CRED{name}` handles in an agent's HTTP request: where they may stand, and putting
// the secrets in their place. Invariants: a name is [A-Za-z0-9_-]+ and case-insensitive
// (reported lower-cased); it maps to LEGION_CRED_<NAME>, upper-cased with dashes as
// underscores. Handles count only in header values, the URL's query string and the
// body. Anywhere else in the URL is an error, because host and path are shown in the
// event log and in errors, where a secret must never be; so is anything that starts like
// a handle but is not a well-formed one, which would otherwise reach the server as
// literal text. Pure functions: the secrets come from the caller.
import { LegionError } from '../../shared/errors.js';
import type { HttpMethod, HttpRequest } from '../../shared/wire/http.js';

const HANDLE_OPENER = '$CRED{';
const HANDLE = /\$CRED\{([A-Za-z0-9_-]+)\}/g;

/** The environment variable behind `$CRED{name}`: github-token → LEGION_CRED_GITHUB_TOKEN. */
export function credentialVariable(name: string): string {
  return `LEGION_CRED_${name.toUpperCase().replaceAll('-', '_')}`;
}

/** Lower-cased names of the handles in `text`; throws for one that is not well formed. */
function handlesIn(text: string, where: string): string[] {
  const names = [...text.matchAll(HANDLE)].map((match) => (match[1] ?? '').toLowerCase());
  if (text.split(HANDLE_OPENER).length - 1 !== names.length) {
    throw new LegionError(
      'credential_handle_invalid',
      `a malformed credential handle in ${where}: write $CRED{name}, the name made of letters, digits, _ and -`,
    );
  }
  return names;
}

function replaceHandles(
  text: string,
  secretOf: (name: string) => string,
  encode: (secret: string) => string = (secret) => secret,
): string {
  return text.replace(HANDLE, (_handle, name: string) => encode(secretOf(name.toLowerCase())));
}

/** Every string in a JSON value, object keys included. */
function jsonStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(jsonStrings);
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).flatMap(([key, inner]) => [key, ...jsonStrings(inner)]);
  return [];
}

function mapJsonStrings(value: unknown, map: (text: string) => string): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((inner) => mapJsonStrings(inner, map));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [map(key), mapJsonStrings(inner, map)]));
  }
  return value;
}

/**
 * The distinct handle names a request uses, lower-cased, in order of first use.
 * Throws credential_handle_misplaced for a handle outside header values, query and body.
 */
export function requestHandles(request: HttpRequest): string[] {
  const url = new URL(request.url);
  const elsewhere: [string, string][] = [
    ["the URL's user or password", `${url.username}:${url.password}`],
    ["the URL's host", url.host],
    ["the URL's path", url.pathname],
    ["the URL's fragment", url.hash],
  ];
  for (const [where, text] of elsewhere) {
    // The URL parser lower-cases hosts and percent-encodes braces in paths.
    if (decodeURIComponentSafe(text).toUpperCase().includes('$CRED')) {
      throw new LegionError(
        'credential_handle_misplaced',
        `$CRED{…} may not appear in ${where}: put it in a header value, the query string or the body`,
      );
    }
  }
  const names = [
    ...handlesIn(url.search, 'the query string'),
    ...Object.entries(request.headers ?? {}).flatMap(([name, value]) => handlesIn(value, `header ${name}`)),
    ...jsonStrings(request.body).flatMap((text) => handlesIn(text, 'the body')),
  ];
  return [...new Set(names)];
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export interface SubstitutedRequest {
  method: HttpMethod;
  url: URL;
  headers: Record<string, string>;
  body: string | null;
}

/**
 * The request as the server must receive it: each handle replaced by its secret
 * (percent-encoded in the query string, JSON-escaped inside a JSON body). A JSON body
 * gets content-type application/json unless the agent set one. The result holds
 * secrets: it goes to the socket and nowhere else.
 */
export function substituteHandles(request: HttpRequest, secretOf: (name: string) => string): SubstitutedRequest {
  const url = new URL(request.url);
  url.search = replaceHandles(url.search, secretOf, encodeURIComponent);
  const headers = Object.fromEntries(
    Object.entries(request.headers ?? {}).map(([name, value]) => [name, replaceHandles(value, secretOf)]),
  );
  let body: string | null = null;
  if (typeof request.body === 'string') {
    body = replaceHandles(request.body, secretOf);
  } else if (request.body !== undefined && request.body !== null) {
    // Substituting inside the parsed value lets JSON.stringify escape the secret.
    body = JSON.stringify(mapJsonStrings(request.body, (text) => replaceHandles(text, secretOf)));
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type'))
      headers['content-type'] = 'application/json';
  }
  return { method: request.method, url, headers, body };
}
