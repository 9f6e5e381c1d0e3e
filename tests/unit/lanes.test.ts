// Lane order, the depth cap and what happens to failed hand-overs, over LaneStore on a
// real SQLite file in a temp dir; chat turns waiting on their lane.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openMeshDb, type Db } from '../../src/mesh/db.js';
import { LaneStore, lanesMigrations } from '../../src/mesh/lanes/store.js';
import { afterFailedHandOver, laneRoom } from '../../src/mesh/lanes/policy.js';
import { ChatTurns } from '../../src/mesh/lanes/chat-turns.js';
import { LegionError } from '../../src/shared/errors.js';

let dir: string;
let db: Db;
let cap: number;
let store: LaneStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'legion-lanes-'));
  db = openMeshDb(join(dir, 'mesh.db'), lanesMigrations);
  cap = 100;
  store = new LaneStore(db, () => cap);
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const message = (text: string) => ({ message_id: `msg_${text}`, from: 'scout', message: text });

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('lane order', () => {
  it('claims a chat turn before older background items, then the rest in arrival order', () => {
    const first = store.enqueue('worker', 'message', message('1'), null);
    const second = store.enqueue('worker', 'cron', { source: 'cron', title: 't', text: 'tick' }, null);
    const chat = store.enqueue('worker', 'chat', {}, 'tr_1');
    expect(store.claimNext('worker')?.id).toBe(chat);
    store.complete(chat, 'hi');
    expect(store.claimNext('worker')?.id).toBe(first);
    store.complete(first, 'ok');
    expect(store.claimNext('worker')?.id).toBe(second);
  });

  it('never hands out a second item, chat included, while one is in flight', () => {
    const running = store.enqueue('worker', 'message', message('1'), null);
    expect(store.claimNext('worker')?.id).toBe(running);
    store.enqueue('worker', 'chat', {}, null);
    expect(store.claimNext('worker')).toBeNull();
    expect(store.status('worker')).toMatchObject({ queued: 1, inflight: 1, running: { kind: 'message', id: running } });
  });

  it('keeps lanes of different agents apart', () => {
    store.enqueue('a', 'message', message('1'), null);
    const forB = store.enqueue('b', 'message', message('2'), null);
    store.claimNext('a');
    expect(store.claimNext('b')?.id).toBe(forB);
  });
});

describe('depth cap', () => {
  it('refuses the item past the cap with lane_full (429), naming the agent and the cap', () => {
    cap = 2;
    store.enqueue('worker', 'message', message('1'), null);
    store.claimNext('worker');
    store.enqueue('worker', 'message', message('2'), null);
    const err = thrown(() => store.enqueue('worker', 'chat', {}, null));
    expect(err).toBeInstanceOf(LegionError);
    expect(err).toMatchObject({ code: 'lane_full', status: 429 });
    expect((err as LegionError).message).toMatch(
      /lane of agent worker is full: 2 items queued or running, the cap is 2 \(mesh.lane_depth_cap/,
    );
    expect(store.depth('worker')).toEqual({ queued: 1, inflight: 1 });
    expect(() => store.enqueue('other', 'message', message('3'), null)).not.toThrow();
  });

  it('makes room as items finish, and reads the cap at each enqueue', () => {
    cap = 1;
    const only = store.enqueue('worker', 'message', message('1'), null);
    expect(() => store.enqueue('worker', 'message', message('2'), null)).toThrow(/full/);
    store.claimNext('worker');
    store.complete(only, 'done');
    expect(() => store.enqueue('worker', 'message', message('2'), null)).not.toThrow();
    cap = 5;
    expect(() => store.enqueue('worker', 'message', message('3'), null)).not.toThrow();
    expect(store.status('worker').cap).toBe(5);
  });

  it('laneRoom says ok below the cap only', () => {
    expect(laneRoom('w', 4, 5)).toEqual({ ok: true });
    expect(laneRoom('w', 5, 5).ok).toBe(false);
  });
});

describe('after a failed hand-over', () => {
  it('puts a background item back uncounted when its agent is down, retries it otherwise', () => {
    expect(afterFailedHandOver('event', false)).toBe('release');
    expect(afterFailedHandOver('webhook', true)).toBe('retry');
  });

  it('never replays a chat turn', () => {
    expect(afterFailedHandOver('chat', true)).toBe('fail');
    expect(afterFailedHandOver('chat', false)).toBe('fail');
  });
});

describe('a mesh restart', () => {
  it('queues background items in flight again with their id, and fails chat turns nobody waits for', () => {
    const event = store.enqueue('worker', 'event', { event_id: 'evt_1', topic: 't', payload: 1, publisher: 'p' }, null);
    const chat = store.enqueue('other', 'chat', {}, null);
    const queuedChat = store.enqueue('other', 'chat', {}, null);
    store.claimNext('worker');
    store.claimNext('other');
    expect(store.requeueInflight()).toBe(1);
    expect(store.get(event)).toMatchObject({ status: 'queued' });
    expect(store.get(chat)).toMatchObject({
      status: 'failed',
      last_error: 'the mesh stopped before this chat turn ended',
    });
    expect(store.get(queuedChat)).toMatchObject({ status: 'failed' });
    expect(store.claimNext('worker')?.id).toBe(event);
  });
});

describe('ChatTurns', () => {
  function turns() {
    const kicked: string[] = [];
    return { kicked, chats: new ChatTurns({ store, kick: (agent) => kicked.push(agent) }) };
  }

  it('queues the turn, hands it over when the dispatcher reaches it, and frees the lane when the relay ends it', async () => {
    const { chats, kicked } = turns();
    const queued = chats.queue('worker', 'hello', 'tr_1', new AbortController().signal);
    expect(kicked).toEqual(['worker']);
    const item = store.claimNext('worker');
    expect(item?.id).toBe(queued.id);
    const delivered = chats.handOver(item!);
    const turn = await queued.turn;
    turn.end({ reply: 'hello' });
    turn.end({ error: new Error('a second end changes nothing') });
    await expect(delivered).resolves.toBe('hello');
  });

  it('fails a turn whose person left before it began, on its lane too', async () => {
    const { chats } = turns();
    const abort = new AbortController();
    const queued = chats.queue('worker', 'hello', 'tr_1', abort.signal);
    abort.abort();
    await expect(queued.turn).rejects.toMatchObject({ code: 'chat_cancelled' });
    expect(store.get(queued.id)).toMatchObject({ status: 'failed' });
    expect(store.claimNext('worker')).toBeNull();
  });

  it('refuses turns waiting for an agent that stopped or failed', async () => {
    const { chats } = turns();
    const queued = chats.queue('worker', 'hello', 'tr_1', new AbortController().signal);
    chats.abandon('worker', 'gave up after 3 restarts');
    await expect(queued.turn).rejects.toThrow(/agent worker is not running \(gave up after 3 restarts\)/);
    expect(store.get(queued.id)).toMatchObject({ status: 'failed' });
  });

  it('rejects a chat item that nobody waits for (queued before a mesh restart)', async () => {
    const { chats } = turns();
    store.enqueue('worker', 'chat', {}, null);
    await expect(chats.handOver(store.claimNext('worker')!)).rejects.toMatchObject({ code: 'chat_abandoned' });
  });

  it('throws lane_full at queue time, before anything waits', () => {
    cap = 1;
    const { chats } = turns();
    store.enqueue('worker', 'message', message('1'), null);
    expect(() => chats.queue('worker', 'hello', 'tr_1', new AbortController().signal)).toThrow(
      expect.objectContaining({ code: 'lane_full' }),
    );
  });
});
