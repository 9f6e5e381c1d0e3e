// Removes secrets from text the mesh hands back or writes down (response bodies and
// headers, error messages, event subjects). Invariants: scrub() never throws; it
// replaces every occurrence of every secret, whether the text carries it as is,
// JSON-escaped (\" \\ \/ \uXXXX, at any depth of nesting), percent-encoded (%XX, + for
// a space) or as HTML character references, in any mix; and a text that ends with the
// first MIN_PARTIAL_CHARS or more characters of a secret loses that tail too, since
// that is what a cut at the response cap (or a server that stops mid-secret) leaves.
// Secrets shorter than MIN_SECRET_CHARS are not scrubbed: they would wreck ordinary
// text, which is why such a value is refused as a credential in the first place.

export const REDACTED = '[REDACTED]';
export const MIN_SECRET_CHARS = 8;
export const MIN_PARTIAL_CHARS = 6;
/** Characters one encoded character of a secret may take (\uXXXX\uXXXX, %XX%XX%XX%XX). */
const MAX_ENCODED_CHAR_LENGTH = 16;

export interface Scrubber {
  scrub(text: string): string;
  /** The most characters one encoded occurrence of a secret can span. */
  readonly maxOccurrenceChars: number;
}

const JSON_SHORT_ESCAPES: Record<string, string> = { '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't' };
const HTML_NAMED_REFERENCES: Record<string, string[]> = {
  '&': ['amp'],
  '<': ['lt'],
  '>': ['gt'],
  '"': ['quot'],
  "'": ['apos'],
};

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Hex digits that match in either case. */
function anyCaseHex(hex: string): string {
  return [...hex]
    .map((digit) => (/[a-f]/i.test(digit) ? `[${digit.toLowerCase()}${digit.toUpperCase()}]` : digit))
    .join('');
}

/** A regular expression (source) matching one character of a secret in any encoding above. */
function encodedCharPattern(char: string): string {
  const codePoint = char.codePointAt(0) ?? 0;
  const alternatives: string[] = [];
  // As is; a quote, slash or backslash possibly behind backslashes (JSON, JS strings, JSON in JSON).
  if (char === '\\') alternatives.push('\\\\+');
  else if (char === '"' || char === "'" || char === '/') alternatives.push(`\\\\*${escapeRegExp(char)}`);
  else alternatives.push(escapeRegExp(char));
  const utf16 = Array.from({ length: char.length }, (_, i) => char.charCodeAt(i));
  alternatives.push(utf16.map((unit) => `\\\\+u${anyCaseHex(unit.toString(16).padStart(4, '0'))}`).join(''));
  const shortEscape = JSON_SHORT_ESCAPES[char];
  if (shortEscape) alternatives.push(`\\\\+${shortEscape}`);
  alternatives.push(
    [...Buffer.from(char, 'utf8')].map((byte) => `%${anyCaseHex(byte.toString(16).padStart(2, '0'))}`).join(''),
  );
  if (char === ' ') alternatives.push('\\+');
  alternatives.push(`&#0*${codePoint};`, `&#[xX]0*${anyCaseHex(codePoint.toString(16))};`);
  for (const name of HTML_NAMED_REFERENCES[char] ?? []) alternatives.push(`&${name};`);
  return `(?:${alternatives.join('|')})`;
}

interface CompiledSecret {
  /** One sticky pattern per character, for walking a possible partial occurrence. */
  chars: RegExp[];
}

/** Where the text's tail begins that is an unfinished occurrence of `secret`, or -1. */
function partialTailStart(text: string, secret: CompiledSecret, from: number): number {
  for (let start = from; start < text.length; start += 1) {
    let at = start;
    let matched = 0;
    for (const pattern of secret.chars) {
      pattern.lastIndex = at;
      const match = pattern.exec(text);
      if (!match) break;
      at += match[0].length;
      matched += 1;
      if (at === text.length) break;
    }
    if (at === text.length && matched >= MIN_PARTIAL_CHARS && matched < secret.chars.length) return start;
  }
  return -1;
}

export function createScrubber(secrets: Iterable<string>): Scrubber {
  // Longest first, so a secret that contains another is replaced whole.
  const kept = [...new Set(secrets)]
    .filter((secret) => [...secret].length >= MIN_SECRET_CHARS)
    .sort((a, b) => b.length - a.length);
  if (kept.length === 0) return { scrub: (text) => text, maxOccurrenceChars: 0 };
  const charPatterns = kept.map((secret) => [...secret].map(encodedCharPattern));
  const whole = new RegExp(charPatterns.map((chars) => chars.join('')).join('|'), 'g');
  const compiled: CompiledSecret[] = charPatterns.map((chars) => ({
    chars: chars.map((source) => new RegExp(source, 'y')),
  }));
  const maxOccurrenceChars = [...(kept[0] ?? '')].length * MAX_ENCODED_CHAR_LENGTH;

  const scrub = (text: string): string => {
    const replaced = text.replace(whole, REDACTED);
    // Only the last maxOccurrenceChars characters can hold an unfinished occurrence.
    const from = Math.max(0, replaced.length - maxOccurrenceChars);
    const starts = compiled.map((secret) => partialTailStart(replaced, secret, from)).filter((start) => start >= 0);
    return starts.length === 0 ? replaced : `${replaced.slice(0, Math.min(...starts))}${REDACTED}`;
  };
  return { scrub, maxOccurrenceChars };
}
