// The proxy variables every agent container starts with. Invariants: they carry the
// agent's egress token, never its mesh token: the agent server removes the mesh token
// from its environment, while these variables stay so that every command the exec tool
// runs (curl, npm, pip, git...) inherits them, and the egress token opens nothing but
// the egress proxy, under the agent's own allowed_domains. NO_PROXY names the mesh's
// agent API host, so calls to the mesh go direct, and the container's own loopback.

/** Both spellings: curl reads only the lower-case http_proxy, many tools the upper case. */
export const PROXY_ENV_NAMES = ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy'] as const;

export interface ProxyEnvInput {
  /** The egress proxy as agents reach it, e.g. http://172.19.0.1:8421. */
  proxyUrl: string;
  agent: string;
  /** The agent's egress token (`<agent>.<secret>`). */
  token: string;
  /** The mesh's agent API as agents reach it; its host is exempt from the proxy. */
  meshUrl: string;
}

export function egressProxyEnv({ proxyUrl, agent, token, meshUrl }: ProxyEnvInput): Record<string, string> {
  const url = new URL(proxyUrl);
  url.username = encodeURIComponent(agent);
  url.password = encodeURIComponent(token);
  const proxy = url.toString().replace(/\/$/, '');
  const meshHost = new URL(meshUrl).hostname.replace(/^\[(.*)\]$/, '$1');
  const noProxy = [...new Set([meshHost, 'localhost', '127.0.0.1'])].join(',');
  const env: Record<string, string> = { NO_PROXY: noProxy, no_proxy: noProxy };
  for (const name of PROXY_ENV_NAMES) env[name] = proxy;
  return env;
}
