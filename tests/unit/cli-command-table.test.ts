// The CLI loads only the module of the command being run, chosen by the command's
// first word: every table entry must name exactly the commands its module registers,
// or a command would be missing (or load the wrong module) when run directly.
import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { COMMANDS, registrations } from '../../src/cli/command-table.js';

const argv = (...words: string[]) => ['node', 'legion', ...words];

describe('CLI command table', () => {
  it.each(COMMANDS.map((entry) => [entry.names.join(', '), entry] as const))(
    '%s: the names match what the module registers',
    async (_label, entry) => {
      const program = new Command();
      for (const register of await entry.load()) register(program);
      expect(program.commands.map((c) => c.name()).sort()).toEqual([...entry.names].sort());
    },
  );

  it('no command name appears twice', () => {
    const names = COMMANDS.flatMap((entry) => entry.names);
    expect(new Set(names).size).toBe(names.length);
  });

  it('loads only the module of the command being run', async () => {
    const program = new Command();
    for (const register of await registrations(argv('chat', 'assistant', '-m', 'hi'))) register(program);
    expect(program.commands.map((c) => c.name())).toEqual(['chat']);
  });

  it('loads nothing for --version, everything for help or an unknown command', async () => {
    expect(await registrations(argv('--version'))).toEqual([]);
    const all = COMMANDS.reduce((n, entry) => n + entry.names.length, 0);
    for (const words of [[], ['--help'], ['chta']]) {
      const program = new Command();
      for (const register of await registrations(argv(...words))) register(program);
      expect(program.commands).toHaveLength(all);
    }
  });
});
