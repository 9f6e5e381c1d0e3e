// The scrubber: every secret out of any text the mesh hands back, whether it appears
// as is, escaped the way JSON, URLs and HTML escape it, or cut off at the end.
import { describe, expect, it } from 'vitest';
import { createScrubber, MIN_PARTIAL_CHARS, REDACTED } from '../../src/mesh/credentials/scrub.js';

const PLAIN = 'sk-live-0123456789abcdef';
const SPECIAL = 'p@ss"w/rd\\&<é> 42';

describe('createScrubber', () => {
  const scrubber = createScrubber([PLAIN, SPECIAL]);
  const { scrub } = scrubber;

  it('replaces every occurrence as is', () => {
    expect(scrub(`a ${PLAIN} b ${PLAIN}${PLAIN} c`)).toBe(`a ${REDACTED} b ${REDACTED}${REDACTED} c`);
    expect(scrub(`x${SPECIAL}y`)).toBe(`x${REDACTED}y`);
  });

  it('leaves text without secrets unchanged', () => {
    const text = 'HTTP 200 {"ok":true} sk-live-01 is not the whole key';
    expect(scrub(text)).toBe(text);
  });

  it('replaces a secret escaped inside JSON, once or nested', () => {
    const once = JSON.stringify({ echo: SPECIAL });
    expect(once).not.toContain(SPECIAL);
    expect(scrub(once)).toBe(`{"echo":"${REDACTED}"}`);
    const nested = JSON.stringify({ raw: JSON.stringify({ echo: SPECIAL }) });
    expect(scrub(nested)).not.toMatch(/p@ss/);
  });

  it('replaces a secret escaped with \\uXXXX (Python ensure_ascii, Go HTML-safe) and \\/', () => {
    const python = SPECIAL.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
      .replaceAll('\\&', '\\\\&')
      .replaceAll('"', '\\"');
    expect(scrub(`{"k": "${python}"}`)).toBe(`{"k": "${REDACTED}"}`);
    const go = JSON.stringify(SPECIAL)
      .slice(1, -1)
      .replaceAll('<', '\\u003C')
      .replaceAll('>', '\\u003e')
      .replaceAll('&', '\\u0026')
      .replaceAll('/', '\\/');
    expect(scrub(go)).toBe(REDACTED);
  });

  it('replaces a secret percent-encoded, in either case, or form-encoded', () => {
    expect(scrub(`?t=${encodeURIComponent(SPECIAL)}&x=1`)).toBe(`?t=${REDACTED}&x=1`);
    expect(scrub(encodeURIComponent(SPECIAL).toLowerCase())).toBe(REDACTED);
    expect(scrub(new URLSearchParams({ t: SPECIAL }).toString())).toBe(`t=${REDACTED}`);
    const everyCharEncoded = [...Buffer.from(PLAIN)].map((b) => `%${b.toString(16)}`).join('');
    expect(scrub(everyCharEncoded)).toBe(REDACTED);
  });

  it('replaces a secret written with HTML character references', () => {
    const html = SPECIAL.replaceAll('&', '&amp;')
      .replaceAll('<', '&lt;')
      .replaceAll('>', '&#62;')
      .replaceAll('"', '&quot;')
      .replaceAll('é', '&#xE9;');
    expect(scrub(`<p>${html}</p>`)).toBe(`<p>${REDACTED}</p>`);
  });

  it('cuts an unfinished secret at the end of the text (a cut at the response cap)', () => {
    for (let keep = MIN_PARTIAL_CHARS; keep < PLAIN.length; keep += 1) {
      expect(scrub(`body ends with ${PLAIN.slice(0, keep)}`)).toBe(`body ends with ${REDACTED}`);
    }
    const escapedStart = JSON.stringify(SPECIAL).slice(1, 12);
    expect(scrub(`{"echo":"${escapedStart}`)).toBe(`{"echo":"${REDACTED}`);
  });

  it('keeps a short tail that only looks like the start of a secret', () => {
    const short = PLAIN.slice(0, MIN_PARTIAL_CHARS - 1);
    expect(scrub(`ends with ${short}`)).toBe(`ends with ${short}`);
    expect(scrub(`${PLAIN.slice(0, 10)} in the middle, then more`)).toBe(
      `${PLAIN.slice(0, 10)} in the middle, then more`,
    );
  });

  it('replaces the longer secret whole when one secret contains another', () => {
    const inner = 'inner-secret-1';
    const outer = `outer-${inner}-x`;
    expect(createScrubber([inner, outer]).scrub(`${outer} ${inner}`)).toBe(`${REDACTED} ${REDACTED}`);
  });

  it('ignores values too short to scrub, and scrubs nothing without secrets', () => {
    expect(createScrubber(['abc', '']).scrub('abc abc')).toBe('abc abc');
    expect(createScrubber([]).scrub('anything')).toBe('anything');
    expect(createScrubber([]).maxOccurrenceChars).toBe(0);
  });

  it('says how long an encoded occurrence can be, so a reader can read past a cut', () => {
    expect(scrubber.maxOccurrenceChars).toBeGreaterThanOrEqual(encodeURIComponent(PLAIN).length);
    expect(scrubber.maxOccurrenceChars).toBeGreaterThanOrEqual(JSON.stringify(SPECIAL).length * 2);
  });
});
