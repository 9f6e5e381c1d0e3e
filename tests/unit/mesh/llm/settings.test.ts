// How the configured answer limit and temperature combine with what a call asks for.
import { describe, expect, it } from 'vitest';
import type { LlmChatRequestParsed } from '../../../../src/shared/wire/llm.js';
import { applyLlmSettings } from '../../../../src/mesh/llm/settings.js';

const call: LlmChatRequestParsed = { messages: [{ role: 'user', content: 'hi' }], stream: false };

describe('applyLlmSettings', () => {
  it('fills in what the call leaves out', () => {
    expect(applyLlmSettings(call, { max_tokens: 300, temperature: 0.2 })).toEqual({
      ...call,
      max_tokens: 300,
      temperature: 0.2,
    });
  });

  it('caps a larger max_tokens at the configured one and keeps a smaller one', () => {
    expect(applyLlmSettings({ max_tokens: 9000 }, { max_tokens: 300 }).max_tokens).toBe(300);
    expect(applyLlmSettings({ max_tokens: 100 }, { max_tokens: 300 }).max_tokens).toBe(100);
  });

  it("keeps the call's own temperature and changes nothing without settings", () => {
    expect(applyLlmSettings({ temperature: 1 }, { temperature: 0.2 }).temperature).toBe(1);
    expect(applyLlmSettings(call, {})).toEqual(call);
  });
});
