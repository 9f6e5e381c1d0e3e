// Adoption decisions about containers found at mesh start, and the token records they
// rest on (a real SQLite file in a temp dir).
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openMeshDb, type Db } from '../../src/mesh/db.js';
import {
  ContainerRecords,
  judgeFound,
  runtimeMigrations,
  type ContainerRecord,
} from '../../src/mesh/runtime/adoption.js';
import type { FoundAgent } from '../../src/mesh/runtime/types.js';

const record: ContainerRecord = {
  agent: 'survivor',
  container_id: 'c0ffee',
  server_token: 'server-secret',
  mesh_token: 'survivor.mesh-secret',
  egress_token: 'survivor.egress-secret',
  mesh_url: 'http://172.19.0.1:8420',
  egress_url: 'http://172.19.0.1:8421',
};
const found: FoundAgent = {
  agent: 'survivor',
  state: 'running',
  currentImage: true,
  running: {
    url: 'http://172.19.0.5:8400',
    id: 'c0ffee',
    name: 'legion-p-survivor',
    image: 'legion-agent:1',
    sandbox: { runtime: 'runsc', sandboxed: true },
  },
};
const context = { configured: true, meshUrl: record.mesh_url, egressUrl: record.egress_url, runtime: 'runsc' };

describe('judgeFound', () => {
  it('adopts a running container of a configured agent with its recorded tokens', () => {
    expect(judgeFound(found, record, context)).toEqual({ action: 'adopt', record });
  });

  it('adopts regardless of runtime where agents are not containers', () => {
    expect(judgeFound(found, record, { ...context, runtime: null })).toEqual({ action: 'adopt', record });
  });

  it.each([
    [
      'an agent no longer configured',
      found,
      record,
      { ...context, configured: false },
      'the agent is no longer in config/agents.yaml',
    ],
    ['a container that is not running', { ...found, state: 'exited' }, record, context, 'its container is exited'],
    ['a paused container', { ...found, state: 'paused' }, record, context, 'its container is paused'],
    ['an older image', { ...found, currentImage: false }, record, context, 'it runs an older agent image'],
    ['no stored tokens', found, null, context, 'no tokens are stored for this container'],
    [
      'tokens of another container',
      { ...found, running: { ...found.running, id: 'other' } },
      record,
      context,
      'no tokens are stored for this container',
    ],
    [
      'other mesh addresses',
      found,
      record,
      { ...context, meshUrl: 'http://172.19.0.1:9000' },
      'it was started for other mesh addresses',
    ],
    [
      'no address',
      { ...found, running: { ...found.running, url: '' } },
      record,
      context,
      'it has no address on the legion network',
    ],
    [
      'a container under runc once config asks for runsc',
      { ...found, running: { ...found.running, sandbox: { runtime: 'runc', sandboxed: false } } },
      record,
      context,
      'it runs under runc, its config now asks for runsc',
    ],
  ])('replaces %s', (_what, candidate, stored, ctx, reason) => {
    expect(judgeFound(candidate, stored, ctx)).toEqual({ action: 'replace', reason });
  });
});

describe('ContainerRecords', () => {
  let dir: string;
  let db: Db;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'legion-adopt-'));
    db = openMeshDb(join(dir, 'mesh.db'), runtimeMigrations);
  });

  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the latest start of each agent across a reopen, and forgets it on removal', () => {
    const records = new ContainerRecords(db);
    records.save(record);
    records.save({ ...record, container_id: 'newer', server_token: 'newer-secret' });
    db.close();
    db = openMeshDb(join(dir, 'mesh.db'), runtimeMigrations);
    const reopened = new ContainerRecords(db);
    expect(reopened.get('survivor')).toEqual({ ...record, container_id: 'newer', server_token: 'newer-secret' });
    reopened.forget('survivor');
    expect(reopened.get('survivor')).toBeNull();
  });
});
