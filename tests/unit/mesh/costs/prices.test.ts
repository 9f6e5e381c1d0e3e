// Price lookup: the shipped table, a project's file over it, globs by specificity, the
// default price with one warning per model, and config errors that name file and key.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { costNano, globPattern, loadPriceBook } from '../../../../src/shared/config/prices.js';
import { ConfigError } from '../../../../src/shared/config/project.js';
import { createLogger } from '../../../../src/shared/logging.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function projectWithPrices(yaml?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'legion-prices-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'config'));
  if (yaml !== undefined) writeFileSync(join(dir, 'config', 'prices.yaml'), yaml);
  return dir;
}

function book(yaml?: string) {
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger(
    {},
    { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { prices: loadPriceBook(projectWithPrices(yaml), logger), logs };
}

function configErrors(yaml: string): string[] {
  try {
    book(yaml);
  } catch (err) {
    if (err instanceof ConfigError) return err.lines;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('the shipped price table', () => {
  it('prices current OpenAI and Anthropic models, the most specific glob winning', () => {
    const { prices } = book();
    expect(prices.lookup('openai/gpt-4o')).toEqual({
      key: 'openai/gpt-4o*',
      price: { input_per_mtok: 2.5, output_per_mtok: 10 },
    });
    expect(prices.lookup('openai/gpt-4o-mini')).toEqual({
      key: 'openai/gpt-4o-mini*',
      price: { input_per_mtok: 0.15, output_per_mtok: 0.6 },
    });
    expect(prices.lookup('openai/gpt-4o-mini-2024-07-18').key).toBe('openai/gpt-4o-mini*');
    expect(prices.lookup('openai/gpt-4o-2024-05-13').key).toBe('openai/gpt-4o-2024-05-13');
    expect(prices.lookup('openai/gpt-4.1-nano').price).toEqual({ input_per_mtok: 0.1, output_per_mtok: 0.4 });
    expect(prices.lookup('openai/gpt-5-mini').key).toBe('openai/gpt-5-mini*');
    expect(prices.lookup('openai/o3-mini').key).toBe('openai/o3-mini*');
    expect(prices.lookup('openai/text-embedding-3-small').price).toEqual({ input_per_mtok: 0.02, output_per_mtok: 0 });
    expect(prices.lookup('anthropic/claude-sonnet-4-5-20250929').price).toEqual({
      input_per_mtok: 3,
      output_per_mtok: 15,
    });
    expect(prices.lookup('anthropic/claude-opus-4-1').price).toEqual({ input_per_mtok: 15, output_per_mtok: 75 });
    expect(prices.lookup('anthropic/claude-opus-4-5').price).toEqual({ input_per_mtok: 5, output_per_mtok: 25 });
    expect(prices.lookup('anthropic/claude-haiku-4-5').price).toEqual({ input_per_mtok: 1, output_per_mtok: 5 });
    expect(prices.lookup('anthropic/claude-3-5-haiku-latest').price).toEqual({
      input_per_mtok: 0.8,
      output_per_mtok: 4,
    });
  });
});

describe('a project price file', () => {
  it('overrides keys, adds globs, replaces the default, and wins over the shipped table', () => {
    const { prices } = book(
      [
        'default: { input_per_mtok: 1, output_per_mtok: 2 }',
        'models:',
        '  openai/gpt-4o-mini: { input_per_mtok: 0.1, output_per_mtok: 0.2 }',
        '  "ollama/*": { input_per_mtok: 0, output_per_mtok: 0 }',
        '  "anthropic/*": { input_per_mtok: 9, output_per_mtok: 9 }',
        '',
      ].join('\n'),
    );
    expect(prices.lookup('openai/gpt-4o-mini')).toEqual({
      key: 'openai/gpt-4o-mini',
      price: { input_per_mtok: 0.1, output_per_mtok: 0.2 },
    });
    expect(prices.lookup('ollama/meta-llama/Llama-3-8B').key).toBe('ollama/*');
    expect(prices.lookup('anthropic/claude-sonnet-4-5').key).toBe('anthropic/*');
    expect(prices.lookup('openai/gpt-4o').key).toBe('openai/gpt-4o*');
    expect(prices.lookup('mistral/large')).toEqual({ key: null, price: { input_per_mtok: 1, output_per_mtok: 2 } });
  });

  it('names the file and the key path of a mistake', () => {
    expect(configErrors('models:\n  openai/gpt-4o: { input_per_mtok: cheap, output_per_mtok: 1 }\n')).toEqual([
      'config/prices.yaml: models.openai/gpt-4o.input_per_mtok: expected a number',
    ]);
    expect(configErrors('models:\n  openai/gpt-4o: { input: 1, input_per_mtok: 1, output_per_mtok: 1 }\n')).toEqual([
      'config/prices.yaml: models.openai/gpt-4o: unknown key "input"',
    ]);
    expect(configErrors('defaults: { input_per_mtok: 1, output_per_mtok: 1 }\n')).toEqual([
      'config/prices.yaml: unknown key "defaults"',
    ]);
    expect(configErrors('models:\n  gpt-4o: { input_per_mtok: 1, output_per_mtok: 1 }\n')[0]).toMatch(
      /^config\/prices\.yaml: models\.gpt-4o: .*expected "provider\/model"/,
    );
    expect(configErrors('default: { input_per_mtok: -1, output_per_mtok: 1 }\n')[0]).toMatch(
      /^config\/prices\.yaml: default\.input_per_mtok: /,
    );
  });
});

describe('the default price', () => {
  it('applies to unknown models and warns once per model', () => {
    const { prices, logs } = book();
    const fallback = { key: null, price: { input_per_mtok: 5, output_per_mtok: 15 } };
    expect(prices.lookup('openai/gpt-next')).toEqual(fallback);
    expect(prices.lookup('openai/gpt-next')).toEqual(fallback);
    expect(prices.lookup('local/llama')).toEqual(fallback);
    const warnings = logs.filter((l) => l.event === 'model_price_unknown');
    expect(warnings.map((w) => w.model)).toEqual(['openai/gpt-next', 'local/llama']);
    expect(warnings[0]).toMatchObject({
      level: 40,
      msg: expect.stringContaining('no price for openai/gpt-next in config/prices.yaml; using the default price'),
    });
    prices.lookup('openai/gpt-4o');
    expect(logs.filter((l) => l.event === 'model_price_unknown')).toHaveLength(2);
  });
});

describe('globPattern and costNano', () => {
  it('treats only * and ? as wildcards', () => {
    expect(globPattern('openai/gpt-4.1*').test('openai/gpt-4.1-mini')).toBe(true);
    expect(globPattern('openai/gpt-4.1*').test('openai/gpt-4x1')).toBe(false);
    expect(globPattern('openai/o?-mini').test('openai/o4-mini')).toBe(true);
    expect(globPattern('openai/o?-mini').test('openai/o4x-mini')).toBe(false);
    expect(globPattern('x/(a+)').test('x/(a+)')).toBe(true);
  });

  it('prices tokens in whole nano-dollars', () => {
    expect(costNano({ input_per_mtok: 0.15, output_per_mtok: 0.6 }, 1000, 500)).toBe(450_000);
    expect(costNano({ input_per_mtok: 3, output_per_mtok: 15 }, 1_000_000, 1_000_000)).toBe(18_000_000_000);
    expect(costNano({ input_per_mtok: 0.075, output_per_mtok: 0 }, 1, 0)).toBe(75);
  });
});
