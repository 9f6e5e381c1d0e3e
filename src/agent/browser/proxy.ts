// The browser's way out: the mesh egress proxy from the container's HTTP_PROXY, split
// into what Playwright needs (Chromium takes no credentials on its command line, so
// Playwright answers the proxy's 407 challenge with them). And, for an https
// navigation the proxy refused (Chromium reports only ERR_TUNNEL_CONNECTION_FAILED),
// the proxy's own reason: the same CONNECT asked once more from Node, whose answer
// carries the rule in its body. Never throws; without a proxy there is no way out.
import { request } from 'node:http';

export interface BrowserProxy {
  server: string;
  username: string;
  password: string;
}

export function browserProxy(env: NodeJS.ProcessEnv): BrowserProxy | null {
  const raw = env.HTTPS_PROXY ?? env.HTTP_PROXY ?? env.https_proxy ?? env.http_proxy;
  if (!raw || !URL.canParse(raw)) return null;
  const url = new URL(raw);
  return {
    server: `${url.protocol}//${url.host}`,
    username: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
  };
}

/** The egress proxy's answer to CONNECT host:port: null when it would open the tunnel. */
export function tunnelRefusal(
  proxy: BrowserProxy,
  host: string,
  port: number,
  timeoutMs = 5_000,
): Promise<string | null> {
  const server = new URL(proxy.server);
  const authority = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const auth = `Basic ${Buffer.from(`${proxy.username}:${proxy.password}`).toString('base64')}`;
  return new Promise((resolve) => {
    const req = request({
      host: server.hostname,
      port: Number(server.port || 80),
      method: 'CONNECT',
      path: authority,
      headers: { 'proxy-authorization': auth },
      timeout: timeoutMs,
    });
    req.on('connect', (res, socket, head) => {
      if (res.statusCode === 200) {
        socket.destroy();
        return resolve(null);
      }
      let body = head.toString('utf8');
      socket.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      socket.on('close', () =>
        resolve(body.trim() || `the egress proxy answered ${res.statusCode} ${res.statusMessage ?? ''}`.trim()),
      );
      socket.on('error', () => resolve(body.trim() || `the egress proxy answered ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve(`the egress proxy could not be asked why (${err.message})`));
    req.end();
  });
}
