// Turns whatever a provider SDK throws into a LegionError an agent (and its user) can
// act on. Invariants: never throws; the result never contains the provider's API key
// (provider messages are scrubbed, since some echo the key they were given); a
// LegionError passes through unchanged.
import { LegionError } from '../../shared/errors.js';
import type { ProviderSettings } from '../../shared/config/providers.js';
import { loadedSdks } from './clients.js';

export function abortedError(provider: ProviderSettings): LegionError {
  return new LegionError('aborted', `the ${provider.name} call was cancelled`, { provider: provider.name });
}

/** Whether a failed call had been taken by the provider, which then bills for it: it was
 *  cancelled, or broke after the answer began (a provider error without an HTTP status).
 *  A refusal with a status, an unreachable provider or a mesh-side error bills nothing. */
export function providerMayHaveBilled(err: unknown): boolean {
  if (!(err instanceof LegionError)) return false;
  return err.code === 'aborted' || (err.code === 'provider_error' && err.details.status === undefined);
}

export function normalizeProviderError(err: unknown, provider: ProviderSettings): LegionError {
  if (err instanceof LegionError) return err;
  const name = provider.name;
  // Only a loaded SDK can have thrown: the classes of one not loaded are not asked for.
  const { openai: OpenAI, anthropic: Anthropic } = loadedSdks();
  if (
    (OpenAI && err instanceof OpenAI.APIUserAbortError) ||
    (Anthropic && err instanceof Anthropic.APIUserAbortError)
  ) {
    return abortedError(provider);
  }
  if (
    (OpenAI && err instanceof OpenAI.APIConnectionError) ||
    (Anthropic && err instanceof Anthropic.APIConnectionError)
  ) {
    const timedOut =
      (OpenAI && err instanceof OpenAI.APIConnectionTimeoutError) ||
      (Anthropic && err instanceof Anthropic.APIConnectionTimeoutError);
    const reason = timedOut ? 'the request timed out' : describeCause(err);
    return new LegionError(
      'provider_unreachable',
      scrub(`cannot reach ${name} at ${provider.baseUrl}: ${reason}`, provider),
      { provider: name },
    );
  }
  if ((OpenAI && err instanceof OpenAI.APIError) || (Anthropic && err instanceof Anthropic.APIError)) {
    const detail = providerMessage(err.error) ?? err.message;
    // No status: the provider reported the error inside an already-open stream.
    const message =
      err.status === undefined ? `${name} failed mid-stream: ${detail}` : `${name} returned ${err.status}: ${detail}`;
    const details = err.status === undefined ? { provider: name } : { provider: name, status: err.status };
    return new LegionError('provider_error', scrub(message, provider), details);
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new LegionError('provider_error', scrub(`${name} call failed: ${detail}`, provider), { provider: name });
}

/** The human part of a provider error body: OpenAI's `error` is `{ message }`, the
 *  Anthropic SDK keeps the whole body `{ type: 'error', error: { message } }`. */
function providerMessage(body: unknown): string | null {
  if (!isRecord(body)) return null;
  if (typeof body.message === 'string' && body.message !== '') return body.message;
  return isRecord(body.error) ? providerMessage(body.error) : null;
}

/** fetch reports "fetch failed" with the useful part (ECONNREFUSED, ENOTFOUND) in causes. */
function describeCause(err: Error): string {
  const parts: string[] = [];
  let current: unknown = err.cause;
  while (current instanceof Error && parts.length < 3) {
    const code = 'code' in current && typeof current.code === 'string' ? ` (${current.code})` : '';
    parts.push(`${current.message}${code}`);
    current = current.cause;
  }
  return parts.length > 0 ? parts.join(': ') : err.message;
}

function scrub(message: string, provider: ProviderSettings): string {
  return provider.apiKey ? message.replaceAll(provider.apiKey, '[redacted]') : message;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
