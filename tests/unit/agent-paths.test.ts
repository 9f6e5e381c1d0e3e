// Path confinement of the agent's file tools, on real directories and symlinks.
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfinedPath, type Confinement } from '../../src/agent/tools/paths.js';

let root: string;
let confinement: Confinement;
let outsideDir: string;

beforeEach(async () => {
  root = await realpath(await mkdtemp(path.join(tmpdir(), 'legion-paths-')));
  const dataDir = path.join(root, 'data');
  confinement = { dataDir, workspaceDir: path.join(dataDir, 'workspace') };
  outsideDir = path.join(root, 'outside');
  await mkdir(confinement.workspaceDir, { recursive: true });
  await mkdir(outsideDir);
  await writeFile(path.join(outsideDir, 'secret.txt'), 'secret');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('resolveConfinedPath', () => {
  it('resolves a relative path against the workspace', async () => {
    await expect(resolveConfinedPath('notes/a.md', confinement)).resolves.toBe(
      path.join(confinement.workspaceDir, 'notes/a.md'),
    );
  });

  it('accepts an absolute path under the data directory, including the data directory itself', async () => {
    const target = path.join(confinement.dataDir, 'agent.db');
    await expect(resolveConfinedPath(target, confinement)).resolves.toBe(target);
    await expect(resolveConfinedPath(confinement.dataDir, confinement)).resolves.toBe(confinement.dataDir);
  });

  it('refuses .. escapes and names the data directory as given', async () => {
    await expect(resolveConfinedPath('../../etc/passwd', confinement)).rejects.toThrow(
      `path "../../etc/passwd" is outside ${confinement.dataDir}`,
    );
    await expect(resolveConfinedPath('../../etc/passwd', confinement)).rejects.toMatchObject({
      code: 'path_outside_data',
    });
  });

  it('does not mistake a name starting with .. for an escape', async () => {
    await expect(resolveConfinedPath('..notes', confinement)).resolves.toBe(
      path.join(confinement.workspaceDir, '..notes'),
    );
  });

  it('refuses an absolute path outside the data directory', async () => {
    await expect(resolveConfinedPath('/etc/passwd', confinement)).rejects.toThrow(
      `path "/etc/passwd" is outside ${confinement.dataDir}`,
    );
  });

  it('refuses a symlinked file that points outside', async () => {
    await symlink(path.join(outsideDir, 'secret.txt'), path.join(confinement.workspaceDir, 'link.txt'));
    await expect(resolveConfinedPath('link.txt', confinement)).rejects.toThrow(/is outside .*symlink/);
  });

  it('refuses a dangling symlink whose target would be created outside', async () => {
    await symlink(path.join(outsideDir, 'new.txt'), path.join(confinement.workspaceDir, 'dangling.txt'));
    await expect(resolveConfinedPath('dangling.txt', confinement)).rejects.toMatchObject({ code: 'path_outside_data' });
  });

  it('refuses a path through a symlinked directory that points outside, even to a file not there yet', async () => {
    await symlink(outsideDir, path.join(confinement.workspaceDir, 'out'));
    await expect(resolveConfinedPath('out/secret.txt', confinement)).rejects.toMatchObject({
      code: 'path_outside_data',
    });
    await expect(resolveConfinedPath('out/deeper/new.txt', confinement)).rejects.toMatchObject({
      code: 'path_outside_data',
    });
  });

  it('allows a symlink that stays inside and returns the resolved location', async () => {
    const shared = path.join(confinement.dataDir, 'shared');
    await mkdir(shared);
    await symlink(shared, path.join(confinement.workspaceDir, 'shared-link'));
    await expect(resolveConfinedPath('shared-link/report.md', confinement)).resolves.toBe(
      path.join(shared, 'report.md'),
    );
  });

  it('allows a new nested file whose directories do not exist yet', async () => {
    await expect(resolveConfinedPath('a/b/c/new.txt', confinement)).resolves.toBe(
      path.join(confinement.workspaceDir, 'a/b/c/new.txt'),
    );
  });

  it('refuses an empty path', async () => {
    await expect(resolveConfinedPath('  ', confinement)).rejects.toMatchObject({ code: 'invalid_path' });
  });
});
