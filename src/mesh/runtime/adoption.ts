// Adoption: a mesh that starts again takes over the project's agent containers that
// still run, instead of making duplicates. What it needs to keep talking to one (its
// server token, mesh token and egress token, and the URLs it was started with) is
// written to mesh.db at each container start. Invariants: a container is adopted only
// when its agent is still configured, it runs from the current image, it was started
// for this mesh's agent API and egress proxy URLs, its id is the recorded one, and it
// answers an authenticated request with the recorded server token, and it runs under
// the OCI runtime its config resolves to now (a switch to gVisor is not left undone by
// adoption); every other
// container of the project is removed (its volume, /data, stays) and the fleet start
// makes it afresh. The tokens live only in mesh.db, inside .legion/ (mode 0700).
import type { Db, Migration } from '../db.js';
import type { Logger } from '../../shared/logging.js';
import { agentAnswersAs } from './agent-client.js';
import type { AdoptedAgent, AgentRuntime, FoundAgent, ProgressFn } from './types.js';

export const runtimeMigrations: Migration[] = [
  {
    domain: 'runtime',
    version: 1,
    sql: `CREATE TABLE agent_containers (
      agent TEXT PRIMARY KEY,
      container_id TEXT NOT NULL,
      server_token TEXT NOT NULL,
      mesh_token TEXT NOT NULL,
      egress_token TEXT NOT NULL,
      mesh_url TEXT NOT NULL,
      egress_url TEXT NOT NULL,
      started_at TEXT NOT NULL
    );`,
  },
];

export interface ContainerRecord {
  agent: string;
  container_id: string;
  server_token: string;
  mesh_token: string;
  egress_token: string;
  /** The agent API and egress proxy URLs the container was given in its environment. */
  mesh_url: string;
  egress_url: string;
}

export class ContainerRecords {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  /** At each container start; replaces the agent's previous record. */
  save(record: ContainerRecord): void {
    this.db
      .prepare(
        `INSERT INTO agent_containers (agent, container_id, server_token, mesh_token, egress_token, mesh_url, egress_url, started_at)
         VALUES (@agent, @container_id, @server_token, @mesh_token, @egress_token, @mesh_url, @egress_url, @started_at)
         ON CONFLICT (agent) DO UPDATE SET container_id = excluded.container_id, server_token = excluded.server_token, mesh_token = excluded.mesh_token,
           egress_token = excluded.egress_token, mesh_url = excluded.mesh_url, egress_url = excluded.egress_url, started_at = excluded.started_at`,
      )
      .run({ ...record, started_at: new Date().toISOString() });
  }

  get(agent: string): ContainerRecord | null {
    return (
      this.db
        .prepare<[string], ContainerRecord>(
          'SELECT agent, container_id, server_token, mesh_token, egress_token, mesh_url, egress_url FROM agent_containers WHERE agent = ?',
        )
        .get(agent) ?? null
    );
  }

  /** When the container is removed: its tokens are worth nothing any more. */
  forget(agent: string): void {
    this.db.prepare('DELETE FROM agent_containers WHERE agent = ?').run(agent);
  }
}

export interface AdoptionContext {
  configured: boolean;
  meshUrl: string;
  egressUrl: string;
  /** The OCI runtime the agent's config resolves to now; null where agents are not containers. */
  runtime: string | null;
}

export type AdoptionVerdict = { action: 'adopt'; record: ContainerRecord } | { action: 'replace'; reason: string };

/** Whether `found` may be adopted, before asking it anything (it must still answer with the record's token). */
export function judgeFound(
  found: FoundAgent,
  record: ContainerRecord | null,
  context: AdoptionContext,
): AdoptionVerdict {
  const replace = (reason: string): AdoptionVerdict => ({ action: 'replace', reason });
  if (!context.configured) return replace('the agent is no longer in config/agents.yaml');
  if (found.state !== 'running') return replace(`its container is ${found.state}`);
  if (!found.currentImage) return replace('it runs an older agent image');
  if (!record || record.container_id !== found.running.id) return replace('no tokens are stored for this container');
  if (record.mesh_url !== context.meshUrl || record.egress_url !== context.egressUrl)
    return replace('it was started for other mesh addresses');
  if (!found.running.url) return replace('it has no address on the legion network');
  if (context.runtime !== null && found.running.sandbox.runtime !== context.runtime) {
    return replace(`it runs under ${found.running.sandbox.runtime}, its config now asks for ${context.runtime}`);
  }
  return { action: 'adopt', record };
}

export interface AdoptionOptions {
  runtime: AgentRuntime;
  records: ContainerRecords;
  fleet: { adopt: (name: string, adopted: AdoptedAgent) => Promise<void> };
  configured: (agent: string) => boolean;
  /** The OCI runtime the agent's config asks for (auto, runc, runsc, ...). */
  wantedRuntime: (agent: string) => string;
  /** Where this mesh listens for agents, as they reach it. */
  meshUrl: string;
  egressUrl: string;
  progress: ProgressFn;
  logger: Logger;
}

/** Adopts what can be adopted and removes the rest; returns the adopted agents. */
export async function adoptRunningAgents(options: AdoptionOptions): Promise<Set<string>> {
  const { runtime, records, fleet, progress, logger } = options;
  const adopted = new Set<string>();
  for (const found of await runtime.existing()) {
    const configured = options.configured(found.agent);
    const wanted =
      configured && runtime.resolveSandbox
        ? (await runtime.resolveSandbox(options.wantedRuntime(found.agent))).runtime
        : null;
    let verdict = judgeFound(found, records.get(found.agent), {
      configured,
      meshUrl: options.meshUrl,
      egressUrl: options.egressUrl,
      runtime: wanted,
    });
    if (
      verdict.action === 'adopt' &&
      !(await agentAnswersAs({ agent: found.agent, url: found.running.url, serverToken: verdict.record.server_token }))
    ) {
      verdict = { action: 'replace', reason: 'it did not answer with its stored server token' };
    }
    if (verdict.action === 'adopt') {
      const { record } = verdict;
      await fleet.adopt(found.agent, {
        running: found.running,
        serverToken: record.server_token,
        meshToken: record.mesh_token,
        egressToken: record.egress_token,
      });
      adopted.add(found.agent);
      progress(`agent ${found.agent} adopted (still running, container ${found.running.id.slice(0, 12)})`);
      continue;
    }
    await runtime.stop(found.agent);
    records.forget(found.agent);
    logger.info(
      { agent: found.agent, event: 'container_replaced', container: found.running.id, reason: verdict.reason },
      'removed a container left from an earlier run',
    );
    progress(`agent ${found.agent}: removed its container from an earlier run (${verdict.reason})`);
  }
  return adopted;
}
