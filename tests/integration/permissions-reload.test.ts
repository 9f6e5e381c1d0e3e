// The live permission matrix on a real project directory and a real event log: edits
// apply without a restart, an invalid edit leaves the previous rules in force and is
// recorded, deleting the file falls back to the starter policy.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { openMeshDb, type Db } from '../../src/mesh/db.js';
import { EventLog, eventsMigrations } from '../../src/mesh/events/log.js';
import { PermissionMatrix } from '../../src/mesh/permissions/matrix.js';
import { ConfigError } from '../../src/shared/config/project.js';
import { createLogger } from '../../src/shared/logging.js';

interface Harness {
  dir: string;
  matrix: PermissionMatrix;
  events: EventLog;
  logs: Record<string, unknown>[];
  write: (name: string, text: string) => void;
}

const cleanups: (() => void)[] = [];
afterEach(() =>
  cleanups
    .splice(0)
    .reverse()
    .forEach((cleanup) => cleanup()),
);

function harness(files: Record<string, string> = {}): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'legion-permissions-reload-'));
  mkdirSync(join(dir, 'config'));
  const write = (name: string, text: string) => writeFileSync(join(dir, 'config', name), text);
  for (const [name, text] of Object.entries(files)) write(name, text);
  const db: Db = openMeshDb(join(dir, 'mesh.db'), eventsMigrations);
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger(
    {},
    { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const events = new EventLog(db, logger);
  const matrix = new PermissionMatrix({ projectDir: dir, events, logger });
  cleanups.push(() => {
    matrix.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, matrix, events, logs, write };
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const canWrite = (h: Harness, agent: string, key: string) => h.matrix.check(agent, 'blackboard_write', key).allowed;
const kinds = (h: Harness) => h.events.list({}).map((event) => event.kind);

const WRITER_MAY_WRITE_CONTEXT = 'agents:\n  writer:\n    blackboard_write: ["context/*"]\n';
const WRITER_MAY_WRITE_TASKS = 'agents:\n  writer:\n    blackboard_write: ["tasks/*"]\n';

describe('PermissionMatrix', () => {
  it('starts on the starter policy when there is no file', () => {
    const h = harness();
    h.matrix.load();
    expect(h.matrix.status()).toMatchObject({ source: 'starter', path: null, last_error: null });
    expect(canWrite(h, 'writer', 'agents/writer/x')).toBe(true);
    expect(canWrite(h, 'writer', 'context/x')).toBe(false);
  });

  it('refuses to start on an invalid file', () => {
    const h = harness({ 'permissions.yaml': 'agents:\n  writer:\n    blackboard_wrte: []\n' });
    expect(() => h.matrix.load()).toThrow(ConfigError);
    expect(() => h.matrix.load()).toThrow('config/permissions.yaml: agents.writer: unknown key "blackboard_wrte"');
  });

  it('applies an edit made while running, through the directory watcher', async () => {
    const h = harness({ 'permissions.yaml': WRITER_MAY_WRITE_CONTEXT });
    h.matrix.load();
    const firstLoad = h.matrix.status().loaded_at;
    expect(canWrite(h, 'writer', 'context/x')).toBe(true);

    h.write('permissions.yaml', WRITER_MAY_WRITE_TASKS);
    await waitFor('the edit to apply', () => canWrite(h, 'writer', 'tasks/x'));
    expect(canWrite(h, 'writer', 'context/x')).toBe(false);
    expect(h.matrix.status()).toMatchObject({ source: 'file', path: 'config/permissions.yaml', last_error: null });
    expect(h.matrix.status().loaded_at >= firstLoad).toBe(true);
    expect(kinds(h)).toEqual(['permissions_reloaded']);
  });

  it('picks up an editor-style save (write a temp file, rename it over)', async () => {
    const h = harness({ 'permissions.yaml': WRITER_MAY_WRITE_CONTEXT });
    h.matrix.load();
    h.write('.permissions.yaml.tmp', WRITER_MAY_WRITE_TASKS);
    renameSync(join(h.dir, 'config', '.permissions.yaml.tmp'), join(h.dir, 'config', 'permissions.yaml'));
    await waitFor('the renamed file to apply', () => canWrite(h, 'writer', 'tasks/x'));
  });

  it('picks up a file created while running, and falls back to the starter policy when it is deleted', async () => {
    const h = harness();
    h.matrix.load();
    h.write('permissions.yaml', WRITER_MAY_WRITE_CONTEXT);
    await waitFor('the new file to apply', () => h.matrix.status().source === 'file');
    expect(canWrite(h, 'writer', 'context/x')).toBe(true);

    unlinkSync(join(h.dir, 'config', 'permissions.yaml'));
    await waitFor('the starter policy', () => h.matrix.status().source === 'starter');
    expect(canWrite(h, 'writer', 'context/x')).toBe(false);
    expect(h.matrix.check('writer', 'blackboard_write', 'context/x')).toEqual({
      allowed: false,
      reason:
        'writer may not write context/x: blackboard_write is ["agents/{agent}/**"] (starter policy; write config/permissions.yaml to change it)',
    });
    expect(h.events.list({}).map((e) => [e.kind, e.detail])).toEqual([
      ['permissions_reloaded', { source: 'file', path: 'config/permissions.yaml' }],
      ['permissions_reloaded', { source: 'starter', path: null }],
    ]);
  });

  it('refuses an invalid edit: old rules stay, the error is logged, recorded and reported, and a fix clears it', async () => {
    const h = harness({ 'permissions.yaml': WRITER_MAY_WRITE_CONTEXT });
    h.matrix.load();
    const loadedAt = h.matrix.status().loaded_at;

    h.write('permissions.yaml', 'agents:\n  writer:\n    blackboard_write: "tasks/*"\n');
    await waitFor('the edit to be refused', () => h.matrix.status().last_error !== null);
    const expected = 'config/permissions.yaml: agents.writer.blackboard_write: expected an array';
    expect(h.matrix.status()).toEqual({
      source: 'file',
      path: 'config/permissions.yaml',
      last_error: expected,
      loaded_at: loadedAt,
    });
    expect(canWrite(h, 'writer', 'context/x')).toBe(true);
    expect(canWrite(h, 'writer', 'tasks/x')).toBe(false);

    const [event] = h.events.list({});
    expect(event).toMatchObject({
      agent: null,
      kind: 'permissions_invalid',
      subject: 'config/permissions.yaml',
      detail: { errors: [expected] },
    });
    expect(h.logs.find((line) => line.event === 'permissions_invalid')).toMatchObject({ errors: [expected] });

    h.write('permissions.yaml', WRITER_MAY_WRITE_TASKS);
    await waitFor('the fix to apply', () => canWrite(h, 'writer', 'tasks/x'));
    expect(h.matrix.status().last_error).toBeNull();
    expect(kinds(h)).toEqual(['permissions_invalid', 'permissions_reloaded']);
  });

  it('clears the error when the file is put back as it was', () => {
    const h = harness({ 'permissions.yaml': WRITER_MAY_WRITE_CONTEXT });
    h.matrix.load();
    h.write('permissions.yaml', 'agents: [\n');
    h.matrix.reloadNow();
    expect(h.matrix.status().last_error).toMatch(/^config\/permissions\.yaml: /);
    h.write('permissions.yaml', WRITER_MAY_WRITE_CONTEXT);
    h.matrix.reloadNow();
    expect(h.matrix.status().last_error).toBeNull();
    expect(kinds(h)).toEqual(['permissions_invalid', 'permissions_reloaded']);
  });

  it('does not record a reload when a save changes nothing', () => {
    const h = harness({ 'permissions.yaml': WRITER_MAY_WRITE_CONTEXT });
    h.matrix.load();
    h.write('permissions.yaml', `# a comment\n${WRITER_MAY_WRITE_CONTEXT}`);
    h.matrix.reloadNow();
    expect(kinds(h)).toEqual([]);
  });

  it('accepts a JSON file and names it in errors', () => {
    const h = harness({
      'permissions.json': JSON.stringify({ agents: { writer: { blackboard_write: ['context/*'] } } }),
    });
    h.matrix.load();
    expect(h.matrix.status()).toMatchObject({ source: 'file', path: 'config/permissions.json' });
    expect(canWrite(h, 'writer', 'context/x')).toBe(true);

    h.write('permissions.json', '{"agents": {"writer": {"blackboard_write": ["context/*"], "extra": []}}}');
    h.matrix.reloadNow();
    expect(h.matrix.status().last_error).toBe('config/permissions.json: agents.writer: unknown key "extra"');
    expect(h.events.list({})[0]).toMatchObject({ kind: 'permissions_invalid', subject: 'config/permissions.json' });
    expect(canWrite(h, 'writer', 'context/x')).toBe(true);
  });

  it('refuses a second file next to the first and keeps the rules in force', () => {
    const h = harness({ 'permissions.yaml': WRITER_MAY_WRITE_CONTEXT });
    h.matrix.load();
    h.write('permissions.json', '{}');
    h.matrix.reloadNow();
    expect(h.matrix.status()).toMatchObject({
      source: 'file',
      path: 'config/permissions.yaml',
      last_error: 'config/permissions.yaml and config/permissions.json both exist: keep one of them',
    });
    expect(canWrite(h, 'writer', 'context/x')).toBe(true);
  });

  it('stops watching when closed', async () => {
    const h = harness({ 'permissions.yaml': WRITER_MAY_WRITE_CONTEXT });
    h.matrix.load();
    h.matrix.close();
    h.write('permissions.yaml', WRITER_MAY_WRITE_TASKS);
    // Three debounce periods: long enough for a live watcher to have reloaded.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(canWrite(h, 'writer', 'tasks/x')).toBe(false);
    expect(kinds(h)).toEqual([]);
  });
});
