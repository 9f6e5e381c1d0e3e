// ChannelStore over a real mesh.db in a temp dir: a code pairs once and expires, an
// inbound message is taken once, revoke drops the user's queued lane items; and the
// channels config refuses what it does not know.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openMeshDb, type Db } from '../../../src/mesh/db.js';
import { lanesMigrations, LaneStore } from '../../../src/mesh/lanes/store.js';
import { channelsMigrations, ChannelStore, CODE_TTL_MS } from '../../../src/mesh/channels/store.js';
import { ChannelsConfigSchema } from '../../../src/shared/config/channels.js';

describe('ChannelStore', () => {
  let dir: string;
  let db: Db;
  afterEach(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const open = (now: () => number = Date.now) => {
    dir = mkdtempSync(join(tmpdir(), 'legion-channels-'));
    db = openMeshDb(join(dir, 'mesh.db'), [...lanesMigrations, ...channelsMigrations]);
    return { store: new ChannelStore(db, now), lanes: new LaneStore(db) };
  };

  it('gives one user one code, pairs it once, and forgets it after an hour', () => {
    let clock = 1_000_000;
    const { store } = open(() => clock);
    const code = store.codeFor('telegram', '1', '1', 'ann');
    expect(store.codeFor('telegram', '1', '1', 'ann')).toBe(code);
    expect(store.pair(code, ['alpha', 'beta'], 'beta')).toMatchObject({
      user_id: '1',
      agents: ['alpha', 'beta'],
      current_agent: 'beta',
    });
    expect(() => store.pair(code, ['alpha'], undefined)).toThrow(/no pending pairing code/);
    const late = store.codeFor('telegram', '2', '2', 'bo');
    clock += CODE_TTL_MS;
    expect(() => store.pair(late, ['alpha'], undefined)).toThrow(/older than an hour/);
  });

  it('takes an inbound message once', () => {
    const { store } = open();
    let runs = 0;
    expect(store.acceptOnce('telegram', '5:10', () => (runs += 1))).toBe(true);
    expect(store.acceptOnce('telegram', '5:10', () => (runs += 1))).toBe(false);
    expect(runs).toBe(1);
  });

  it("revokes by platform:id or name, failing the user's queued channel items only", () => {
    const { store, lanes } = open();
    store.pair(store.codeFor('telegram', '7', '7', 'cy'), ['alpha'], undefined);
    const mine = lanes.enqueue(
      'alpha',
      'channel',
      { platform: 'telegram', user_id: '7', chat_id: '7', text: 'x', session: 's' },
      null,
    );
    const other = lanes.enqueue(
      'alpha',
      'channel',
      { platform: 'telegram', user_id: '8', chat_id: '8', text: 'y', session: 's' },
      null,
    );
    expect(store.revoke('@cy')).toBe('telegram:7');
    expect(lanes.get(mine)?.status).toBe('failed');
    expect(lanes.get(other)?.status).toBe('queued');
    expect(() => store.revoke('telegram:7')).toThrow(/no paired user "telegram:7"/);
  });
});

describe('channels config', () => {
  it('names an unknown key and a webhook without its URL', () => {
    const typo = ChannelsConfigSchema.safeParse({ telegram: { token_credential: 'bot', polling: true } });
    expect(typo.success).toBe(false);
    expect(JSON.stringify(typo.error?.issues)).toContain('polling');
    const webhook = ChannelsConfigSchema.safeParse({ telegram: { token_credential: 'bot', mode: 'webhook' } });
    expect(webhook.error?.issues[0]).toMatchObject({
      path: ['telegram', 'webhook_url'],
      message: expect.stringContaining('webhook mode needs webhook_url'),
    });
  });
});
