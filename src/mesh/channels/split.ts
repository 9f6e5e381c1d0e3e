// Splits a reply into messages a platform accepts (4,096 characters on Telegram, 2,000
// on Discord). Pure. Invariants: every part is at most `limit` characters; joined back
// (minus the fences added at a cut) the parts give the text; a cut inside a ``` code
// block closes the fence at the end of one part and reopens it, with its language, at
// the start of the next, so both halves render as code; cuts prefer a blank line, then
// a line end, then a space, and never split a surrogate pair.

const CLOSE_FENCE = '\n```';

/** The opening fence line still open at the end of `text`, or null. */
export function openFenceAt(text: string): string | null {
  let open: string | null = null;
  for (const line of text.split('\n')) {
    const fence = /^\s*(```.*)$/.exec(line);
    if (!fence) continue;
    open = open === null ? (fence[1] ?? '```').trim() : null;
  }
  return open;
}

/** Where to cut `text` so the part before is at most `budget` characters. */
function cutPoint(text: string, budget: number): number {
  const window = text.slice(0, budget + 1);
  for (const separator of ['\n\n', '\n', ' ']) {
    const at = window.lastIndexOf(separator);
    // A cut in the first quarter would leave a stub message; look for a finer separator.
    if (at > budget / 4) return at;
  }
  const code = text.charCodeAt(budget - 1);
  return code >= 0xd800 && code <= 0xdbff ? budget - 1 : budget;
}

export function splitReply(text: string, limit: number): string[] {
  if (limit < 16) throw new Error(`splitReply: a limit of ${limit} leaves no room for code fences`);
  const parts: string[] = [];
  let rest = text;
  let reopen: string | null = null;
  while (rest.length > 0) {
    const prefix = reopen === null ? '' : `${reopen}\n`;
    if (prefix.length + rest.length <= limit) {
      parts.push(prefix + rest);
      break;
    }
    const budget = limit - prefix.length - CLOSE_FENCE.length;
    const cut = cutPoint(rest, budget);
    const piece = rest.slice(0, cut).replace(/\s+$/, '');
    rest = rest.slice(cut).replace(/^\n+/, '').replace(/^ /, '');
    const open = openFenceAt(prefix + piece);
    parts.push(open === null ? prefix + piece : prefix + piece + CLOSE_FENCE);
    reopen = open;
  }
  return parts.length > 0 ? parts : [''];
}
