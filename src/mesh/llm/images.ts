// Which models are shown the pictures tools produce (browser screenshots): the
// provider/model globs of llm.image_models. For any other model the pictures are taken
// out of the request and the tool's text says so, so a text-only model never gets a
// request its provider would refuse.
import picomatch from 'picomatch';
import type { LlmChatRequestParsed } from '../../shared/wire/llm.js';

// Compiling the globs costs more than the rest of a call's routing: one matcher per list
// (a reloaded config brings a new list, so a stale matcher is never asked).
const matchers = new WeakMap<readonly string[], (model: string) => boolean>();

export function modelTakesImages(globs: readonly string[], model: string): boolean {
  if (globs.length === 0) return false;
  let matches = matchers.get(globs);
  if (!matches) {
    matches = picomatch([...globs], { nocase: true });
    matchers.set(globs, matches);
  }
  return matches(model);
}

export function withoutImages(request: LlmChatRequestParsed, model: string): LlmChatRequestParsed {
  if (!request.messages.some((m) => m.role === 'tool' && m.images && m.images.length > 0)) return request;
  return {
    ...request,
    messages: request.messages.map((m) => {
      if (m.role !== 'tool' || !m.images || m.images.length === 0) return m;
      const { images, ...rest } = m;
      return {
        ...rest,
        content: `${m.content}\n[${images.length} picture(s) not shown: ${model} is not in llm.image_models of config/mesh.yaml]`,
      };
    }),
  };
}
