// Whether a base URL points at a server on this machine or the private network (Ollama,
// vLLM, LM Studio): such a server costs nothing per token. Pure, by the URL's text only
// (no DNS): loopback names and addresses, host.docker.internal, *.local, RFC 1918 and
// link-local IPv4, and IPv6 loopback, unique-local and link-local addresses.
import { isIP } from 'node:net';

function privateIPv4(address: string): boolean {
  const [a = -1, b = -1] = address.split('.').map(Number);
  return (
    a === 127 ||
    a === 10 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 169 && b === 254) ||
    a === 0
  );
}

function privateIPv6(address: string): boolean {
  const lower = address.toLowerCase();
  if (lower === '::1' || lower === '::') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped?.[1]) return privateIPv4(mapped[1]);
  return /^f[cd][0-9a-f]{2}:/.test(lower) || /^fe[89ab][0-9a-f]:/.test(lower);
}

export function isLocalBaseUrl(baseUrl: string): boolean {
  if (!URL.canParse(baseUrl)) return false;
  const host = new URL(baseUrl).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host === 'host.docker.internal' || host.endsWith('.local'))
    return true;
  const family = isIP(host);
  if (family === 4) return privateIPv4(host);
  return family === 6 && privateIPv6(host);
}
