// Tools' pictures (browser screenshots) in provider requests: OpenAI gets them as one
// user message of data-URL image parts after the run of tool results (tool messages
// take text only); Anthropic as image blocks inside the tool_result; a model outside
// llm.image_models gets none, and the tool's text says so.
import { describe, expect, it } from 'vitest';
import { toAnthropicParams } from '../../../../src/mesh/llm/anthropic.js';
import { modelTakesImages, withoutImages } from '../../../../src/mesh/llm/images.js';
import { toOpenAiParams } from '../../../../src/mesh/llm/openai.js';
import { DEFAULT_IMAGE_MODELS } from '../../../../src/shared/config/schema.js';
import { LlmChatRequestSchema } from '../../../../src/shared/wire/llm.js';

const PNG = 'iVBORw0KGgo=';
const request = LlmChatRequestSchema.parse({
  messages: [
    { role: 'user', content: 'look' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'c1', name: 'browser_screenshot', arguments: '{}' },
        { id: 'c2', name: 'list_files', arguments: '{}' },
      ],
    },
    {
      role: 'tool',
      tool_call_id: 'c1',
      name: 'browser_screenshot',
      content: 'saved /data/artifacts/screenshots/a.png',
      images: [{ media_type: 'image/png', data: PNG }],
    },
    { role: 'tool', tool_call_id: 'c2', name: 'list_files', content: 'AGENTS.md' },
    { role: 'assistant', content: 'seen' },
  ],
});

describe('pictures from tools', () => {
  it('follow the run of tool results as one user message of image parts for OpenAI', () => {
    const messages = toOpenAiParams(request, 'gpt-4o', 'max_completion_tokens').messages;
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'tool', 'user', 'assistant']);
    expect(messages[2]).toEqual({
      role: 'tool',
      tool_call_id: 'c1',
      content: 'saved /data/artifacts/screenshots/a.png',
    });
    expect(messages[4]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'Picture(s) from the browser_screenshot call c1:' },
        { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
      ],
    });
  });

  it('sit inside the tool_result as image blocks for Anthropic', () => {
    const params = toAnthropicParams(request, 'claude-test');
    expect(params.messages[2]).toEqual({
      role: 'user',
      content: [
        {
          type: 'tool_result',
          tool_use_id: 'c1',
          content: [
            { type: 'text', text: 'saved /data/artifacts/screenshots/a.png' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
          ],
        },
        { type: 'tool_result', tool_use_id: 'c2', content: 'AGENTS.md' },
      ],
    });
  });

  it('go only to models in llm.image_models; others get a note in the tool text', () => {
    expect(modelTakesImages(DEFAULT_IMAGE_MODELS, 'openai/gpt-4o-mini')).toBe(true);
    expect(modelTakesImages(DEFAULT_IMAGE_MODELS, 'anthropic/claude-sonnet-4-5')).toBe(true);
    expect(modelTakesImages(DEFAULT_IMAGE_MODELS, 'ollama/llama3')).toBe(false);
    const stripped = withoutImages(request, 'ollama/llama3');
    const tool = stripped.messages[2];
    expect(tool?.role === 'tool' && tool.images).toBeFalsy();
    expect(tool?.role === 'tool' && tool.content).toBe(
      'saved /data/artifacts/screenshots/a.png\n[1 picture(s) not shown: ollama/llama3 is not in llm.image_models of config/mesh.yaml]',
    );
    expect(toOpenAiParams(stripped, 'llama3', 'max_tokens').messages.map((m) => m.role)).toEqual([
      'user',
      'assistant',
      'tool',
      'tool',
      'assistant',
    ]);
  });
});
