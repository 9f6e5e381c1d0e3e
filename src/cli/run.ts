// How every command ends: a LegionError (or any error) becomes one clear message on
// stderr and exit code 1, never a stack trace.
import { ConfigError } from '../shared/config/project-files.js';

export function commandAction<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`invalid configuration:\n${err.lines.map((l) => `  ${l}`).join('\n')}\n`);
      } else {
        process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      }
      process.exit(1);
    }
  };
}

export const projectDir = (): string => process.cwd();
