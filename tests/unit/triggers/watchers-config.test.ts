// config/watchers.yaml: defaults, resolved paths, and errors naming file and key path.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/shared/config/project.js';
import { loadWatchersConfig } from '../../../src/shared/config/watchers.js';

describe('config/watchers.yaml', () => {
  let dir: string;
  const write = (yaml: string) => writeFileSync(join(dir, 'config', 'watchers.yaml'), yaml);
  const errorOf = (agents: string[] = ['researcher']): string[] => {
    try {
      loadWatchersConfig(dir, agents);
    } catch (err) {
      if (err instanceof ConfigError) return err.lines;
      throw err;
    }
    throw new Error('expected a ConfigError');
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'legion-watchers-'));
    mkdirSync(join(dir, 'config'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('means no watchers when the file is absent', () => {
    expect(loadWatchersConfig(dir, [])).toMatchObject({ watchers: [], pollIntervalMs: 2000, stamp: 'absent' });
  });

  it('resolves paths against the project, names unnamed watchers and fills defaults', () => {
    write(
      'poll_interval_s: 0.5\nwatchers:\n  - path: inbox\n    pattern: "*.csv"\n    agent: researcher\n  - name: logs\n    path: /var/log/app\n    pattern: "**/*.log"\n    agent: researcher\n    message: "look at {filename}"\n',
    );
    const config = loadWatchersConfig(dir, ['researcher']);
    expect(config.pollIntervalMs).toBe(500);
    expect(config.watchers).toEqual([
      expect.objectContaining({
        name: 'inbox:*.csv',
        path: 'inbox',
        root: join(dir, 'inbox'),
        recursive: false,
        message: 'A new or changed file: {path}',
      }),
      expect.objectContaining({ name: 'logs', root: '/var/log/app', recursive: true, message: 'look at {filename}' }),
    ]);
    expect(config.stamp).not.toBe('absent');
  });

  it('names the file and key path of an unknown key, a missing field and a bad agent name', () => {
    write(
      'watchers:\n  - path: inbox\n    pattern: "*"\n    agent: researcher\n    recursive: true\n  - path: x\n    agent: researcher\n  - path: y\n    pattern: "*"\n    agent: Bad_Name\n',
    );
    const lines = errorOf();
    expect(lines).toContain('config/watchers.yaml: watchers.0: unknown key "recursive"');
    expect(lines).toContain('config/watchers.yaml: watchers.1.pattern: expected a string');
    expect(lines.some((l) => l.startsWith('config/watchers.yaml: watchers.2.agent: '))).toBe(true);
  });

  it('refuses an agent that is not in the fleet, and two watchers with one name', () => {
    write('watchers:\n  - path: a\n    pattern: "*"\n    agent: ghost\n');
    expect(errorOf()).toEqual(['config/watchers.yaml: watchers.0.agent: no agent named "ghost" in config/agents.yaml']);
    write(
      'watchers:\n  - { name: w, path: a, pattern: "*", agent: researcher }\n  - { name: w, path: b, pattern: "*", agent: researcher }\n',
    );
    expect(errorOf()).toEqual([
      'config/watchers.yaml: watchers.1.name: another watcher is named "w"; give each a name of its own',
    ]);
  });

  it('reports YAML syntax errors with the file name', () => {
    write('watchers: [\n');
    expect(errorOf()[0]).toMatch(/^config\/watchers\.yaml: /);
  });
});
