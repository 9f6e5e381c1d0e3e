// Model prices: the table shipped in legion's config/prices.yaml, extended and
// overridden by the project's config/prices.yaml. Invariants: a lookup never throws;
// the project's keys are consulted first, then a provider served on this machine or the
// private network (Ollama, vLLM, LM Studio) is free, then the shipped keys; and within one file an
// exact key beats every glob, then the glob with the most literal characters wins (so
// `openai/gpt-4o-mini*` beats `openai/gpt-4o*`); a model no key matches gets the
// default price and exactly one warning per model for the life of the book; answers
// are cached, so the hot path is one Map read.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError, readConfigFile } from './project.js';
import type { Logger } from '../logging.js';
import { PACKAGE_ROOT } from '../paths.js';

export const PRICES_FILE = 'config/prices.yaml';

const PriceSchema = z.strictObject({
  input_per_mtok: z.number().nonnegative(),
  output_per_mtok: z.number().nonnegative(),
});
/** USD per million tokens. */
export type Price = z.infer<typeof PriceSchema>;

const PriceKeySchema = z
  .string()
  .regex(
    /^[a-z0-9*?][a-z0-9_*?-]*\/.+$/,
    'expected "provider/model" (globs allowed), for example anthropic/claude-sonnet-4*',
  );

export const PricesFileSchema = z.strictObject({
  /** The price of every model no key matches. */
  default: PriceSchema.optional(),
  models: z.record(PriceKeySchema, PriceSchema).default({}),
});
export type PricesFile = z.infer<typeof PricesFileSchema>;

export interface PriceMatch {
  price: Price;
  /** The key that matched; null when the default price applies. */
  key: string | null;
}

interface Rule {
  key: string;
  price: Price;
  pattern: RegExp;
}

/** Rules of one file, most specific first: exact keys, then globs by literal characters. */
function rulesOf(file: PricesFile): Rule[] {
  const rank = (key: string) => (/[*?]/.test(key) ? key.replace(/[*?]/g, '').length : Number.MAX_SAFE_INTEGER);
  return Object.entries(file.models)
    .map(([key, price]) => ({ key, price, pattern: globPattern(key) }))
    .sort((a, b) => rank(b.key) - rank(a.key));
}

/** `*` matches any run of characters (slashes too: model names contain them), `?` one. */
export function globPattern(glob: string): RegExp {
  const body = [...glob]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

/** Nano-dollars for these token counts at `price` (USD per million = 1000 nano-dollars per token). */
export function costNano(price: Price, promptTokens: number, completionTokens: number): number {
  return Math.round(promptTokens * price.input_per_mtok * 1000 + completionTokens * price.output_per_mtok * 1000);
}

/** What a server on this machine or the private network charges per token. */
const FREE: Price = { input_per_mtok: 0, output_per_mtok: 0 };

export interface PriceBookFiles {
  /** The project's config/prices.yaml, when it has one: it wins over everything. */
  own: PricesFile | null;
  shipped: PricesFile;
}

export class PriceBook {
  private readonly ownRules: Rule[];
  private readonly shippedRules: Rule[];
  private readonly fallback: Price;
  private readonly logger: Logger;
  private readonly localProviders: ReadonlySet<string>;
  private readonly cache = new Map<string, PriceMatch>();

  /** `localProviders`: providers whose server runs on this machine or the private network;
   *  their models cost nothing unless the project's own file prices them. */
  constructor(files: PriceBookFiles, fallback: Price, logger: Logger, localProviders: ReadonlySet<string> = new Set()) {
    this.ownRules = files.own ? rulesOf(files.own) : [];
    this.shippedRules = rulesOf(files.shipped);
    this.fallback = fallback;
    this.logger = logger;
    this.localProviders = localProviders;
  }

  private match(model: string): PriceMatch | null {
    const own = this.ownRules.find((r) => r.pattern.test(model));
    if (own) return { price: own.price, key: own.key };
    const provider = model.split('/')[0] ?? '';
    if (this.localProviders.has(provider)) return { price: FREE, key: `${provider}/* (a local server)` };
    const shipped = this.shippedRules.find((r) => r.pattern.test(model));
    return shipped ? { price: shipped.price, key: shipped.key } : null;
  }

  /** The price of `model` (`provider/model`). */
  lookup(model: string): PriceMatch {
    const cached = this.cache.get(model);
    if (cached) return cached;
    const rule = this.match(model);
    const match: PriceMatch = rule ?? { price: this.fallback, key: null };
    if (!rule) {
      this.logger.warn(
        { event: 'model_price_unknown', model, price: this.fallback },
        `no price for ${model} in ${PRICES_FILE}; using the default price ($${this.fallback.input_per_mtok} input, $${this.fallback.output_per_mtok} output per million tokens)`,
      );
    }
    this.cache.set(model, match);
    return match;
  }
}

/** The shipped table under the project's config/prices.yaml (when it has one). Throws
 *  ConfigError naming the file and key path. */
export function loadPriceBook(
  projectDir: string,
  logger: Logger,
  localProviders: ReadonlySet<string> = new Set(),
): PriceBook {
  const shippedPath = join(PACKAGE_ROOT, PRICES_FILE);
  const shipped = readConfigFile(shippedPath, `${PRICES_FILE} (shipped with legion)`, PricesFileSchema);
  const ownPath = resolve(projectDir, PRICES_FILE);
  const own =
    existsSync(ownPath) && ownPath !== resolve(shippedPath)
      ? readConfigFile(ownPath, PRICES_FILE, PricesFileSchema)
      : null;
  const fallback = own?.default ?? shipped.default;
  if (!fallback) {
    throw new ConfigError([
      `${PRICES_FILE}: default: missing; set default: { input_per_mtok: ..., output_per_mtok: ... } for models without a price`,
    ]);
  }
  return new PriceBook({ own, shipped }, fallback, logger, localProviders);
}
