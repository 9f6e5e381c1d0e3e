// A model served on this machine or the private network (Ollama, vLLM, LM Studio) costs
// nothing unless the project's config/prices.yaml prices it; `openai` and `anthropic`
// pointed at a local address are a proxy to the paid API and keep their prices.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPriceBook } from '../../../../src/shared/config/prices.js';
import { localProviderNames, type ProviderSettings } from '../../../../src/shared/config/providers.js';
import { isLocalBaseUrl } from '../../../../src/shared/local-address.js';
import { createLogger } from '../../../../src/shared/logging.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function book(localProviders: string[], pricesYaml?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'legion-local-prices-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'config'));
  if (pricesYaml !== undefined) writeFileSync(join(dir, 'config', 'prices.yaml'), pricesYaml);
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger(
    {},
    { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { prices: loadPriceBook(dir, logger, new Set(localProviders)), logs };
}

describe('models of a local server', () => {
  it('cost nothing, with no unknown-price warning', () => {
    const { prices, logs } = book(['ollama']);
    expect(prices.lookup('ollama/llama3.1')).toEqual({
      key: 'ollama/* (a local server)',
      price: { input_per_mtok: 0, output_per_mtok: 0 },
    });
    expect(logs.filter((l) => l.event === 'model_price_unknown')).toEqual([]);
    // A remote compatible server is still priced at the default.
    expect(prices.lookup('groq/llama3.1').key).toBeNull();
  });

  it('are priced by the project file when it names them', () => {
    const { prices } = book(['local'], 'models:\n  local/big-*: { input_per_mtok: 0.5, output_per_mtok: 1 }\n');
    expect(prices.lookup('local/big-70b').price).toEqual({ input_per_mtok: 0.5, output_per_mtok: 1 });
    expect(prices.lookup('local/small').price).toEqual({ input_per_mtok: 0, output_per_mtok: 0 });
  });
});

describe('which providers are local', () => {
  const provider = (name: string, baseUrl: string): ProviderSettings => ({
    name,
    kind: 'openai',
    baseUrl,
    apiKey: null,
  });

  it('is decided by the base URL: loopback, host.docker.internal, private and link-local addresses', () => {
    for (const url of [
      'http://localhost:11434/v1',
      'http://127.0.0.1:8000/v1',
      'http://[::1]:1234/v1',
      'http://host.docker.internal:11434/v1',
      'http://10.1.2.3/v1',
      'http://172.20.0.5:8000/v1',
      'http://192.168.1.10:1234/v1',
      'http://gpu-box.local:8000/v1',
      'http://[fd00::5]/v1',
    ]) {
      expect(isLocalBaseUrl(url), url).toBe(true);
    }
    for (const url of [
      'https://api.groq.com/openai/v1',
      'http://172.32.0.1/v1',
      'http://8.8.8.8/v1',
      'https://api.openai.com/v1',
      'not a url',
    ]) {
      expect(isLocalBaseUrl(url), url).toBe(false);
    }
  });

  it('leaves openai and anthropic priced even behind a local proxy', () => {
    const registry = new Map([
      ['openai', provider('openai', 'http://127.0.0.1:4000/v1')],
      ['ollama', provider('ollama', 'http://127.0.0.1:11434/v1')],
      ['groq', provider('groq', 'https://api.groq.com/openai/v1')],
    ]);
    expect([...localProviderNames(registry)]).toEqual(['ollama']);
  });
});
