// Watches files of a project's config/ directory and calls back once per burst of
// changes. The directory is watched, not the files: editors replace a file (a new
// inode) and a file may be created or deleted while the mesh runs. Never throws: a
// directory that cannot be watched is logged, and edits then need a mesh restart.
import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../shared/logging.js';

// Editors save in bursts (write temp, rename, chmod); one reload per burst.
const RELOAD_DEBOUNCE_MS = 100;

export interface ConfigWatchOptions {
  projectDir: string;
  /** File names inside config/ whose changes matter. */
  names: ReadonlySet<string>;
  /** What the files configure, for the log line when watching fails ("permission edits"). */
  what: string;
  logger: Logger;
  onChange: () => void;
}

export interface ConfigWatch {
  /** Drops a reload that is waiting out its debounce (the caller reloads now instead). */
  cancelPending: () => void;
  close: () => void;
}

export function watchConfigFiles(options: ConfigWatchOptions): ConfigWatch {
  const dir = join(options.projectDir, 'config');
  let watcher: FSWatcher | null = null;
  let debounce: NodeJS.Timeout | null = null;
  const cancelPending = () => {
    if (debounce) clearTimeout(debounce);
    debounce = null;
  };
  const close = () => {
    cancelPending();
    watcher?.close();
    watcher = null;
  };
  const schedule = () => {
    cancelPending();
    debounce = setTimeout(() => {
      debounce = null;
      options.onChange();
    }, RELOAD_DEBOUNCE_MS);
    // The HTTP server keeps the mesh alive; a pending reload should not.
    debounce.unref();
  };
  try {
    watcher = watch(dir, { persistent: false }, (_event, filename) => {
      // Linux always names the file; a platform that does not gets a reload anyway.
      if (filename === null || options.names.has(filename)) schedule();
    });
  } catch (err) {
    options.logger.warn(
      { event: 'config_watch_failed', err, dir },
      `cannot watch config/; ${options.what} need a mesh restart`,
    );
    return { cancelPending, close };
  }
  watcher.on('error', (err) => {
    options.logger.warn(
      { event: 'config_watch_failed', err, dir },
      `stopped watching config/; ${options.what} need a mesh restart`,
    );
    close();
  });
  return { cancelPending, close };
}
