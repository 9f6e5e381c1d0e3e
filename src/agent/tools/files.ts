// The file tools: read_file, write_file, list_files.
// Invariants: every path goes through resolveConfinedPath first, so nothing outside the
// data directory is read, written or listed; list_files never follows a symlink into a
// directory (a link is listed, not entered); outputs are capped with a visible marker.
import { appendFile, mkdir, open, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import { z } from 'zod';
import { LegionError } from '../../shared/errors.js';
import { resolveConfinedPath } from './paths.js';
import { defineTool } from './registry.js';

export const READ_CAP_BYTES = 256 * 1024;
export const LIST_CAP_ENTRIES = 500;

const PATH_HINT = 'relative to the workspace, or absolute under the data directory';

export const readFileTool = defineTool({
  name: 'read_file',
  description: `Read a text file (at most ${READ_CAP_BYTES / 1024} KB are returned).`,
  schema: z.strictObject({ path: z.string().min(1).describe(`File path, ${PATH_HINT}.`) }),
  async run(args, ctx) {
    const target = await resolveConfinedPath(args.path, ctx);
    const info = await stat(target).catch((err: unknown) => rethrowFsError(err, args.path));
    if (info.isDirectory())
      return { ok: false, output: `"${args.path}" is a directory; use list_files to see what is in it` };
    const handle = await open(target, 'r');
    try {
      const buffer = Buffer.alloc(Math.min(info.size, READ_CAP_BYTES));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      const head = buffer.subarray(0, bytesRead);
      if (head.includes(0))
        return {
          ok: false,
          output: `"${args.path}" looks like a binary file (${info.size} bytes); use exec to inspect it`,
        };
      const cut = info.size - bytesRead;
      const text = head.toString('utf8');
      return { ok: true, output: cut > 0 ? `${text}\n[... truncated: ${cut} more bytes not shown]` : text };
    } finally {
      await handle.close();
    }
  },
});

export const writeFileTool = defineTool({
  name: 'write_file',
  description: 'Write a text file, creating parent directories. Replaces the file unless append is true.',
  schema: z.strictObject({
    path: z.string().min(1).describe(`File path, ${PATH_HINT}.`),
    content: z.string().describe('Text to write.'),
    append: z.boolean().optional().describe('Add to the end of the file instead of replacing it.'),
  }),
  async run(args, ctx) {
    const target = await resolveConfinedPath(args.path, ctx);
    await mkdir(path.dirname(target), { recursive: true }).catch((err: unknown) => rethrowFsError(err, args.path));
    const write = args.append ? appendFile : writeFile;
    await write(target, args.content, 'utf8').catch((err: unknown) => rethrowFsError(err, args.path));
    ctx.wrote?.(target);
    const bytes = Buffer.byteLength(args.content, 'utf8');
    return { ok: true, output: `${args.append ? 'appended' : 'wrote'} ${bytes} bytes to ${args.path}` };
  },
});

export const listFilesTool = defineTool({
  name: 'list_files',
  description: `List files under a directory (default: the workspace), recursively. Directories end with "/". At most ${LIST_CAP_ENTRIES} entries.`,
  schema: z.strictObject({
    path: z.string().min(1).optional().describe(`Directory to list, ${PATH_HINT}.`),
    pattern: z.string().min(1).optional().describe('Glob on the relative path, e.g. "**/*.md".'),
  }),
  async run(args, ctx) {
    const shown = args.path ?? '.';
    const root = await resolveConfinedPath(shown, ctx);
    const info = await stat(root).catch((err: unknown) => rethrowFsError(err, shown));
    if (!info.isDirectory()) return { ok: false, output: `"${shown}" is not a directory; use read_file for files` };
    const matches = args.pattern ? picomatch(args.pattern, { dot: true }) : () => true;
    const listing = await listTree(root, matches);
    if (listing.entries.length === 0)
      return {
        ok: true,
        output: args.pattern ? `nothing under ${shown} matches ${args.pattern}` : `${shown} is empty`,
      };
    const more = listing.stopped
      ? `\n[... listing stopped at ${LIST_CAP_ENTRIES} entries; narrow it with path or pattern]`
      : '';
    return { ok: true, output: listing.entries.join('\n') + more };
  },
});

async function listTree(
  root: string,
  matches: (relative: string) => boolean,
): Promise<{ entries: string[]; stopped: boolean }> {
  const entries: string[] = [];
  const walk = async (relativeDir: string): Promise<boolean> => {
    const children = await readdir(path.join(root, relativeDir), { withFileTypes: true });
    children.sort((a, b) => a.name.localeCompare(b.name));
    for (const child of children) {
      const relative = relativeDir ? `${relativeDir}/${child.name}` : child.name;
      const isDir = child.isDirectory();
      if (matches(relative)) {
        if (entries.length === LIST_CAP_ENTRIES) return false;
        entries.push(isDir ? `${relative}/` : relative);
      }
      if (isDir && !(await walk(relative))) return false;
    }
    return true;
  };
  const complete = await walk('');
  return { entries, stopped: !complete };
}

function rethrowFsError(err: unknown, shown: string): never {
  const code = err instanceof Error && 'code' in err ? err.code : undefined;
  switch (code) {
    case 'ENOENT':
      throw new LegionError('not_found', `no such file or directory: "${shown}"`);
    case 'ENOTDIR':
      throw new LegionError('not_a_directory', `a parent of "${shown}" is a file, not a directory`);
    case 'EISDIR':
      throw new LegionError('is_a_directory', `"${shown}" is a directory`);
    case 'EACCES':
    case 'EPERM':
      throw new LegionError('permission_denied', `permission denied: "${shown}"`);
    default:
      throw err;
  }
}
