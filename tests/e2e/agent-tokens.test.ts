// The agent's tokens are out of reach of everything its tools run, with real Docker:
// from the exec tool, a probe (fixtures/proc-probe.cjs) reads every process's environ
// and cmdline (what `ps e` shows), its other /proc files, the memory of every process
// through /proc/<pid>/mem, and every file under /data, and finds neither the mesh
// token nor the server token; SIGUSR1 does not open the server's inspector. The probe
// is given only rolling hashes of the tokens, and must find a planted canary, so a
// scanner that reads nothing cannot pass. The agent still talks to the mesh after it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { freePort, legion, makeProject, type TestProject } from '../helpers/project.js';
import { docker, dockerAvailable, execIn } from '../helpers/docker.js';
import { projectId } from '../../src/shared/state.js';
import { tearDownFleet } from '../helpers/fleet.js';

const available = await dockerAvailable();
const AGENT = 'vault';
const CANARY = `canary-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;

/** `<label>:<length>:<rolling hash>:<sha256>`, as the probe expects; reveals nothing usable of `secret`. */
function fingerprint(label: string, secret: string): string {
  const bytes = Buffer.from(secret);
  let hash = 0;
  for (const byte of bytes) hash = (Math.imul(hash, 131) + byte) >>> 0;
  return `${label}:${bytes.length}:${hash}:${createHash('sha256').update(bytes).digest('hex')}`;
}

interface ProbeReport {
  self: string;
  serverPid: string | null;
  hits: string[];
  inspector: boolean | null;
  server: { environ: string; mem: string } | null;
  selfMem: string;
}

describe.skipIf(!available)('agent tokens out of reach of tool processes (real Docker)', () => {
  let fake: FakeProvider;
  let project: TestProject;
  let container: string;

  beforeAll(async () => {
    fake = await startFakeProvider();
    project = makeProject({
      port: await freePort(),
      openaiBaseUrl: fake.openaiBaseUrl,
      agentsYaml: `agents:\n  ${AGENT}:\n    role: keeps things\n`,
    });
    const started = await legion(['start', '-d'], project.dir);
    expect(started.code, started.stderr).toBe(0);
    container = `legion-${projectId(project.dir)}-${AGENT}`;
  });

  afterAll(async () => {
    await tearDownFleet(project);
    await fake?.close();
    project?.cleanup();
  });

  it('finds no token in any /proc file, process memory or /data from exec, and the agent still talks to the mesh', async () => {
    const db = new Database(join(project.dir, '.legion', 'mesh.db'), { readonly: true });
    const row = db
      .prepare<[string], { mesh_token: string; server_token: string }>(
        'SELECT mesh_token, server_token FROM agent_containers WHERE agent = ?',
      )
      .get(AGENT);
    db.close();
    if (!row) throw new Error('no tokens stored for the agent');
    const info = await docker.getContainer(container).inspect();
    expect(info.Config.Env.join('\n')).not.toContain(row.mesh_token);
    expect(info.Config.Env.join('\n')).not.toContain(row.server_token);

    const probe = readFileSync(join(import.meta.dirname, 'fixtures', 'proc-probe.cjs')).toString('base64');
    const put = await execIn(container, [
      'sh',
      '-c',
      `echo ${probe} | base64 -d > /data/workspace/probe.cjs && printf %s ${CANARY} > /data/workspace/canary.txt`,
    ]);
    expect(put.code, put.output).toBe(0);
    const args = [
      fingerprint('mesh_token', row.mesh_token),
      fingerprint('server_token', row.server_token),
      fingerprint('canary', CANARY),
    ].join(' ');
    const chat = await legion(
      ['chat', AGENT, '-m', `call exec ${JSON.stringify({ command: `node probe.cjs ${args}`, timeout_s: 120 })}`],
      project.dir,
    );
    expect(chat.code, chat.stderr).toBe(0);
    const line = /PROBE (\{.*\})/.exec(chat.stdout)?.[1];
    if (!line) throw new Error(`the probe printed no report:\n${chat.stdout}`);
    const report = JSON.parse(line) as ProbeReport;
    // The scanner works: it found the canary in /data and in its own memory.
    expect(report.hits).toContain('canary in /data');
    expect(report.hits).toContain(`canary in /proc/${report.self}/mem`);
    expect(report.selfMem).toBe('read');
    // And no token anywhere; the server's environ and memory cannot even be opened.
    expect(report.hits.filter((hit) => !hit.startsWith('canary'))).toEqual([]);
    expect(report.serverPid).not.toBeNull();
    expect(report.server).toEqual({ environ: 'EACCES', mem: 'EACCES' });
    expect(report.inspector).toBe(false);

    const after = await legion(['chat', AGENT, '-m', 'hello after the probe'], project.dir);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toContain('hello after the probe');
  }, 300_000);
});
