// What the fleet needs from wherever agents run. The mesh uses the Docker runtime;
// integration tests run agents as local processes behind the same interface.
import type { HostIsolation } from '../../shared/wire/admin.js';
import type { AgentSecrets } from '../../shared/wire/agent.js';

export interface AgentLaunch {
  agent: string;
  /** Environment of the agent server: its name, mesh URL and egress proxy; never a
   *  token or a provider key (everything the agent runs inherits it). */
  env: Record<string, string>;
  /** Its tokens, handed over on the server's stdin, read once and gone. */
  secrets: AgentSecrets;
  memoryBytes: number;
  cpus: number;
  /** The OCI runtime asked for in config (auto, runc, runsc, ...). */
  runtime: string;
  /** Start from the browser variant of the image (Chromium inside). */
  browser?: boolean;
  /** The operator's skill folders (agents.yaml `skills:`), absolute on the host; the runtime
   *  makes them readable (read-only) to the agent and lists them in LEGION_SKILL_DIRS. */
  skillDirs?: readonly string[];
  /** Set for a sub-agent: the agent that spawned it (labelled, so orphans can be found). */
  parent?: string;
}

/** A sub-agent's container or volume found at mesh start. */
export interface SubAgentLeftover {
  kind: 'container' | 'volume';
  /** The container id or volume name. */
  ref: string;
  agent: string;
  parent: string;
}

/** The OCI runtime a container runs under, and whether it gives it a kernel of its own. */
export interface AgentSandbox {
  runtime: string;
  sandboxed: boolean;
}

export interface RunningAgent {
  /** Base URL of the agent server as the mesh reaches it. */
  url: string;
  id: string;
  name: string;
  image: string;
  sandbox: AgentSandbox;
}

/** A running container found at mesh start, with the tokens it was started with. */
export interface AdoptedAgent {
  running: RunningAgent;
  serverToken: string;
  meshToken: string;
  egressToken: string;
}

export interface AgentApiBinding {
  /** Address the agent API must listen on so that agents can reach it. */
  host: string;
  /** Port for the agent API; 0 lets the system choose. */
  port: number;
}

/** An agent container (or process) of this project that was there before the mesh started. */
export interface FoundAgent {
  /** The agent it was started for. */
  agent: string;
  /** The runtime's word for its state: running, exited, paused... */
  state: string;
  /** Started from the image the runtime uses now. */
  currentImage: boolean;
  running: RunningAgent;
}

export type ProgressFn = (line: string) => void;

export interface AgentRuntime {
  /** The runtime `wanted` (from config) means on this host; an unknown name throws,
   *  listing the known ones. Absent where agents are not containers. */
  resolveSandbox?(wanted: string): Promise<AgentSandbox>;
  /** Makes sure agents can be started (image, network); says where the agent API listens. */
  prepare(progress: ProgressFn, meshPort: number): Promise<AgentApiBinding>;
  /** Starts the agent and returns once its process is created (not yet healthy). */
  start(launch: AgentLaunch): Promise<RunningAgent>;
  /** Stops and removes the agent; quick and idempotent. */
  stop(agent: string): Promise<void>;
  /** Container (or process) state, or null when there is none. */
  state(agent: string): Promise<string | null>;
  /** The last lines the agent printed, for error messages. */
  logs(agent: string, lines: number): Promise<string>;
  /** This project's agents left from an earlier run of the mesh (after prepare); the
   *  mesh adopts or stops each. */
  existing(): Promise<FoundAgent[]>;
  /** Once the mesh listens: keeps agents from every host port but `ports`, where the
   *  runtime runs agents on a network of the host (Docker). A host that cannot be
   *  firewalled is an unenforced answer saying why, not an error. */
  isolateHost?(ports: number[]): Promise<HostIsolation>;
  /** Undoes isolateHost at mesh stop; idempotent. */
  releaseHost?(): Promise<void>;
  /** Stops and removes a sub-agent with its data volume; quick and idempotent. */
  discard?(agent: string): Promise<void>;
  /** This project's sub-agent containers and volumes (labelled legion.parent), after prepare. */
  subAgentLeftovers?(): Promise<SubAgentLeftover[]>;
  /** Removes one leftover found by subAgentLeftovers; idempotent. */
  removeLeftover?(leftover: SubAgentLeftover): Promise<void>;
}
