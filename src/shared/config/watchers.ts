// config/watchers.yaml: which directories the mesh polls, for which files, and which
// agent each new or changed file wakes. Invariants: every object is strict and every
// error is a ConfigError line naming the file and the key path (watchers.0.agent: ...);
// names are unique; a watcher's identity (name, resolved directory, pattern) decides
// which handled files are its own, so changing its path or pattern starts it afresh.
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { AgentNameSchema } from '../names.js';
import { ConfigError, readConfigFile } from './project.js';

export const WATCHERS_FILE = 'config/watchers.yaml';
export const DEFAULT_POLL_INTERVAL_S = 2;
export const DEFAULT_WATCHER_MESSAGE = 'A new or changed file: {path}';

const WatcherEntrySchema = z.strictObject({
  /** Shown in events and in the agent's message; default "<path>:<pattern>". */
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'expected a name of letters, digits, _ . and - (at most 64)')
    .optional(),
  /** A directory, relative to the project directory or absolute. */
  path: z.string().min(1),
  /** A glob over paths relative to `path`: "*.csv" looks at the top level, "**\/*.csv" at every level. */
  pattern: z.string().min(1),
  agent: AgentNameSchema,
  /** `{filename}` is the file's name, `{path}` its path as the mesh sees it (under the project when `path` is relative). */
  message: z.string().min(1).max(8192).default(DEFAULT_WATCHER_MESSAGE),
});

export const WatchersFileSchema = z
  .strictObject({
    /** Seconds between polls; polling works on Docker volumes and network filesystems. */
    poll_interval_s: z.number().min(0.1).max(3600).default(DEFAULT_POLL_INTERVAL_S),
    watchers: z.array(WatcherEntrySchema).default([]),
  })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.watchers.forEach((watcher, index) => {
      const name = watcher.name ?? `${watcher.path}:${watcher.pattern}`;
      if (seen.has(name))
        ctx.addIssue({
          code: 'custom',
          path: ['watchers', index, 'name'],
          message: `another watcher is named "${name}"; give each a name of its own`,
        });
      seen.add(name);
    });
  });

export interface WatcherSpec {
  /** Identity of the handled-file records: name, directory and pattern. */
  key: string;
  name: string;
  /** The directory as written in the config (prefix of `{path}`). */
  path: string;
  /** The directory, absolute. */
  root: string;
  pattern: string;
  /** Whether the pattern can match below the top level. */
  recursive: boolean;
  agent: string;
  message: string;
}

export interface WatchersConfig {
  pollIntervalMs: number;
  watchers: WatcherSpec[];
  /** The file's mtime and size when it was read ("absent" when there was none): a different stamp means an edit. */
  stamp: string;
}

export function watchersFilePath(projectDir: string): string {
  return join(projectDir, WATCHERS_FILE);
}

export function watchersFileStamp(projectDir: string): string {
  try {
    const info = statSync(watchersFilePath(projectDir));
    return `${info.mtimeMs}:${info.size}`;
  } catch {
    return 'absent';
  }
}

/** Reads config/watchers.yaml (none: no watchers); throws a ConfigError naming file and key path. */
export function loadWatchersConfig(projectDir: string, knownAgents: readonly string[]): WatchersConfig {
  // Stamped before reading, so an edit made while reading is seen as one more edit.
  const stamp = watchersFileStamp(projectDir);
  const file = watchersFilePath(projectDir);
  if (!existsSync(file)) return { pollIntervalMs: DEFAULT_POLL_INTERVAL_S * 1000, watchers: [], stamp };
  const parsed = readConfigFile(file, WATCHERS_FILE, WatchersFileSchema);
  const known = new Set(knownAgents);
  const problems = parsed.watchers.flatMap((watcher, index) =>
    known.has(watcher.agent)
      ? []
      : [`${WATCHERS_FILE}: watchers.${index}.agent: no agent named "${watcher.agent}" in config/agents.yaml`],
  );
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    stamp,
    pollIntervalMs: Math.round(parsed.poll_interval_s * 1000),
    watchers: parsed.watchers.map((watcher): WatcherSpec => {
      const root = isAbsolute(watcher.path) ? resolve(watcher.path) : resolve(projectDir, watcher.path);
      const name = watcher.name ?? `${watcher.path}:${watcher.pattern}`;
      return {
        key: `${name}\n${root}\n${watcher.pattern}`,
        name,
        path: watcher.path,
        root,
        pattern: watcher.pattern,
        recursive: watcher.pattern.includes('/') || watcher.pattern.includes('**'),
        agent: watcher.agent,
        message: watcher.message,
      };
    }),
  };
}
