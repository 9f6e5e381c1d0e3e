// The model endpoints of the fake provider, as `legion setup` checks a provider with
// them: GET /v1/models (OpenAI's list, which Ollama, vLLM and Groq serve too) and
// GET /v1/models/<id> (Anthropic's and OpenAI's retrieve). A request carrying an
// `anthropic-version` header is answered in Anthropic's format, any other in OpenAI's.
// With an apiKey set, another key gets the provider's real 401, as the chat routes do.
import type { IncomingHttpHeaders } from 'node:http';
import { anthropicFormat } from './fake-anthropic.js';
import { openAiFormat } from './fake-openai.js';

export const MODELS_PATH = '/v1/models';

/** What the fake lists unless a test names its own: each provider's setup default among them. */
export const DEFAULT_FAKE_MODELS = ['gpt-4o-mini', 'gpt-4o', 'claude-haiku-4-5', 'claude-sonnet-4-5', 'llama3.1'];

const CREATED = 1_700_000_000;

export function isModelsPath(path: string): boolean {
  return path === MODELS_PATH || path.startsWith(`${MODELS_PATH}/`);
}

export function modelsAnswer(
  path: string,
  headers: IncomingHttpHeaders,
  models: readonly string[],
  apiKey: string | undefined,
): { status: number; body: unknown } {
  const anthropic = headers['anthropic-version'] !== undefined;
  const format = anthropic ? anthropicFormat : openAiFormat;
  if (apiKey !== undefined && !format.authorized(headers, apiKey)) return format.unauthorized(headers);
  const describe = (id: string) =>
    anthropic
      ? { type: 'model', id, display_name: id, created_at: new Date(CREATED * 1000).toISOString() }
      : { id, object: 'model', created: CREATED, owned_by: 'fake' };
  if (path === MODELS_PATH) {
    const data = models.map(describe);
    return anthropic
      ? { status: 200, body: { data, has_more: false, first_id: models[0] ?? null, last_id: models.at(-1) ?? null } }
      : { status: 200, body: { object: 'list', data } };
  }
  const id = decodeURIComponent(path.slice(MODELS_PATH.length + 1));
  if (models.includes(id)) return { status: 200, body: describe(id) };
  const message = anthropic ? `model: ${id}` : `The model '${id}' does not exist`;
  return { status: 404, body: format.errorBody(404, message, anthropic ? 'not_found_error' : 'invalid_request_error') };
}
