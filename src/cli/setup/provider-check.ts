// One cheap, real call that tells whether the provider setup is about to configure
// works: OpenAI-kind servers list their models (GET <base>/models, which OpenAI, Ollama,
// vLLM and Groq all serve) and the model must be among them; Anthropic describes the
// model (GET <base>/v1/models/<model>, aliases included). Never throws; the result says
// what failed in words a user can act on. The key is sent only to the base URL and is
// scrubbed from every message.
import { z } from 'zod';
import { apiKeyVariable, DEFAULT_BASE_URLS } from '../../shared/config/providers.js';

export interface CheckTarget {
  name: string;
  kind: 'openai' | 'anthropic';
  /** null: the kind's public API. */
  baseUrl: string | null;
  apiKey: string | null;
  model: string;
}

export type CheckFailure = 'unreachable' | 'key_rejected' | 'unknown_model' | 'unexpected_answer';

/** `offered`: the models an OpenAI-kind server lists, when the one asked for is not among them. */
export type CheckResult =
  | { ok: true; detail: string }
  | { ok: false; failure: CheckFailure; message: string; offered?: string[] };

const CHECK_TIMEOUT_MS = 10_000;
const ANTHROPIC_VERSION = '2023-06-01';

const ModelListSchema = z.object({ data: z.array(z.object({ id: z.string() })) });
const ErrorMessageSchema = z.object({ error: z.union([z.object({ message: z.string() }), z.string()]) });

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function checkUrl(target: CheckTarget): string {
  const base = trimSlash(target.baseUrl ?? DEFAULT_BASE_URLS[target.kind]);
  return target.kind === 'anthropic' ? `${base}/v1/models/${encodeURIComponent(target.model)}` : `${base}/models`;
}

function headers(target: CheckTarget): Record<string, string> {
  const key = target.apiKey;
  if (target.kind === 'anthropic')
    return { 'anthropic-version': ANTHROPIC_VERSION, ...(key ? { 'x-api-key': key } : {}) };
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** Why fetch failed, from the system error under its `cause`. */
function unreachableReason(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
    return `no answer within ${timeoutMs / 1000} s`;
  const cause = err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : '';
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'connection refused (is the server running, on that port?)',
    ENOTFOUND: 'host not found (DNS)',
    EAI_AGAIN: 'host not found (DNS did not answer)',
    ETIMEDOUT: 'the connection timed out',
    ECONNRESET: 'the connection was reset',
    EHOSTUNREACH: 'no route to the host',
    ENETUNREACH: 'the network is unreachable',
    UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  };
  if (reasons[code]) return reasons[code];
  const detail = typeof cause?.message === 'string' ? cause.message : err instanceof Error ? err.message : String(err);
  return detail;
}

function providerMessage(body: unknown): string {
  const parsed = ErrorMessageSchema.safeParse(body);
  if (!parsed.success) return '';
  return typeof parsed.data.error === 'string' ? parsed.data.error : parsed.data.error.message;
}

function scrub(text: string, key: string | null): string {
  return key ? text.split(key).join('[REDACTED]') : text;
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Ollama lists `llama3.1:latest` for a model pulled as `llama3.1`. */
function listed(ids: string[], model: string): boolean {
  return ids.includes(model) || (!model.includes(':') && ids.includes(`${model}:latest`));
}

export async function checkProvider(target: CheckTarget, timeoutMs = CHECK_TIMEOUT_MS): Promise<CheckResult> {
  const url = checkUrl(target);
  const fail = (failure: CheckFailure, message: string): CheckResult => ({
    ok: false,
    failure,
    message: scrub(message, target.apiKey),
  });
  let response: Response;
  try {
    response = await fetch(url, { headers: headers(target), signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    return fail('unreachable', `cannot reach ${target.name} at ${url}: ${unreachableReason(err, timeoutMs)}`);
  }
  const body = await readJson(response).catch(() => undefined);
  const said = providerMessage(body);
  const suffix = said ? `: ${said}` : '';
  if (response.status === 401 || response.status === 403) {
    const keyHint = target.apiKey
      ? 'the API key was rejected'
      : `it wants an API key and none was given (legion setup --yes takes one with --api-key; the mesh reads ${apiKeyVariable(target.name)})`;
    return fail('key_rejected', `${target.name} at ${url} answered ${response.status}, ${keyHint}${suffix}`);
  }
  if (response.status === 404) {
    return target.kind === 'anthropic'
      ? fail('unknown_model', `${target.name} does not know the model "${target.model}" (404 from ${url}${suffix})`)
      : fail(
          'unexpected_answer',
          `${url} answered 404: no models endpoint there; is the base URL right? OpenAI-compatible servers usually end in /v1${suffix}`,
        );
  }
  if (!response.ok) return fail('unexpected_answer', `${target.name} at ${url} answered ${response.status}${suffix}`);
  if (target.kind === 'anthropic') return { ok: true, detail: `${target.name} knows ${target.model}` };
  const list = ModelListSchema.safeParse(body);
  if (!list.success)
    return fail('unexpected_answer', `${url} did not answer with a model list; is it an OpenAI-compatible server?`);
  const ids = list.data.data.map((m) => m.id);
  if (!listed(ids, target.model)) {
    const offered =
      ids.length === 0
        ? 'it lists no models'
        : `it offers ${ids.slice(0, 12).join(', ')}${ids.length > 12 ? `, … (${ids.length} in all)` : ''}`;
    const message = `${target.name} at ${trimSlash(target.baseUrl ?? DEFAULT_BASE_URLS.openai)} has no model "${target.model}": ${offered}`;
    return { ok: false, failure: 'unknown_model', message: scrub(message, target.apiKey), offered: ids };
  }
  return { ok: true, detail: `${target.name} answered and offers ${target.model}` };
}
