// splitReply: parts fit the platform's size, cut at paragraph ends, and a cut inside a
// code block closes and reopens the fence so both halves stay code.
import { describe, expect, it } from 'vitest';
import { openFenceAt, splitReply } from '../../../src/mesh/channels/split.js';

describe('splitReply', () => {
  it('keeps a short reply whole', () => {
    expect(splitReply('hello', 4096)).toEqual(['hello']);
  });

  it('splits a 9,000-character reply into 3 Telegram messages at paragraph ends', () => {
    const paragraph = `${'word '.repeat(199)}word`;
    const text = Array.from({ length: 9 }, () => paragraph).join('\n\n');
    expect(text.length).toBeGreaterThan(9000);
    const parts = splitReply(text, 4096);
    expect(parts).toHaveLength(3);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(4096);
    expect(parts.join('\n\n')).toBe(text);
  });

  it('closes a code block at a cut and reopens it with its language', () => {
    const code = Array.from({ length: 200 }, (_, i) => `const x${i} = ${i};`).join('\n');
    const text = `Here:\n\n\`\`\`ts\n${code}\n\`\`\`\nDone.`;
    const parts = splitReply(text, 2000);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(2000);
      expect(openFenceAt(part)).toBeNull();
    }
    expect(parts[1]?.startsWith('```ts\n')).toBe(true);
    const body = parts.map((p) => p.replace(/^```ts\n/, '').replace(/\n```$/, '')).join('\n');
    for (let i = 0; i < 200; i += 37) expect(body).toContain(`const x${i} = ${i};`);
  });

  it('cuts a text without spaces hard, never inside a surrogate pair', () => {
    const text = '😀'.repeat(1500);
    const parts = splitReply(text, 2001);
    expect(parts.join('')).toBe(text);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(2001);
      expect(part).not.toMatch(/[\uD800-\uDBFF]$/);
    }
  });
});
