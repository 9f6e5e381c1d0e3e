// The http_request tool: an HTTP request the mesh performs for this agent, the only
// way to use a service credential. The agent writes `$CRED{name}` where a secret
// belongs and never sees the secret; the mesh substitutes it, checks the agent's
// allowed_credentials and allowed_domains, and scrubs it from the answer. A denial or
// a failed request comes back as a tool error naming the reason; any HTTP status the
// server answered is a result, marked not ok from 400 up. The model sees the status,
// a few headers and at most OUTPUT_BODY_MAX_CHARS of the body.
import {
  HTTP_RESPONSE_MAX_BYTES,
  HttpRequestSchema,
  HttpResponseSchema,
  type HttpResponse,
} from '../../shared/wire/http.js';
import { defineTool, type Tool } from './registry.js';
import type { MeshRpc } from './mesh-rpc.js';

const OUTPUT_BODY_MAX_CHARS = 16 * 1024;
const SHOWN_HEADERS = ['content-type', 'content-length', 'location', 'retry-after'];

/** What the model reads: status line, a few headers, the body, and what was cut. */
export function formatHttpResult(response: HttpResponse): string {
  const lines = [`HTTP ${response.status}`];
  for (const name of SHOWN_HEADERS) {
    const value = response.headers[name];
    if (value !== undefined) lines.push(`${name}: ${value}`);
  }
  const body =
    response.body.length > OUTPUT_BODY_MAX_CHARS ? response.body.slice(0, OUTPUT_BODY_MAX_CHARS) : response.body;
  lines.push('', body);
  if (body.length < response.body.length) {
    lines.push(`[body cut: showing the first ${OUTPUT_BODY_MAX_CHARS} of ${response.body.length} characters]`);
  }
  if (response.truncated)
    lines.push(
      `[the server sent more than ${HTTP_RESPONSE_MAX_BYTES / (1024 * 1024)} MB; the mesh kept only the start]`,
    );
  return lines.join('\n');
}

export function createHttpTool(mesh: MeshRpc): Tool {
  return defineTool({
    name: 'http_request',
    description:
      'Make an HTTP request through the mesh (method, url, headers, body, timeout_s). To use a service secret, write $CRED{name} in a header value, the query string or the body: the mesh puts the secret there, and you never see it. Only domains you are allowed can be reached; redirects are not followed.',
    schema: HttpRequestSchema,
    run: async (args, ctx) => {
      const response = await mesh.call('/mesh/http', args, HttpResponseSchema, ctx.trace);
      return { ok: response.status < 400, output: formatHttpResult(response) };
    },
  });
}
