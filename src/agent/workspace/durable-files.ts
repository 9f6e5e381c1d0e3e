// File writes that are on disk when they resolve. Invariants: appendDurably and
// replaceDurably resolve only after the file's data has been fsync'd (and, when the
// file is new or replaced, its directory entry too), so a crash right after can lose
// nothing they reported written; replaceDurably swaps the whole file in with a rename,
// so a reader sees the old content or the new, never a mix. Callers serialize writers
// of one file (withFileLock), since two appends may otherwise interleave.
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';

export async function appendDurably(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const handle = await open(file, 'a');
  let wasEmpty: boolean;
  try {
    wasEmpty = (await handle.stat()).size === 0;
    await handle.appendFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (wasEmpty) await syncDirectory(path.dirname(file));
}

export async function replaceDurably(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
  await syncDirectory(path.dirname(file));
}

/** What to put before a block appended to `text` so a blank line separates them (the
 *  file may have been edited by hand, with or without a final newline). */
export function separatorAfter(text: string): string {
  if (text === '' || text.endsWith('\n\n')) return '';
  return text.endsWith('\n') ? '\n' : '\n\n';
}

/** The file's text, or '' when it does not exist; any other failure is thrown. */
export async function readTextIfExists(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return '';
    throw err;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const tails = new Map<string, Promise<unknown>>();

/** Runs `task` after every earlier task on the same file has finished (one writer per
 *  file in this process); a failed task does not block the next. */
export function withFileLock<T>(file: string, task: () => Promise<T>): Promise<T> {
  const key = path.resolve(file);
  const result = (tails.get(key) ?? Promise.resolve()).then(task);
  const tail = result.catch(() => undefined);
  tails.set(key, tail);
  void tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key);
  });
  return result;
}
