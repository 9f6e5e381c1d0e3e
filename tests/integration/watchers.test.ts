// File watchers through the real mesh, agent processes and the fake provider: a new
// file wakes the agent once, files there at the first scan never do, a restart neither
// repeats a file nor loses one put there while the mesh was down, a changed file fires
// again, an edited config applies without a restart, and an invalid one fails the
// start naming the file and key path.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mesh } from '../../src/mesh/server.js';
import { loadProject } from '../../src/shared/config/project.js';
import { createLogger } from '../../src/shared/logging.js';
import { EventListSchema } from '../../src/shared/wire/events.js';
import type { MeshClient } from '../../src/cli/mesh-client.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';
import { eventually, restartMesh, turnsFor } from '../helpers/triggers.js';

const WATCHERS = `poll_interval_s: 0.2
watchers:
  - name: inbox
    path: inbox
    pattern: "*.csv"
    agent: watcher
    message: "File {filename} arrived at {path}"
`;

describe('file watchers', () => {
  let h: Harness;
  let mesh: Mesh;
  let client: MeshClient;
  const inbox = (name: string, content: string) => writeFileSync(join(h.project.dir, 'inbox', name), content);
  const turns = (file: string) =>
    turnsFor(
      h.fake.calls,
      'watcher',
      new RegExp(`File ${file.replace('.', '\\.')} arrived at inbox/${file.replace('.', '\\.')}`),
    );
  /** Several polls, so a file that should not fire would have. */
  const severalPolls = () => new Promise((r) => setTimeout(r, 1200));

  beforeAll(async () => {
    h = await startHarness({ agentsYaml: 'agents:\n  watcher:\n    role: reads incoming files\n' });
    mesh = h.mesh;
    mkdirSync(join(h.project.dir, 'inbox'));
    inbox('old.csv', 'was here first');
    writeFileSync(join(h.project.dir, 'config', 'watchers.yaml'), WATCHERS);
    ({ mesh, client } = await restartMesh(h, mesh));
  });
  afterAll(async () => {
    if (mesh !== h?.mesh) await mesh?.stop();
    await h?.close();
  });

  it('fires once for a new file, never for one present at the first scan or one the pattern skips', async () => {
    inbox('new.csv', 'a,b\n1,2\n');
    inbox('notes.txt', 'not a csv');
    const call = await h.waitForCall('watcher', /File new\.csv arrived at inbox\/new\.csv/);
    expect(call.messages.at(-1)?.content).toMatch(
      /^\[watcher new\.csv · id watch_\S+ · from watcher inbox\]\nFile new\.csv arrived at inbox\/new\.csv\n/,
    );
    await severalPolls();
    expect(turns('new.csv')).toHaveLength(1);
    expect(turns('old.csv')).toEqual([]);
    expect(turnsFor(h.fake.calls, 'watcher', /notes\.txt/)).toEqual([]);
    const events = await client.requestJson('GET', '/api/events?agent=watcher&limit=100', EventListSchema);
    expect(events.events).toContainEqual(
      expect.objectContaining({
        kind: 'watcher_fired',
        subject: 'inbox/new.csv',
        detail: expect.objectContaining({ watcher: 'inbox' }),
      }),
    );
  });

  it('does not fire handled files again after a restart, and fires one that arrived while the mesh was down', async () => {
    await mesh.stop();
    inbox('late.csv', 'arrived while down');
    ({ mesh, client } = await restartMesh(h, mesh));
    await h.waitForCall('watcher', /File late\.csv arrived/);
    await severalPolls();
    expect(turns('late.csv')).toHaveLength(1);
    expect(turns('new.csv')).toHaveLength(1);
    expect(turns('old.csv')).toEqual([]);
  });

  it('fires again, once, for a file that changed', async () => {
    inbox('new.csv', 'a,b\n1,2\n3,4\n');
    await eventually(() => (turns('new.csv').length === 2 ? true : null), 'the changed file to fire');
    await severalPolls();
    expect(turns('new.csv')).toHaveLength(2);
  });

  it('applies an edited watchers.yaml at the next poll, and keeps the old one when an edit is invalid', async () => {
    writeFileSync(
      join(h.project.dir, 'config', 'watchers.yaml'),
      WATCHERS.replace('File {filename} arrived at {path}', 'Reloaded: {filename}'),
    );
    await eventually(async () => {
      const events = await client.requestJson('GET', '/api/events?limit=500', EventListSchema);
      return events.events.some((e) => e.kind === 'watchers_reloaded') ? true : null;
    }, 'the reload');
    inbox('after-reload.csv', 'x');
    await h.waitForCall('watcher', /Reloaded: after-reload\.csv/);

    writeFileSync(join(h.project.dir, 'config', 'watchers.yaml'), `${WATCHERS}    recursive: true\n`);
    await eventually(async () => {
      const events = await client.requestJson('GET', '/api/events?limit=500', EventListSchema);
      const invalid = events.events.find((e) => e.kind === 'watchers_config_invalid');
      return invalid ? invalid : null;
    }, 'the invalid edit to be reported').then((invalid) => {
      expect(JSON.stringify(invalid.detail)).toContain('config/watchers.yaml: watchers.0: unknown key \\"recursive\\"');
    });
    inbox('still-watched.csv', 'x');
    await h.waitForCall('watcher', /Reloaded: still-watched\.csv/);
  });

  it('refuses to start with an invalid watchers.yaml, naming the file and key path', async () => {
    await mesh.stop();
    writeFileSync(
      join(h.project.dir, 'config', 'watchers.yaml'),
      'watchers:\n  - path: inbox\n    pattern: "*.csv"\n    agent: nobody\n',
    );
    const broken = new Mesh({
      project: loadProject(h.project.dir),
      runtime: h.runtime,
      logger: createLogger({}, { write: () => undefined }),
      progress: () => undefined,
      onShutdownRequested: () => undefined,
    });
    await expect(broken.start()).rejects.toThrow(
      'config/watchers.yaml: watchers.0.agent: no agent named "nobody" in config/agents.yaml',
    );
    await broken.stop();
    writeFileSync(join(h.project.dir, 'config', 'watchers.yaml'), WATCHERS);
    ({ mesh, client } = await restartMesh(h, mesh));
  });
});
