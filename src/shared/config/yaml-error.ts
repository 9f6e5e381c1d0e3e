// A YAML syntax error as a user can act on it: the file, line and column, what is wrong,
// then the offending line with a caret under the column. (The parser's own message ends
// on "at line N, column C:" and its excerpt, which one-line logs cut to a dangling colon.)
import type { YAMLError } from 'yaml';

export function formatYamlError(label: string, text: string, error: YAMLError): string {
  const what = error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? error.message;
  const pos = error.linePos?.[0];
  if (!pos) return `${label}: ${what}`;
  const line = text.split('\n')[pos.line - 1] ?? '';
  return `${label}: line ${pos.line}, column ${pos.col}: ${what}\n  ${line}\n  ${' '.repeat(Math.max(pos.col - 1, 0))}^`;
}
