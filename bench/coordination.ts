// Coordination benchmarks against a real fleet (legion start -d, Docker): blackboard
// writes/s and reads/s through the agent API with an agent's own token (autocannon,
// 20 connections, 5 s each), and publish -> delivered latency for one subscriber
// (operator publish until the subscriber's model call carries the event).
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import Docker from 'dockerode';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startFakeProvider, type FakeProvider } from '../tests/fakes/fake-provider.js';
import { freePort, legion, makeProject } from '../tests/helpers/project.js';
import { projectId } from '../src/shared/state.js';
import { projectVolumeName } from '../src/mesh/runtime/volumes.js';
import { median, percentile, type BenchRow } from './table.js';

const docker = new Docker();
const AGENTS = ['bench-writer', 'bench-sub'];

/** The agent's mesh token, as the mesh stored it for adoption (containers never carry it in their environment). */
function agentToken(dir: string, agent: string): string {
  const db = new Database(join(dir, '.legion', 'mesh.db'), { readonly: true });
  try {
    const row = db
      .prepare<[string], { mesh_token: string }>('SELECT mesh_token FROM agent_containers WHERE agent = ?')
      .get(agent);
    if (!row) throw new Error(`no token stored for ${agent}`);
    return row.mesh_token;
  } finally {
    db.close();
  }
}

async function load(url: string, token: string, body: unknown): Promise<autocannon.Result> {
  return autocannon({
    url,
    method: 'POST',
    connections: 20,
    duration: 5,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function deliveryLatency(fake: FakeProvider, adminUrl: string, adminToken: string): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < 15; i++) {
    const marker = `bench-${i}-${Math.random().toString(36).slice(2)}`;
    const begin = performance.now();
    const response = await fetch(`${adminUrl}/api/pubsub/publish`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ topic: 'bench_topic', payload: { marker } }),
    });
    if (!response.ok) throw new Error(`publish failed: ${await response.text()}`);
    while (!fake.calls.some((c) => c.messages.some((m) => m.role === 'user' && m.content.includes(marker)))) {
      await new Promise((r) => setTimeout(r, 1));
    }
    samples.push(performance.now() - begin);
  }
  return samples;
}

export async function coordinationBench(): Promise<BenchRow[]> {
  const fake = await startFakeProvider();
  const project = makeProject({
    port: await freePort(),
    openaiBaseUrl: fake.openaiBaseUrl,
    agentsYaml:
      'agents:\n  bench-writer: { role: writes }\n  bench-sub: { role: listens, subscriptions: [bench_topic] }\n',
  });
  writeFileSync(
    join(project.dir, 'config', 'permissions.yaml'),
    'default:\n  allowed_apis: [llm]\n  blackboard_read: ["bench/**"]\n  blackboard_write: ["bench/**"]\n  can_subscribe: [bench_topic]\n',
  );
  const rows: BenchRow[] = [];
  try {
    const started = await legion(['start', '-d'], project.dir);
    if (started.code !== 0) throw new Error(`legion start -d failed: ${started.stderr}`);
    const info = JSON.parse(readFileSync(join(project.dir, '.legion', 'mesh.json'), 'utf8')) as {
      agent_api_url: string;
      admin_url: string;
    };
    const adminToken = readFileSync(join(project.dir, '.legion', 'admin.token'), 'utf8').trim();
    const token = agentToken(project.dir, 'bench-writer');

    const writes = await load(`${info.agent_api_url}/mesh/blackboard/set`, token, {
      key: 'bench/counter',
      value: { n: 1, note: 'benchmark' },
    });
    const reads = await load(`${info.agent_api_url}/mesh/blackboard/get`, token, { key: 'bench/counter' });
    for (const [name, result, target] of [
      ['blackboard writes/s (agent API, 20 conns)', writes, 3000],
      ['blackboard reads/s (agent API, 20 conns)', reads, 8000],
    ] as const) {
      const failed = result.non2xx + result.errors;
      rows.push([
        name,
        `${Math.round(result.requests.average)}/s${failed ? ` (${failed} failed!)` : ''}`,
        `>= ${target}/s`,
        result.requests.average >= target && failed === 0,
      ]);
      rows.push([`${name.split(' (')[0]} p99 latency`, `${result.latency.p99} ms`, '< 20 ms', result.latency.p99 < 20]);
    }

    const latencies = await deliveryLatency(fake, info.admin_url, adminToken);
    rows.push([
      'publish -> subscriber woken, median of 15',
      `${median(latencies).toFixed(1)} ms (p95 ${percentile(latencies, 95).toFixed(1)})`,
      'reported',
      true,
    ]);
  } finally {
    await legion(['stop'], project.dir);
    for (const agent of AGENTS)
      await docker
        .getVolume(projectVolumeName(projectId(project.dir), agent))
        .remove()
        .catch(() => undefined);
    await fake.close();
    project.cleanup();
  }
  return rows;
}
