// BlackboardStore over a real SQLite file in a temp dir, with a clock the test moves.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openMeshDb, type Db } from '../../src/mesh/db.js';
import {
  BlackboardStore,
  blackboardMigrations,
  startBlackboardGc,
  VersionConflictError,
} from '../../src/mesh/blackboard/store.js';
import { LegionError } from '../../src/shared/errors.js';
import {
  BLACKBOARD_VALUE_MAX_BYTES,
  blackboardKeyProblem,
  blackboardPrefixProblem,
} from '../../src/shared/wire/blackboard.js';

let dir: string;
let db: Db;
let clock: number;
let store: BlackboardStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'legion-bb-'));
  db = openMeshDb(join(dir, 'mesh.db'), blackboardMigrations);
  clock = Date.parse('2025-01-01T00:00:00.000Z');
  store = new BlackboardStore(db, { now: () => clock });
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('versions and writers', () => {
  it('bumps the version on every write and records writer and time', () => {
    expect(store.set({ key: 'context/a', value: { n: 1 }, writer: 'alice' }).version).toBe(1);
    clock += 1000;
    const second = store.set({ key: 'context/a', value: [1, 'two', null], writer: 'bob' });
    expect(second).toEqual({
      key: 'context/a',
      version: 2,
      writer: 'bob',
      updated_at: '2025-01-01T00:00:01.000Z',
      expires_at: null,
    });
    expect(store.get('context/a')).toEqual({
      key: 'context/a',
      value: [1, 'two', null],
      version: 2,
      writer: 'bob',
      updated_at: '2025-01-01T00:00:01.000Z',
      expires_at: null,
    });
    expect(store.get('context/missing')).toBeNull();
  });

  it('keeps increasing versions across delete and recreate', () => {
    store.set({ key: 'tasks/t1', value: 'a', writer: 'w' });
    store.set({ key: 'tasks/t1', value: 'b', writer: 'w' });
    expect(store.delete({ key: 'tasks/t1', writer: 'w' })).toEqual({ key: 'tasks/t1', deleted: true, version: 3 });
    expect(store.get('tasks/t1')).toBeNull();
    expect(store.set({ key: 'tasks/t1', value: 'c', writer: 'w' }).version).toBe(4);
    expect(store.history('tasks/t1').map((h) => [h.version, h.op])).toEqual([
      [4, 'set'],
      [3, 'delete'],
      [2, 'set'],
      [1, 'set'],
    ]);
  });

  it('survives reopening the database file', () => {
    store.set({ key: 'context/keep', value: { deep: { list: [1, 2] } }, writer: 'w' });
    db.close();
    db = openMeshDb(join(dir, 'mesh.db'), blackboardMigrations);
    store = new BlackboardStore(db, { now: () => clock });
    expect(store.get('context/keep')?.value).toEqual({ deep: { list: [1, 2] } });
    expect(store.set({ key: 'context/keep', value: 1, writer: 'w' }).version).toBe(2);
  });

  it('deleting an absent key is a 404 and records nothing', () => {
    const err = thrown(() => store.delete({ key: 'context/none', writer: 'w' }));
    expect(err).toBeInstanceOf(LegionError);
    expect((err as LegionError).status).toBe(404);
    expect(store.lastSeq()).toBe(0);
  });

  it('refuses invalid keys and oversized values', () => {
    expect((thrown(() => store.set({ key: '/abs', value: 1, writer: 'w' })) as LegionError).status).toBe(400);
    const big = 'x'.repeat(BLACKBOARD_VALUE_MAX_BYTES);
    const err = thrown(() => store.set({ key: 'artifacts/big', value: big, writer: 'w' })) as LegionError;
    expect(err.status).toBe(413);
    expect(err.message).toMatch(/262146 bytes as JSON; the limit is 262144/);
    expect(store.get('artifacts/big')).toBeNull();
  });
});

describe('compare-and-set', () => {
  it('writes when expected_version matches and refuses a stale one with the current version', () => {
    store.set({ key: 'context/x', value: 1, writer: 'w' });
    store.set({ key: 'context/x', value: 2, writer: 'w' });
    store.set({ key: 'context/x', value: 3, writer: 'w' });
    expect(store.set({ key: 'context/x', value: 4, writer: 'w', expected_version: 3 }).version).toBe(4);

    const err = thrown(() => store.set({ key: 'context/x', value: 5, writer: 'late', expected_version: 3 }));
    expect(err).toBeInstanceOf(VersionConflictError);
    const conflict = err as VersionConflictError;
    expect(conflict.status).toBe(409);
    expect(conflict.code).toBe('version_conflict');
    expect(conflict.message).toContain('context/x is at version 4, not 3');
    expect(conflict.toBody()).toMatchObject({ code: 'version_conflict', current_version: 4 });
    // The refused write left no trace.
    expect(store.get('context/x')).toMatchObject({ value: 4, version: 4, writer: 'w' });
    expect(store.history('context/x', { limit: 500 })).toHaveLength(4);
  });

  it('expected_version 0 means the key must not exist', () => {
    expect(store.set({ key: 'tasks/claim', value: 'me', writer: 'a', expected_version: 0 }).version).toBe(1);
    const err = thrown(() =>
      store.set({ key: 'tasks/claim', value: 'me too', writer: 'b', expected_version: 0 }),
    ) as VersionConflictError;
    expect(err.currentVersion).toBe(1);
    expect(err.message).toContain('tasks/claim already exists at version 1');
    expect(store.get('tasks/claim')?.writer).toBe('a');
  });

  it('after a delete, expected_version 0 succeeds again and the version continues', () => {
    store.set({ key: 'tasks/claim', value: 'a', writer: 'a' });
    store.delete({ key: 'tasks/claim', writer: 'a', expected_version: 1 });
    expect(store.set({ key: 'tasks/claim', value: 'b', writer: 'b', expected_version: 0 }).version).toBe(3);
  });

  it('a stale expected_version on delete is a 409 and deletes nothing', () => {
    store.set({ key: 'tasks/t', value: 'a', writer: 'a' });
    store.set({ key: 'tasks/t', value: 'b', writer: 'a' });
    const err = thrown(() =>
      store.delete({ key: 'tasks/t', writer: 'a', expected_version: 1 }),
    ) as VersionConflictError;
    expect(err.status).toBe(409);
    expect(err.currentVersion).toBe(2);
    expect(store.get('tasks/t')?.value).toBe('b');
  });
});

describe('TTL', () => {
  it('an expired entry reads as absent, is gone from lists, and gc records an expire', () => {
    store.set({ key: 'signals/ping', value: true, writer: 'w', ttl_s: 10 });
    store.set({ key: 'signals/stay', value: true, writer: 'w' });
    expect(store.get('signals/ping')?.expires_at).toBe('2025-01-01T00:00:10.000Z');
    clock += 9_999;
    expect(store.get('signals/ping')).not.toBeNull();
    clock += 1;
    expect(store.get('signals/ping')).toBeNull();
    expect(store.list({ prefix: 'signals/' }).entries.map((e) => e.key)).toEqual(['signals/stay']);

    expect(store.gc()).toBe(1);
    expect(store.gc()).toBe(0);
    const [latest] = store.history('signals/ping');
    expect(latest).toMatchObject({ op: 'expire', version: 2, value: null, writer: 'mesh' });
    expect(store.get('signals/stay')).not.toBeNull();
  });

  it('a write to an expired key treats it as absent and records the expiry first', () => {
    store.set({ key: 'signals/lock', value: 'a', writer: 'a', ttl_s: 5 });
    clock += 5_000;
    expect(store.set({ key: 'signals/lock', value: 'b', writer: 'b', expected_version: 0 }).version).toBe(3);
    expect(store.history('signals/lock').map((h) => h.op)).toEqual(['set', 'expire', 'set']);
    // A write without ttl_s makes the entry permanent.
    clock += 1_000_000;
    expect(store.get('signals/lock')).toMatchObject({ value: 'b', expires_at: null });
  });

  it('startBlackboardGc collects on its interval until stopped', async () => {
    const realStore = new BlackboardStore(db);
    realStore.set({ key: 'signals/brief', value: 1, writer: 'w', ttl_s: 1 });
    const stop = startBlackboardGc(realStore, 50);
    try {
      await expect
        .poll(() => realStore.history('signals/brief')[0]?.op, { timeout: 3000, interval: 50 })
        .toBe('expire');
    } finally {
      stop();
    }
  });
});

describe('history', () => {
  it('is newest first and honours the limit', () => {
    for (let i = 1; i <= 7; i++) {
      clock += 1000;
      store.set({ key: 'history/run', value: i, writer: `w${i}` });
    }
    const recent = store.history('history/run', { limit: 3 });
    expect(recent.map((h) => h.value)).toEqual([7, 6, 5]);
    expect(recent.map((h) => h.version)).toEqual([7, 6, 5]);
    expect(recent[0]).toMatchObject({ op: 'set', writer: 'w7', at: '2025-01-01T00:00:07.000Z' });
    // Sequence numbers order changes across keys too.
    expect(recent[0]!.seq).toBeGreaterThan(recent[1]!.seq);
    expect(store.history('history/other')).toEqual([]);
  });
});

describe('listing', () => {
  it('pages through many keys in order with cursors, without repeats or gaps', () => {
    const keys = Array.from({ length: 237 }, (_, i) => `tasks/t${String(i).padStart(4, '0')}`);
    for (const key of [...keys].reverse()) store.set({ key, value: key, writer: 'w' });
    store.set({ key: 'tasksX', value: 'outside the tasks/ prefix', writer: 'w' });

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    for (;;) {
      const page = store.list({ prefix: 'tasks/', limit: 50, cursor });
      pages += 1;
      expect(page.entries.length).toBeLessThanOrEqual(50);
      seen.push(...page.entries.map((e) => e.key));
      if (page.next_cursor === null) break;
      expect(page.next_cursor).toBe(page.entries.at(-1)?.key);
      cursor = page.next_cursor;
    }
    expect(pages).toBe(5);
    expect(seen).toEqual(keys);
  });

  it('an exactly full last page has no next cursor', () => {
    for (let i = 0; i < 4; i++) store.set({ key: `context/k${i}`, value: i, writer: 'w' });
    expect(store.list({ prefix: 'context/', limit: 4 }).next_cursor).toBeNull();
    const first = store.list({ prefix: 'context/', limit: 2 });
    expect(first.next_cursor).toBe('context/k1');
    expect(store.list({ prefix: 'context/', limit: 2, cursor: first.next_cursor! }).next_cursor).toBeNull();
  });

  it('keeps prefixes apart, treats "_" literally, and clamps the limit', () => {
    store.set({ key: 'context/prospect_acme', value: 1, writer: 'w' });
    store.set({ key: 'context/prospectXacme', value: 1, writer: 'w' });
    store.set({ key: 'context2/a', value: 1, writer: 'w' });
    store.set({ key: 'tasks/a', value: 1, writer: 'w' });
    expect(store.list({ prefix: 'context/prospect_' }).entries.map((e) => e.key)).toEqual(['context/prospect_acme']);
    expect(store.list({ prefix: 'context/' }).entries.map((e) => e.key)).toEqual([
      'context/prospectXacme',
      'context/prospect_acme',
    ]);
    expect(store.list({ prefix: 'context' }).entries).toHaveLength(3);
    expect(store.list({ prefix: '' }).entries).toHaveLength(4);
    expect(store.list({ prefix: '', limit: 100_000 }).entries).toHaveLength(4);
  });

  it('with a visibility filter returns only visible keys and still pages to the end', () => {
    for (let i = 0; i < 30; i++)
      store.set({
        key: `context/${String(i).padStart(2, '0')}_${i % 3 === 0 ? 'open' : 'secret'}`,
        value: i,
        writer: 'w',
      });
    const visible = (key: string) => key.endsWith('_open');
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = store.list({ prefix: 'context/', limit: 3, cursor, visible });
      seen.push(...page.entries.map((e) => e.key));
      if (page.next_cursor === null) break;
      cursor = page.next_cursor;
    }
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => `context/${String(i * 3).padStart(2, '0')}_open`));
  });
});

describe('watch', () => {
  it('answers at once with changes already past sinceSeq, filtered by prefix and oldest first', async () => {
    store.set({ key: 'tasks/a', value: 1, writer: 'w' });
    const since = store.lastSeq();
    store.set({ key: 'context/x', value: 1, writer: 'w' });
    store.set({ key: 'tasks/b', value: 1, writer: 'w' });
    store.set({ key: 'tasks/a', value: 2, writer: 'w' });
    const changes = await store.waitForChanges('tasks/', since, 1000);
    expect(changes.map((c) => [c.key, c.version])).toEqual([
      ['tasks/b', 1],
      ['tasks/a', 2],
    ]);
  });

  it('wakes on a matching write, not on one under another prefix', async () => {
    const since = store.lastSeq();
    const started = Date.now();
    const waiting = store.waitForChanges('signals/', since, 5000);
    let settled = false;
    void waiting.then(() => (settled = true));
    store.set({ key: 'context/unrelated', value: 1, writer: 'w' });
    await new Promise((r) => setTimeout(r, 30));
    expect(settled).toBe(false);
    setTimeout(() => store.set({ key: 'signals/go', value: 'now', writer: 'w' }), 20);
    const changes = await waiting;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(changes).toEqual([expect.objectContaining({ key: 'signals/go', op: 'set', value: 'now', version: 1 })]);
  });

  it('wakes on gc expiry and on delete', async () => {
    store.set({ key: 'signals/a', value: 1, writer: 'w', ttl_s: 1 });
    let since = store.lastSeq();
    clock += 1000;
    const expiring = store.waitForChanges('signals/', since, 5000);
    store.gc();
    expect((await expiring).map((c) => c.op)).toEqual(['expire']);

    store.set({ key: 'signals/b', value: 1, writer: 'w' });
    since = store.lastSeq();
    const deleting = store.waitForChanges('signals/', since, 5000);
    store.delete({ key: 'signals/b', writer: 'w' });
    expect((await deleting).map((c) => c.op)).toEqual(['delete']);
  });

  it('resolves with [] at the timeout, and at once when aborted', async () => {
    const started = Date.now();
    expect(await store.waitForChanges('tasks/', store.lastSeq(), 80)).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(70);

    const abort = new AbortController();
    const waiting = store.waitForChanges('tasks/', store.lastSeq(), 10_000, abort.signal);
    const abortedAt = Date.now();
    abort.abort();
    expect(await waiting).toEqual([]);
    expect(Date.now() - abortedAt).toBeLessThan(1000);
  });
});

describe('key rules', () => {
  it('accepts ordinary keys and names what is wrong with bad ones', () => {
    for (const key of ['tasks/t1', 'context/prospect_acme', 'a', 'artifacts/researcher/report.v2.md', 'ns:1/a-b']) {
      expect(blackboardKeyProblem(key)).toBeNull();
    }
    expect(blackboardKeyProblem('')).toMatch(/empty/);
    expect(blackboardKeyProblem('/tasks')).toMatch(/cannot start with "\/"/);
    expect(blackboardKeyProblem('tasks/../secrets')).toMatch(/"\.\." segment/);
    expect(blackboardKeyProblem('tasks//a')).toMatch(/empty segment/);
    expect(blackboardKeyProblem('tasks/')).toMatch(/empty segment/);
    expect(blackboardKeyProblem('tasks/a b')).toMatch(/found " "/);
    expect(blackboardKeyProblem('k'.repeat(257))).toMatch(/at most 256/);
    expect(blackboardKeyProblem('..a/b..')).toBeNull();
    expect(blackboardPrefixProblem('')).toBeNull();
    expect(blackboardPrefixProblem('context/')).toBeNull();
    expect(blackboardPrefixProblem('context//')).toMatch(/empty segment/);
  });
});
