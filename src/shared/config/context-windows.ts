// Context windows per model: the table shipped in legion's config/context-windows.yaml,
// extended and overridden by the project's own file of that name, and beaten by an
// agent's `context_window` in config/agents.yaml. Invariants: resolving never throws
// and always yields a positive integer; the project's keys are consulted before the
// shipped ones; within one file an exact key beats every glob, then the glob with the
// most literal characters wins (so `openai/gpt-4o-mini*` beats `openai/gpt-4o*`).
// Loading throws only ConfigError, naming the file and key path.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError, readConfigFile } from './project.js';
import { PACKAGE_ROOT } from '../paths.js';

export const CONTEXT_WINDOWS_FILE = 'config/context-windows.yaml';

const TokensSchema = z.number().int().positive();

const WindowKeySchema = z
  .string()
  .regex(/^[a-z0-9*?][a-z0-9_*?-]*\/.+$/, 'expected "provider/model" (globs allowed), for example anthropic/claude-*');

export const ContextWindowsFileSchema = z.strictObject({
  /** The window of every model no key matches. */
  default: TokensSchema.optional(),
  models: z.record(WindowKeySchema, TokensSchema).default({}),
});
export type ContextWindowsFile = z.infer<typeof ContextWindowsFileSchema>;

export interface ContextWindowMatch {
  tokens: number;
  /** The table key that matched, or `default`. */
  source: string;
}

interface Rule {
  key: string;
  tokens: number;
  pattern: RegExp;
}

export class ContextWindowTable {
  private readonly rules: Rule[];
  private readonly fallback: number;

  /** `files` in precedence order: the project's file first, the shipped table last. */
  constructor(files: readonly ContextWindowsFile[], fallback: number) {
    this.rules = files.flatMap(rulesOf);
    this.fallback = fallback;
  }

  /** The window of `model` (`provider/model`) by the table alone. */
  resolve(model: string): ContextWindowMatch {
    const rule = this.rules.find((candidate) => candidate.pattern.test(model));
    return rule ? { tokens: rule.tokens, source: rule.key } : { tokens: this.fallback, source: 'default' };
  }
}

/** Rules of one file, most specific first: exact keys, then globs by literal characters. */
function rulesOf(file: ContextWindowsFile): Rule[] {
  const rank = (key: string) => (/[*?]/.test(key) ? key.replace(/[*?]/g, '').length : Number.MAX_SAFE_INTEGER);
  return Object.entries(file.models)
    .map(([key, tokens]) => ({ key, tokens, pattern: globToRegExp(key) }))
    .sort((a, b) => rank(b.key) - rank(a.key));
}

/** `*` matches any run of characters (slashes too: model names contain them), `?` one. */
function globToRegExp(glob: string): RegExp {
  const body = [...glob]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

/** The shipped table under the project's config/context-windows.yaml (when it has one). */
export function loadContextWindows(projectDir: string): ContextWindowTable {
  const shippedPath = join(PACKAGE_ROOT, CONTEXT_WINDOWS_FILE);
  const shipped = readConfigFile(
    shippedPath,
    `${CONTEXT_WINDOWS_FILE} (shipped with legion)`,
    ContextWindowsFileSchema,
  );
  const ownPath = resolve(projectDir, CONTEXT_WINDOWS_FILE);
  const own =
    existsSync(ownPath) && ownPath !== resolve(shippedPath)
      ? readConfigFile(ownPath, CONTEXT_WINDOWS_FILE, ContextWindowsFileSchema)
      : null;
  const fallback = own?.default ?? shipped.default;
  if (fallback === undefined) {
    throw new ConfigError([
      `${CONTEXT_WINDOWS_FILE}: default: missing; set default: <tokens> for models without an entry`,
    ]);
  }
  return new ContextWindowTable(own ? [own, shipped] : [shipped], fallback);
}
