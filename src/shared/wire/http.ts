// The wire contract of POST /mesh/http: an HTTP request the mesh performs on an
// agent's behalf, with `$CRED{name}` handles that only the mesh resolves, and the
// answer it returns. Invariants: http and https URLs only; methods GET, POST, PUT,
// PATCH, DELETE, HEAD; timeout at most 120 s (30 by default); header names are
// tokens, values single lines, and the headers that frame the connection are the
// mesh's to set; the request object is strict, so a misspelt field is an error that
// names it. The same schema is the http_request tool's arguments, so the tool and
// the mesh cannot disagree.
import { z } from 'zod';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;
export const HTTP_TIMEOUT_DEFAULT_S = 30;
export const HTTP_TIMEOUT_MAX_S = 120;
/** Bytes of response body the mesh keeps; the rest is cut and `truncated` says so. */
export const HTTP_RESPONSE_MAX_BYTES = 1024 * 1024;
export const HTTP_REQUEST_BODY_MAX_BYTES = 1024 * 1024;
const URL_MAX_CHARS = 8192;
const HEADER_VALUE_MAX_CHARS = 8192;
const HEADERS_MAX = 64;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Framing and routing belong to the mesh: a Host of the agent's choosing would send the
// request to a virtual host other than the one checked, and length or transfer headers
// that disagree with the body would desynchronise the connection.
export const MESH_SET_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'proxy-authorization',
  'proxy-connection',
]);

export const HttpMethodSchema = z.enum(HTTP_METHODS);
export type HttpMethod = z.infer<typeof HttpMethodSchema>;

export const HttpUrlSchema = z
  .string()
  .max(URL_MAX_CHARS, `expected a URL of at most ${URL_MAX_CHARS} characters`)
  .superRefine((text, ctx) => {
    if (!URL.canParse(text)) {
      ctx.addIssue({ code: 'custom', message: 'expected an absolute URL such as https://api.example.com/v1/items' });
      return;
    }
    const { protocol } = new URL(text);
    if (protocol !== 'http:' && protocol !== 'https:')
      ctx.addIssue({ code: 'custom', message: `expected an http:// or https:// URL, not ${protocol}` });
  });

export const HttpHeadersSchema = z
  .record(
    z.string().regex(HEADER_NAME, "expected a header name of letters, digits and !#$%&'*+.^_`|~-"),
    z
      .string()
      .max(HEADER_VALUE_MAX_CHARS, `expected a header value of at most ${HEADER_VALUE_MAX_CHARS} characters`)
      .refine((value) => !/[\r\n\0]/.test(value), 'a header value may not contain a line break or NUL'),
  )
  .superRefine((headers, ctx) => {
    const names = Object.keys(headers);
    if (names.length > HEADERS_MAX)
      ctx.addIssue({ code: 'custom', message: `expected at most ${HEADERS_MAX} headers` });
    for (const name of names) {
      if (MESH_SET_HEADERS.has(name.toLowerCase()))
        ctx.addIssue({ code: 'custom', path: [name], message: `${name} is set by the mesh; leave it out` });
    }
  });

/** A string is sent as is; any other JSON value is sent as JSON. null means no body. */
export const HttpBodySchema = z.unknown().superRefine((body, ctx) => {
  if (body === undefined || body === null) return;
  const bytes = Buffer.byteLength(typeof body === 'string' ? body : JSON.stringify(body));
  if (bytes > HTTP_REQUEST_BODY_MAX_BYTES)
    ctx.addIssue({
      code: 'custom',
      message: `the body is ${bytes} bytes; the limit is ${HTTP_REQUEST_BODY_MAX_BYTES} (1 MB)`,
    });
});

export const HttpRequestSchema = z.strictObject({
  method: HttpMethodSchema,
  url: HttpUrlSchema.describe('http:// or https:// URL; $CRED{name} may appear in the query string'),
  headers: HttpHeadersSchema.optional().describe('header values may contain $CRED{name}'),
  body: HttpBodySchema.optional().describe(
    'a string sent as is, or a JSON value sent as JSON; may contain $CRED{name}',
  ),
  timeout_s: z
    .number()
    .positive()
    .max(HTTP_TIMEOUT_MAX_S, `expected at most ${HTTP_TIMEOUT_MAX_S} seconds`)
    .default(HTTP_TIMEOUT_DEFAULT_S)
    .describe(`seconds to wait for the whole answer (default ${HTTP_TIMEOUT_DEFAULT_S}, max ${HTTP_TIMEOUT_MAX_S})`),
});
export type HttpRequest = z.output<typeof HttpRequestSchema>;

/** Secrets are already scrubbed from every field; `headers` is a safe subset, lower-case names. */
export const HttpResponseSchema = z.object({
  status: z.int().min(100).max(999),
  headers: z.record(z.string(), z.string()),
  body: z.string(),
  /** The server sent more than HTTP_RESPONSE_MAX_BYTES; `body` is its start. */
  truncated: z.boolean(),
});
export type HttpResponse = z.infer<typeof HttpResponseSchema>;
