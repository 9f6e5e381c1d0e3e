// The scaffolded workspace: every file and folder the agent relies on exists after the
// first start, nothing is overwritten, and the HEARTBEAT.md template holds no rules
// (so a fresh agent is not woken by the heartbeat_rules probe).
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { scaffoldWorkspace, DEFAULT_WORKSPACE_TEMPLATES } from '../../src/agent/workspace/scaffold.js';
import { heartbeatRules } from '../../src/mesh/triggers/heartbeat/probes.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('scaffoldWorkspace', () => {
  it('creates the prompt files, HEARTBEAT.md, memory/ and learnings/, keeping what exists', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'legion-scaffold-'));
    dirs.push(dataDir);
    await mkdir(path.join(dataDir, 'workspace'), { recursive: true });
    await writeFile(path.join(dataDir, 'workspace', 'HEARTBEAT.md'), '- check the inbox\n');
    const result = await scaffoldWorkspace(dataDir);
    expect(result.created.sort()).toEqual(['AGENTS.md', 'MEMORY.md', 'SOUL.md', 'USER.md']);
    expect(result.kept).toEqual(['HEARTBEAT.md']);
    expect(await readFile(path.join(dataDir, 'workspace', 'HEARTBEAT.md'), 'utf8')).toBe('- check the inbox\n');
    for (const dir of ['memory', 'learnings'])
      expect((await stat(path.join(dataDir, 'workspace', dir))).isDirectory()).toBe(true);
  });

  it('ships a HEARTBEAT.md template that holds no rules', async () => {
    const template = await readFile(path.join(DEFAULT_WORKSPACE_TEMPLATES, 'HEARTBEAT.md'), 'utf8');
    expect(template).toContain('HEARTBEAT_OK');
    expect(heartbeatRules(template)).toEqual([]);
  });
});
