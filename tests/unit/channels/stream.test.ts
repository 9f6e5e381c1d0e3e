// nextStreamStep: first text is sent, later text edits no faster than the platform allows.
import { describe, expect, it } from 'vitest';
import { nextStreamStep, previewText } from '../../../src/mesh/channels/stream.js';

const limits = { maxChars: 50, minIntervalMs: 1000 };

describe('nextStreamStep', () => {
  it('sends the first visible text at once', () => {
    expect(nextStreamStep({ messageId: null, shown: '', lastAt: null }, 'Hel', 0, limits)).toEqual({
      action: 'send',
      text: 'Hel',
    });
    expect(nextStreamStep({ messageId: null, shown: '', lastAt: null }, '  ', 0, limits)).toEqual({ action: 'none' });
  });

  it('waits out the interval, then edits', () => {
    const state = { messageId: '7', shown: 'Hel', lastAt: 10_000 };
    expect(nextStreamStep(state, 'Hello wor', 10_400, limits)).toEqual({ action: 'wait', ms: 600 });
    expect(nextStreamStep(state, 'Hello wor', 11_000, limits)).toEqual({ action: 'edit', text: 'Hello wor' });
  });

  it('does nothing when the message already shows the text', () => {
    expect(nextStreamStep({ messageId: '7', shown: 'Hello', lastAt: 0 }, 'Hello ', 5000, limits)).toEqual({
      action: 'none',
    });
  });

  it('shows only the first message worth while streaming', () => {
    const preview = previewText('x'.repeat(80), 50);
    expect(preview).toHaveLength(50);
    expect(preview.endsWith('…')).toBe(true);
  });
});
