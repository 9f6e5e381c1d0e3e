// The agent's built-in tools against real temp directories and a real shell, called the
// way the loop calls them: through runToolCall with the model's JSON arguments.
import { mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_TOOLS } from '../../src/agent/tools/builtin.js';
import { OUTPUT_CAP_BYTES } from '../../src/agent/tools/confined-process.js';
import { LIST_CAP_ENTRIES, READ_CAP_BYTES } from '../../src/agent/tools/files.js';
import { runToolCall, type ToolContext, type ToolResult } from '../../src/agent/tools/registry.js';

let root: string;
let ctx: ToolContext;

beforeEach(async () => {
  root = await realpath(await mkdtemp(path.join(tmpdir(), 'legion-tools-')));
  const dataDir = path.join(root, 'data');
  ctx = { dataDir, workspaceDir: path.join(dataDir, 'workspace'), signal: new AbortController().signal, trace: null };
  await mkdir(ctx.workspaceDir, { recursive: true });
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function call(name: string, args: unknown, context: ToolContext = ctx): Promise<ToolResult> {
  return runToolCall(BUILTIN_TOOLS, { id: 'call_1', name, arguments: JSON.stringify(args) }, context);
}

describe('exec', () => {
  it('runs in the workspace and reports exit code, stdout and stderr', async () => {
    const result = await call('exec', { command: 'pwd; echo oops >&2' });
    expect(result.ok).toBe(true);
    expect(result.output).toContain('exit code: 0');
    expect(result.output).toContain(`stdout:\n${ctx.workspaceDir}\n`);
    expect(result.output).toContain('stderr:\noops');
  });

  it('treats a non-zero exit as a failure and still shows the output', async () => {
    const result = await call('exec', { command: 'echo partial; exit 3' });
    expect(result).toEqual({ ok: false, output: expect.stringContaining('exit code: 3') });
    expect(result.output).toContain('partial');
  });

  it('kills the whole process group on timeout and says so', async () => {
    const marker = path.join(ctx.workspaceDir, 'survived');
    const started = Date.now();
    const result = await call('exec', { command: `(sleep 1; touch ${marker}) & sleep 5`, timeout_s: 0.3 });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(result.ok).toBe(false);
    expect(result.output).toContain('timed out after 0.3 s');
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    await expect(readFile(marker)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('stops the command when the turn is cancelled', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const result = await call('exec', { command: 'sleep 5' }, { ...ctx, signal: controller.signal });
    expect(result.ok).toBe(false);
    expect(result.output).toContain('cancelled');
  });

  it('caps the output and says how much was cut', async () => {
    const result = await call('exec', { command: "head -c 100000 /dev/zero | tr '\\0' a" });
    expect(result.ok).toBe(true);
    expect(result.output.length).toBeLessThan(OUTPUT_CAP_BYTES + 200);
    expect(result.output).toContain(`[... ${100_000 - OUTPUT_CAP_BYTES} more bytes cut]`);
  });

  it('rejects a timeout above the maximum, naming the field', async () => {
    const result = await call('exec', { command: 'true', timeout_s: 601 });
    expect(result.ok).toBe(false);
    expect(result.output).toContain('arguments for exec: timeout_s');
  });
});

describe('write_file and read_file', () => {
  it('round-trips content and creates parent directories', async () => {
    const written = await call('write_file', { path: 'notes/deep/a.md', content: 'héllo\n' });
    expect(written).toEqual({ ok: true, output: 'wrote 7 bytes to notes/deep/a.md' });
    await expect(call('read_file', { path: 'notes/deep/a.md' })).resolves.toEqual({ ok: true, output: 'héllo\n' });
    await expect(call('read_file', { path: path.join(ctx.workspaceDir, 'notes/deep/a.md') })).resolves.toMatchObject({
      output: 'héllo\n',
    });
  });

  it('appends when asked', async () => {
    await call('write_file', { path: 'log.txt', content: 'one\n' });
    const appended = await call('write_file', { path: 'log.txt', content: 'two\n', append: true });
    expect(appended.output).toBe('appended 4 bytes to log.txt');
    expect(await readFile(path.join(ctx.workspaceDir, 'log.txt'), 'utf8')).toBe('one\ntwo\n');
  });

  it('caps a large file with a marker', async () => {
    await writeFile(path.join(ctx.workspaceDir, 'big.txt'), 'x'.repeat(READ_CAP_BYTES + 10));
    const result = await call('read_file', { path: 'big.txt' });
    expect(result.ok).toBe(true);
    expect(result.output).toContain('[... truncated: 10 more bytes not shown]');
  });

  it('explains a missing file and a path outside the data directory', async () => {
    await expect(call('read_file', { path: 'nope.txt' })).resolves.toEqual({
      ok: false,
      output: 'read_file failed: no such file or directory: "nope.txt"',
    });
    const outside = await call('write_file', { path: '../../escape.txt', content: 'x' });
    expect(outside).toEqual({
      ok: false,
      output: `write_file failed: path "../../escape.txt" is outside ${ctx.dataDir}`,
    });
  });

  it('does not write through a symlink that points outside', async () => {
    const outsideFile = path.join(root, 'victim.txt');
    await writeFile(outsideFile, 'original');
    await symlink(outsideFile, path.join(ctx.workspaceDir, 'victim.txt'));
    const result = await call('write_file', { path: 'victim.txt', content: 'overwritten' });
    expect(result.ok).toBe(false);
    expect(await readFile(outsideFile, 'utf8')).toBe('original');
  });
});

describe('list_files', () => {
  beforeEach(async () => {
    await mkdir(path.join(ctx.workspaceDir, 'docs/guides'), { recursive: true });
    await writeFile(path.join(ctx.workspaceDir, 'docs/readme.md'), '');
    await writeFile(path.join(ctx.workspaceDir, 'docs/guides/setup.md'), '');
    await writeFile(path.join(ctx.workspaceDir, 'docs/guides/notes.txt'), '');
    await writeFile(path.join(ctx.workspaceDir, 'top.md'), '');
  });

  it('lists recursively with relative paths and marks directories', async () => {
    const result = await call('list_files', {});
    expect(result.output.split('\n')).toEqual([
      'docs/',
      'docs/guides/',
      'docs/guides/notes.txt',
      'docs/guides/setup.md',
      'docs/readme.md',
      'top.md',
    ]);
  });

  it('filters with a glob on the relative path', async () => {
    const result = await call('list_files', { pattern: '**/*.md' });
    expect(result.output.split('\n')).toEqual(['docs/guides/setup.md', 'docs/readme.md', 'top.md']);
    const under = await call('list_files', { path: 'docs', pattern: '*.md' });
    expect(under.output).toBe('readme.md');
  });

  it('does not descend into a symlinked directory', async () => {
    await mkdir(path.join(root, 'elsewhere'));
    await writeFile(path.join(root, 'elsewhere/hidden.txt'), '');
    await symlink(path.join(root, 'elsewhere'), path.join(ctx.workspaceDir, 'link'));
    const result = await call('list_files', {});
    expect(result.output).toContain('link');
    expect(result.output).not.toContain('hidden.txt');
  });

  it('stops at the entry cap with a marker', async () => {
    const many = path.join(ctx.workspaceDir, 'many');
    await mkdir(many);
    await Promise.all(
      Array.from({ length: LIST_CAP_ENTRIES + 5 }, (_, i) => writeFile(path.join(many, `f${i}.txt`), '')),
    );
    const result = await call('list_files', { path: 'many' });
    const lines = result.output.split('\n');
    expect(lines).toHaveLength(LIST_CAP_ENTRIES + 1);
    expect(lines.at(-1)).toContain(`listing stopped at ${LIST_CAP_ENTRIES} entries`);
  });
});
