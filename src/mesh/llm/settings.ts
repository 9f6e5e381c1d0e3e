// The operator's answer limit and temperature (mesh.yaml llm.*, agents.yaml per agent)
// applied to an agent's call before it is metered and sent. Pure. The configured
// max_tokens is a ceiling: a call may ask for less (the compactor's short summaries),
// never more, and it replaces the Anthropic adapter's built-in default. A temperature the
// call sets itself wins, since the agent only sets one for a reason of its own.
import type { LlmChatRequestParsed } from '../../shared/wire/llm.js';

export interface LlmSettings {
  max_tokens?: number;
  temperature?: number;
}

export function applyLlmSettings<R extends Pick<LlmChatRequestParsed, 'max_tokens' | 'temperature'>>(
  request: R,
  settings: LlmSettings,
): R {
  const maxTokens =
    request.max_tokens === undefined || settings.max_tokens === undefined
      ? (request.max_tokens ?? settings.max_tokens)
      : Math.min(request.max_tokens, settings.max_tokens);
  const temperature = request.temperature ?? settings.temperature;
  return {
    ...request,
    ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }),
    ...(temperature === undefined ? {} : { temperature }),
  };
}
