// Turns a zod error into lines a user can act on: "<where>: <key.path>: <what was expected>".
import type { z } from 'zod';

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      const article = /^[aeiou]/.test(issue.expected) ? 'an' : 'a';
      return `expected ${article} ${issue.expected}`;
    }
    case 'unrecognized_keys':
      return issue.keys.length === 1
        ? `unknown key "${issue.keys[0]}"`
        : `unknown keys ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_key':
      // The key itself broke a rule (an agent name, say): the inner issue says which.
      return `invalid name: ${issue.issues[0]?.message ?? issue.message}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return issue.message;
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p) => String(p)).join('.');
}

/** One line per issue; `where` names the file or the request part that was read. */
export function formatZodIssues(where: string, error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = formatPath(issue.path);
    return path ? `${where}: ${path}: ${describeIssue(issue)}` : `${where}: ${describeIssue(issue)}`;
  });
}
