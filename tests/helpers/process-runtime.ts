// Runs agent servers as plain local processes behind the mesh's AgentRuntime
// interface, so integration tests exercise the real mesh and the real agent server
// without Docker. Test-only: it gives agents none of the container's isolation.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type {
  AgentApiBinding,
  AgentLaunch,
  AgentRuntime,
  FoundAgent,
  RunningAgent,
} from '../../src/mesh/runtime/types.js';
import { freePort, REPO_ROOT } from './project.js';

interface Proc {
  child: ChildProcess;
  output: string;
  exited: boolean;
}

export class ProcessRuntime implements AgentRuntime {
  private readonly procs = new Map<string, Proc>();
  /** The environment each agent was launched with (tests read its tokens). */
  readonly launches = new Map<string, AgentLaunch>();
  private readonly dataRoot: string;

  constructor(dataRoot: string) {
    this.dataRoot = dataRoot;
  }

  dataDir(agent: string): string {
    return join(this.dataRoot, agent);
  }

  async prepare(): Promise<AgentApiBinding> {
    return { host: '127.0.0.1', port: 0 };
  }

  async start(launch: AgentLaunch): Promise<RunningAgent> {
    await this.stop(launch.agent);
    const port = await freePort();
    mkdirSync(this.dataDir(launch.agent), { recursive: true });
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'agent', 'main.js')], {
      env: {
        PATH: process.env.PATH,
        ...launch.env,
        LEGION_DATA_DIR: this.dataDir(launch.agent),
        LEGION_AGENT_PORT: String(port),
        LEGION_AGENT_HOST: '127.0.0.1',
        // No mounts here: the agent reads the operator's skill folders where they are.
        ...(launch.skillDirs?.length ? { LEGION_SKILL_DIRS: JSON.stringify(launch.skillDirs) } : {}),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    // As the Docker runtime does: the tokens on stdin, then end of file.
    child.stdin?.end(`${JSON.stringify(launch.secrets)}\n`);
    const proc: Proc = { child, output: '', exited: false };
    child.stdout?.on('data', (d: Buffer) => (proc.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (proc.output += d.toString()));
    child.on('exit', () => (proc.exited = true));
    this.procs.set(launch.agent, proc);
    this.launches.set(launch.agent, launch);
    return {
      url: `http://127.0.0.1:${port}`,
      id: String(child.pid),
      name: `process-${launch.agent}`,
      image: 'local-process',
      sandbox: { runtime: 'process', sandboxed: false },
    };
  }

  async stop(agent: string): Promise<void> {
    const proc = this.procs.get(agent);
    if (!proc) return;
    this.procs.delete(agent);
    if (proc.exited) return;
    const exited = new Promise((r) => proc.child.once('exit', r));
    proc.child.kill('SIGTERM');
    await exited;
  }

  /** Ends the agent's process as a crash would (SIGKILL); resolves once it is gone. */
  async kill(agent: string): Promise<void> {
    const proc = this.procs.get(agent);
    if (!proc || proc.exited) throw new Error(`no running process for ${agent}`);
    const exited = new Promise((r) => proc.child.once('exit', r));
    proc.child.kill('SIGKILL');
    await exited;
  }

  async state(agent: string): Promise<string | null> {
    const proc = this.procs.get(agent);
    if (!proc) return null;
    return proc.exited ? 'exited' : 'running';
  }

  async logs(agent: string, lines: number): Promise<string> {
    return (this.procs.get(agent)?.output ?? '').split('\n').slice(-lines).join('\n');
  }

  /** Agent processes end with the test's mesh (mesh.stop stops them), so none is ever left to adopt. */
  async existing(): Promise<FoundAgent[]> {
    return [];
  }
}
