// Task results in a real agent.db in a temp dir: idempotent acceptance, final statuses
// that never change, and unfinished tasks reported as interrupted after a reopen.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TaskStore } from '../../src/agent/task/store.js';
import { TaskRequestSchema } from '../../src/shared/wire/task.js';

const dirs: string[] = [];
const stores: TaskStore[] = [];
afterEach(() => {
  stores.splice(0).forEach((store) => store.close());
  dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

function open(dataDir?: string): { store: TaskStore; dataDir: string } {
  const dir = dataDir ?? mkdtempSync(path.join(tmpdir(), 'legion-task-store-'));
  if (!dataDir) dirs.push(dir);
  const store = TaskStore.open(dir, new Date('2030-01-01T00:00:00Z'));
  stores.push(store);
  return { store, dataDir: dir };
}

const request = (task_id: string, input: unknown = 'go') =>
  TaskRequestSchema.parse({ task_id, task_type: 'demo', input });
const usage = { prompt_tokens: 12, completion_tokens: 4 };

describe('TaskStore', () => {
  it('accepts a task once: a duplicate id gets the stored result, whatever it sends', () => {
    const { store } = open();
    const first = store.accept(request('t1'), new Date('2030-01-01T00:00:01Z'));
    expect(first).toEqual({
      created: true,
      result: {
        task_id: 't1',
        status: 'queued',
        output: null,
        usage: { prompt_tokens: 0, completion_tokens: 0 },
        started_at: null,
        finished_at: null,
      },
    });
    expect(store.accept(request('t1', 'something else'))).toEqual({ created: false, result: first.result });
  });

  it('moves queued → running → done and never changes a final result again', () => {
    const { store } = open();
    store.accept(request('t1'));
    expect(store.start('t1', new Date('2030-01-01T00:00:02Z'))).toBe(true);
    expect(store.get('t1')).toMatchObject({ status: 'running', started_at: '2030-01-01T00:00:02.000Z' });
    const promotions = [{ key: 'context/x', value: { a: 1 } }];
    expect(
      store.finish(
        't1',
        { status: 'done', output: { answer: 42 }, promotions },
        usage,
        new Date('2030-01-01T00:00:03Z'),
      ),
    ).toBe(true);
    const done = store.get('t1');
    expect(done).toEqual({
      task_id: 't1',
      status: 'done',
      output: { answer: 42 },
      promotions,
      usage,
      started_at: '2030-01-01T00:00:02.000Z',
      finished_at: '2030-01-01T00:00:03.000Z',
    });
    expect(store.finish('t1', { status: 'cancelled', error: { code: 'cancelled', message: 'late' } }, null)).toBe(
      false,
    );
    expect(store.start('t1')).toBe(false);
    expect(store.get('t1')).toEqual(done);
  });

  it('keeps a cancel of a queued task: the run can no longer start, and its usage is still recorded', () => {
    const { store } = open();
    store.accept(request('t1'));
    expect(store.finish('t1', { status: 'cancelled', error: { code: 'cancelled', message: 'stop' } }, null)).toBe(true);
    expect(store.start('t1')).toBe(false);
    store.recordUsage('t1', usage);
    expect(store.get('t1')).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' }, usage, output: null });
    expect(store.get('t1')).not.toHaveProperty('promotions');
  });

  it('reports tasks a previous process left unfinished as interrupted, and runs them again on a new POST', () => {
    const { store, dataDir } = open();
    store.accept(request('running'));
    store.start('running');
    store.accept(request('waiting'));
    store.accept(request('finished'));
    store.start('finished');
    store.finish('finished', { status: 'failed', error: { code: 'loop_guard', message: 'stuck' } }, usage);
    store.close();

    const reopened = open(dataDir).store;
    for (const id of ['running', 'waiting']) {
      expect(reopened.get(id)).toMatchObject({
        status: 'failed',
        error: { code: 'interrupted', message: expect.stringContaining('POST /task with the same task_id') },
        finished_at: '2030-01-01T00:00:00.000Z',
      });
    }
    expect(reopened.get('finished')).toMatchObject({ status: 'failed', error: { code: 'loop_guard' } });

    expect(reopened.accept(request('running'))).toMatchObject({
      created: true,
      result: { status: 'queued', started_at: null, finished_at: null },
    });
    expect(reopened.accept(request('finished'))).toMatchObject({ created: false, result: { status: 'failed' } });
    expect(reopened.get('missing')).toBeNull();
  });

  it('ignores writes once closed, so a run settling at shutdown cannot throw', () => {
    const { store } = open();
    store.accept(request('t1'));
    store.close();
    expect(store.start('t1')).toBe(false);
    expect(store.finish('t1', { status: 'done', output: 1, promotions: [] }, usage)).toBe(false);
    expect(() => store.recordUsage('t1', usage)).not.toThrow();
  });
});
