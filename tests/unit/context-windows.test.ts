// The context-window table: the shipped file parses, exact keys beat globs, the most
// specific glob wins, a project's own file comes first, and broken files are named.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContextWindowTable, loadContextWindows } from '../../src/shared/config/context-windows.js';
import { ConfigError, readConfigFile } from '../../src/shared/config/project.js';
import { AgentsFileSchema } from '../../src/shared/config/schema.js';

describe('ContextWindowTable', () => {
  const table = new ContextWindowTable(
    [
      {
        models: {
          'openai/gpt-4o*': 128_000,
          'openai/gpt-4o-mini*': 64_000,
          'openai/gpt-4o-special': 9_000,
          '*/llama3*': 8_192,
        },
      },
    ],
    32_000,
  );

  it('prefers an exact key, then the glob with the most literal characters', () => {
    expect(table.resolve('openai/gpt-4o-special')).toEqual({ tokens: 9_000, source: 'openai/gpt-4o-special' });
    expect(table.resolve('openai/gpt-4o-mini-2024-07-18')).toEqual({ tokens: 64_000, source: 'openai/gpt-4o-mini*' });
    expect(table.resolve('openai/gpt-4o')).toEqual({ tokens: 128_000, source: 'openai/gpt-4o*' });
  });

  it('lets * match slashes and falls back to the default', () => {
    expect(table.resolve('ollama/meta/llama3.1:8b').tokens).toBe(8_192);
    expect(table.resolve('mystery/model')).toEqual({ tokens: 32_000, source: 'default' });
  });
});

describe('loadContextWindows', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'legion-windows-'));
    mkdirSync(join(dir, 'config'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the shipped table', () => {
    const table = loadContextWindows(dir);
    expect(table.resolve('openai/gpt-4o-mini').tokens).toBe(128_000);
    expect(table.resolve('anthropic/claude-sonnet-4-5').tokens).toBe(200_000);
    expect(table.resolve('someone/unknown').source).toBe('default');
  });

  it("puts the project's own keys and default before the shipped ones", () => {
    writeFileSync(join(dir, 'config', 'context-windows.yaml'), 'default: 4096\nmodels:\n  openai/gpt-4o*: 2000\n');
    const table = loadContextWindows(dir);
    expect(table.resolve('openai/gpt-4o-mini')).toEqual({ tokens: 2000, source: 'openai/gpt-4o*' });
    expect(table.resolve('anthropic/claude-opus-4-1').tokens).toBe(200_000);
    expect(table.resolve('someone/unknown').tokens).toBe(4096);
  });

  it('names the file and key of a mistake', () => {
    writeFileSync(join(dir, 'config', 'context-windows.yaml'), 'models:\n  gpt-4o: 1000\n  openai/x: -5\n');
    let error: unknown;
    try {
      loadContextWindows(dir);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const lines = error instanceof ConfigError ? error.lines : [];
    expect(
      lines.some(
        (line) => line.startsWith('config/context-windows.yaml: models.gpt-4o') && line.includes('provider/model'),
      ),
    ).toBe(true);
    expect(lines.some((line) => line.startsWith('config/context-windows.yaml: models.openai/x'))).toBe(true);
  });
});

describe('agents.<name>.context_window', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'legion-agents-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const read = (yaml: string) => {
    writeFileSync(join(dir, 'agents.yaml'), yaml);
    return readConfigFile(join(dir, 'agents.yaml'), 'config/agents.yaml', AgentsFileSchema);
  };

  it('is optional, and a whole number of at least 1000 tokens when set', () => {
    expect(read('agents:\n  a:\n    role: r\n').agents.a?.context_window).toBeUndefined();
    expect(read('agents:\n  a:\n    role: r\n    context_window: 16000\n').agents.a?.context_window).toBe(16_000);
    expect(() => read('agents:\n  a:\n    role: r\n    context_window: 500\n')).toThrow(
      /config\/agents\.yaml: agents\.a\.context_window: /,
    );
    expect(() => read('agents:\n  a:\n    role: r\n    context_window: 2000.5\n')).toThrow(ConfigError);
  });
});
