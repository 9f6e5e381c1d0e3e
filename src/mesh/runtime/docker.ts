// Runs each agent in its own hardened container: uid 1000, no capabilities,
// no-new-privileges, read-only root with a tmpfs /tmp, memory/CPU/pids limits, an
// init process, the project's own volume at /data (volumes.ts), on the internal network
// legion_internal (no route out, no container-to-container traffic), its tokens on
// stdin and never in its environment (secrets-stdin.ts). Containers carry labels naming
// the project and agent; that is how a restarted mesh finds them (to adopt them or
// replace them). Where it has the rights, the
// runtime firewalls the host so that agents reach only the mesh's ports (firewall.ts).
// Each container runs under the OCI runtime its config asks for (oci-runtime.ts:
// gVisor when the engine has it, by default), read back from HostConfig.Runtime.
import path from 'node:path';
import Docker from 'dockerode';
import { LegionError } from '../../shared/errors.js';
import { AGENT_ENV, AGENT_SERVER_PORT } from '../../shared/wire/agent.js';
import { buildImage, imageExists, imageTag, type ImageSpec } from './image.js';
import { installHostFirewall, removeHostFirewall, type HostFirewallSpec } from './firewall.js';
import { LABELS } from './labels.js';
import { parentOfSubAgent } from '../../shared/subagents.js';
import { ensureAgentVolume, projectVolumeName } from './volumes.js';
import { SECRETS_STDIN_OPTIONS, startWithSecrets } from './secrets-stdin.js';
import type { HostIsolation } from '../../shared/wire/admin.js';
import {
  chooseRuntime,
  engineRuntimes,
  GVISOR_NETWORK_ERROR,
  isGvisor,
  isSandboxing,
  type EngineRuntime,
} from './oci-runtime.js';
import { GVISOR_DAEMON_JSON } from '../../shared/sandbox.js';
import type {
  AgentApiBinding,
  AgentLaunch,
  AgentRuntime,
  AgentSandbox,
  FoundAgent,
  ProgressFn,
  RunningAgent,
  SubAgentLeftover,
} from './types.js';

export const NETWORK_NAME = 'legion_internal';
/** Where the operator's skill folders are mounted, read-only, one folder each. */
const CONTAINER_SKILLS_ROOT = '/skills';
export { LABELS };
const STOP_GRACE_SECONDS = 2;
const ENGINE_INFO_TTL_MS = 2_000;
const VOLUME_REMOVE_ATTEMPTS = 10;
const PIDS_LIMIT = 256;
const BROWSER_PIDS_LIMIT = 512;
const BROWSER_SHM_BYTES = 256 * 1024 * 1024;
/** gVisor refuses to load the image's execute-only server binary ("failed to load
 *  /usr/local/bin/legion-agent-node: permission denied"), so under it the server runs the
 *  readable node: not made non-dumpable, which docs/security.md states. */
const GVISOR_SERVER_CMD = ['/usr/local/bin/node', '/app/dist/agent-bundle/main.js'];

export interface DockerRuntimeOptions {
  projectId: string;
  image: ImageSpec;
  docker?: Docker;
}

/** Docker unreachable is the most common first-run problem; say so plainly. */
export async function assertDockerReachable(docker: Docker): Promise<void> {
  try {
    await docker.ping();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new LegionError(
      'docker_unreachable',
      `Docker is not reachable (${reason}). Start the Docker engine (for example \`sudo systemctl start docker\`) and make sure this user may use it (DOCKER_HOST, or membership of the docker group).`,
    );
  }
}

/** The host bridge of a network: Docker names it br-<first 12 of the network id> unless the network sets a name. */
export function bridgeName(info: { Id: string; Options?: Record<string, string> }): string {
  return info.Options?.['com.docker.network.bridge.name'] ?? `br-${info.Id.slice(0, 12)}`;
}

export class DockerRuntime implements AgentRuntime {
  readonly docker: Docker;
  private readonly options: DockerRuntimeOptions;
  private tag: string | null = null;
  /** The browser variant's tag, once built or found (at the first start of an agent with a browser). */
  private browserTag: string | null = null;
  private network: { gateway: string; bridge: string } | null = null;
  /** The firewall rules this runtime installed, to remove at releaseHost. */
  private firewall: HostFirewallSpec | null = null;
  /** Where start() reports (the mesh's progress, image builds included); set by prepare. */
  private progress: ProgressFn = () => undefined;
  /** Agents whose legacy-volume notice was given: it is said once per mesh run. */
  private readonly noticed = new Set<string>();
  private engineInfo: { at: number; runtimes: Promise<EngineRuntime[]> } | null = null;

  constructor(options: DockerRuntimeOptions) {
    this.options = options;
    this.docker = options.docker ?? new Docker();
  }

  containerName(agent: string): string {
    return `legion-${this.options.projectId}-${agent}`;
  }

  /** Asked anew after ENGINE_INFO_TTL_MS: a runtime registered (and the engine reloaded)
   *  while the mesh runs counts at the next start, while agents started together (a fleet
   *  start) share one `docker info`, which is slow on a busy engine. */
  private engineRuntimes(): Promise<EngineRuntime[]> {
    if (!this.engineInfo || Date.now() - this.engineInfo.at > ENGINE_INFO_TTL_MS) {
      const runtimes = this.docker.info().then((info) => engineRuntimes(info as { Runtimes?: unknown }));
      this.engineInfo = { at: Date.now(), runtimes };
      runtimes.catch(() => {
        if (this.engineInfo?.runtimes === runtimes) this.engineInfo = null;
      });
    }
    return this.engineInfo.runtimes;
  }

  async resolveSandbox(wanted: string): Promise<AgentSandbox> {
    return this.sandboxOn(wanted, await this.engineRuntimes());
  }

  private sandboxOn(wanted: string, engine: EngineRuntime[]): AgentSandbox {
    const choice = chooseRuntime(wanted, engine);
    if (choice.action === 'unknown') {
      throw new LegionError(
        'unknown_runtime',
        `the OCI runtime "${choice.name}" (runtime: in config/mesh.yaml or config/agents.yaml) is not registered with Docker; it knows: ${choice.known.join(', ') || 'none'}. Use auto, one of those, or register it in /etc/docker/daemon.json and reload the engine (legion doctor says how for gVisor)`,
      );
    }
    return { runtime: choice.name, sandboxed: choice.sandboxed };
  }

  async prepare(progress: ProgressFn, meshPort: number): Promise<AgentApiBinding> {
    await assertDockerReachable(this.docker);
    this.progress = progress;
    const tag = imageTag(this.options.image);
    // Independent Docker calls, made together.
    const [exists, network] = await Promise.all([imageExists(this.docker, tag), this.ensureNetwork()]);
    if (!exists) await buildImage(this.docker, this.options.image, progress);
    this.tag = tag;
    this.network = network;
    return { host: this.network.gateway, port: meshPort };
  }

  /** Creates legion_internal when missing; returns its gateway (the host's address on
   *  it) and the host interface of its bridge. */
  private async ensureNetwork(): Promise<{ gateway: string; bridge: string }> {
    const existing = await this.docker.listNetworks({ filters: { name: [NETWORK_NAME] } });
    const found = existing.find((n) => n.Name === NETWORK_NAME);
    if (!found) {
      await this.docker.createNetwork({
        Name: NETWORK_NAME,
        Driver: 'bridge',
        Internal: true,
        Options: { 'com.docker.network.bridge.enable_icc': 'false' },
        Labels: { [LABELS.managed]: 'true' },
      });
    }
    const info = (await this.docker.getNetwork(NETWORK_NAME).inspect()) as {
      Internal?: boolean;
      Id: string;
      Options?: Record<string, string>;
      IPAM?: { Config?: { Gateway?: string }[] };
    };
    if (!info.Internal) {
      throw new LegionError(
        'network_not_internal',
        `Docker network ${NETWORK_NAME} exists but is not internal; remove it (docker network rm ${NETWORK_NAME}) and start again`,
      );
    }
    const gateway = info.IPAM?.Config?.find((c) => c.Gateway)?.Gateway;
    if (!gateway) throw new LegionError('network_no_gateway', `Docker network ${NETWORK_NAME} has no gateway address`);
    return { gateway, bridge: bridgeName(info) };
  }

  async isolateHost(ports: number[]): Promise<HostIsolation> {
    if (!this.network) throw new LegionError('runtime_not_prepared', 'the Docker runtime was used before prepare()');
    const spec: HostFirewallSpec = { ...this.network, ports };
    const isolation = await installHostFirewall(spec);
    if (isolation.enforced) this.firewall = spec;
    return isolation;
  }

  async releaseHost(): Promise<void> {
    if (!this.firewall) return;
    await removeHostFirewall(this.firewall);
    this.firewall = null;
  }

  /** The browser variant, built the first time an agent needs it (minutes: it installs Chromium). */
  private async browserImage(): Promise<string> {
    if (this.browserTag) return this.browserTag;
    const tag = imageTag(this.options.image, undefined, 'browser');
    if (!(await imageExists(this.docker, tag)))
      await buildImage(this.docker, this.options.image, this.progress, undefined, 'browser');
    this.browserTag = tag;
    return tag;
  }

  async start(launch: AgentLaunch): Promise<RunningAgent> {
    if (!this.tag) throw new LegionError('runtime_not_prepared', 'the Docker runtime was used before prepare()');
    const image = launch.browser ? await this.browserImage() : this.tag;
    const name = this.containerName(launch.agent);
    // Independent Docker calls, made together: the engine's runtimes, the removal of this
    // agent's previous container, and its volume.
    const parentLabel: Record<string, string> = launch.parent ? { [LABELS.parent]: launch.parent } : {};
    const [engine, , volume] = await Promise.all([
      this.engineRuntimes(),
      this.removeContainer(name),
      ensureAgentVolume(this.docker, this.options.projectId, launch.agent, parentLabel),
    ]);
    const sandbox = this.sandboxOn(launch.runtime, engine);
    // Under gVisor the server runs the ordinary, readable node (see GVISOR_SERVER_CMD).
    const gvisor = isGvisor(
      engine.find((r) => r.name === sandbox.runtime) ?? { name: sandbox.runtime, path: sandbox.runtime },
    );
    if (volume.notice && !this.noticed.has(launch.agent)) {
      this.noticed.add(launch.agent);
      this.progress(volume.notice);
    }
    const skills = skillMounts(launch.skillDirs ?? []);
    const container = await this.docker.createContainer({
      name,
      Image: image,
      User: '1000:1000',
      ...SECRETS_STDIN_OPTIONS,
      ...(gvisor ? { Cmd: GVISOR_SERVER_CMD } : {}),
      Env: Object.entries({ ...launch.env, ...skillsEnv(skills) }).map(([key, value]) => `${key}=${value}`),
      Labels: {
        [LABELS.managed]: 'true',
        [LABELS.project]: this.options.projectId,
        [LABELS.agent]: launch.agent,
        ...parentLabel,
      },
      ExposedPorts: { [`${AGENT_SERVER_PORT}/tcp`]: {} },
      HostConfig: {
        NetworkMode: NETWORK_NAME,
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges:true'],
        ReadonlyRootfs: true,
        Tmpfs: { '/tmp': 'rw,noexec,nosuid,size=64m' },
        // Chromium's renderers share memory through /dev/shm (Docker's default is 64 MB); it counts towards Memory.
        ...(launch.browser ? { ShmSize: BROWSER_SHM_BYTES } : {}),
        Memory: launch.memoryBytes,
        MemorySwap: launch.memoryBytes,
        NanoCpus: Math.round(launch.cpus * 1e9),
        // Chromium runs a handful of processes with many threads each; pids counts threads.
        PidsLimit: launch.browser ? BROWSER_PIDS_LIMIT : PIDS_LIMIT,
        Init: true,
        Mounts: [
          { Type: 'volume', Source: volume.name, Target: '/data' },
          ...skills.map((skill) => ({
            Type: 'bind' as const,
            Source: skill.source,
            Target: skill.target,
            ReadOnly: true,
          })),
        ],
        RestartPolicy: { Name: 'no' },
        Runtime: sandbox.runtime,
      },
    });
    await startContainer(container, sandbox.runtime, () => startWithSecrets(container, launch.secrets));
    const info = await container.inspect();
    const ip = info.NetworkSettings.Networks[NETWORK_NAME]?.IPAddress;
    if (!ip) throw new LegionError('container_no_address', `container ${name} has no address on ${NETWORK_NAME}`);
    return { url: `http://${ip}:${AGENT_SERVER_PORT}`, id: info.Id, name, image, sandbox };
  }

  async stop(agent: string): Promise<void> {
    await this.removeContainer(this.containerName(agent));
  }

  async discard(agent: string): Promise<void> {
    if (parentOfSubAgent(agent) === null)
      throw new LegionError('bad_request', `discard is for sub-agents only; ${agent} is a configured agent`);
    await this.removeContainer(this.containerName(agent));
    await this.removeVolume(projectVolumeName(this.options.projectId, agent));
  }

  async subAgentLeftovers(): Promise<SubAgentLeftover[]> {
    const filters = { label: [`${LABELS.project}=${this.options.projectId}`, LABELS.parent] };
    const containers = await this.docker.listContainers({ all: true, filters });
    const { Volumes } = await this.docker.listVolumes({ filters });
    const leftover = (kind: SubAgentLeftover['kind'], ref: string, labels: Record<string, string> | null) => {
      const agent = labels?.[LABELS.agent];
      const parent = labels?.[LABELS.parent];
      return agent && parent ? [{ kind, ref, agent, parent }] : [];
    };
    return [
      ...containers.flatMap((c) => leftover('container', c.Id, c.Labels)),
      ...(Volumes ?? []).flatMap((v) => leftover('volume', v.Name, v.Labels)),
    ];
  }

  async removeLeftover(leftover: SubAgentLeftover): Promise<void> {
    if (leftover.kind === 'container') await this.removeContainer(leftover.ref);
    else await this.removeVolume(leftover.ref);
  }

  /** Only ever called with a sub-agent's volume: configured agents' volumes are never removed here. */
  private async removeVolume(name: string): Promise<void> {
    // Right after its container is removed the engine may still count the volume as in use (409) for a moment.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.docker.getVolume(name).remove({ force: true });
        return;
      } catch (err) {
        if (isDockerStatus(err, 404)) return;
        if (!isDockerStatus(err, 409) || attempt >= VOLUME_REMOVE_ATTEMPTS) throw err;
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  }

  private async removeContainer(name: string): Promise<void> {
    const container = this.docker.getContainer(name);
    try {
      await container.stop({ t: STOP_GRACE_SECONDS });
    } catch (err) {
      if (isDockerStatus(err, 404)) return;
      // Already stopped (304), or cannot stop gracefully (paused, wedged): the forced remove below ends it.
    }
    try {
      await container.remove({ force: true });
    } catch (err) {
      if (!isDockerStatus(err, 404) && !isDockerStatus(err, 409)) throw err;
    }
  }

  async state(agent: string): Promise<string | null> {
    try {
      const info = await this.docker.getContainer(this.containerName(agent)).inspect();
      return info.State.Status;
    } catch (err) {
      if (isDockerStatus(err, 404)) return null;
      throw err;
    }
  }

  async logs(agent: string, lines: number): Promise<string> {
    try {
      const buffer = await this.docker
        .getContainer(this.containerName(agent))
        .logs({ stdout: true, stderr: true, tail: lines });
      return demuxLogs(buffer);
    } catch {
      return '';
    }
  }

  async existing(): Promise<FoundAgent[]> {
    const tag = this.tag;
    if (!tag) throw new LegionError('runtime_not_prepared', 'the Docker runtime was used before prepare()');
    const imageId = (await this.docker.getImage(tag).inspect()).Id;
    // A browser agent's container is current when it runs this code's browser variant.
    const browserTag = imageTag(this.options.image, undefined, 'browser');
    const browserImageId = (await imageExists(this.docker, browserTag))
      ? (await this.docker.getImage(browserTag).inspect()).Id
      : null;
    const containers = await this.docker.listContainers({
      all: true,
      filters: { label: [`${LABELS.project}=${this.options.projectId}`, LABELS.agent] },
    });
    const engine = await this.engineRuntimes();
    const found = await Promise.all(
      containers.map(async (c): Promise<FoundAgent[]> => {
        const agent = c.Labels[LABELS.agent];
        if (!agent) return [];
        const ip = c.NetworkSettings?.Networks?.[NETWORK_NAME]?.IPAddress;
        const sandbox = await this.containerSandbox(c.Id, engine);
        if (!sandbox) return [];
        return [
          {
            agent,
            state: c.State,
            currentImage: c.ImageID === imageId || (browserImageId !== null && c.ImageID === browserImageId),
            running: {
              url: ip ? `http://${ip}:${AGENT_SERVER_PORT}` : '',
              id: c.Id,
              name: this.containerName(agent),
              image: c.ImageID === browserImageId ? browserTag : tag,
              sandbox,
            },
          },
        ];
      }),
    );
    return found.flat();
  }

  /** The runtime a container was created with (HostConfig.Runtime); null when it is gone. */
  private async containerSandbox(id: string, engine: EngineRuntime[]): Promise<AgentSandbox | null> {
    try {
      const runtime =
        ((await this.docker.getContainer(id).inspect()) as { HostConfig: { Runtime?: string } }).HostConfig.Runtime ||
        'runc';
      const registered = engine.find((r) => r.name === runtime);
      return { runtime, sandboxed: isSandboxing(registered ?? { name: runtime, path: runtime }) };
    } catch (err) {
      if (isDockerStatus(err, 404)) return null;
      throw err;
    }
  }
}

/** Runs `start`, turning gVisor's refusal to start without --network=host into the fix. */
async function startContainer(container: Docker.Container, runtime: string, start: () => Promise<void>): Promise<void> {
  try {
    await start();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (!GVISOR_NETWORK_ERROR.test(reason)) throw err;
    await container.remove({ force: true }).catch(() => undefined);
    throw new LegionError(
      'runtime_misconfigured',
      `the OCI runtime ${runtime} refused to start the container (${reason.trim()}): register it with "runtimeArgs": ["--network=host"] in /etc/docker/daemon.json, for example ${GVISOR_DAEMON_JSON}, then reload the engine (sudo kill -HUP $(pidof dockerd))`,
    );
  }
}

function isDockerStatus(err: unknown, status: number): boolean {
  return typeof err === 'object' && err !== null && 'statusCode' in err && err.statusCode === status;
}

/** Docker multiplexes stdout/stderr with 8-byte frame headers when there is no TTY. */
function demuxLogs(buffer: Buffer): string {
  const parts: string[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    parts.push(buffer.subarray(offset + 8, offset + 8 + size).toString('utf8'));
    offset += 8 + size;
  }
  return offset === 0 ? buffer.toString('utf8') : parts.join('');
}

/** Where the operator's skill folders appear in the container: /skills/<folder name>
 *  (the config check keeps folder names unique per agent). */
function skillMounts(dirs: readonly string[]): { source: string; target: string }[] {
  return dirs.map((dir) => ({ source: dir, target: path.posix.join(CONTAINER_SKILLS_ROOT, path.basename(dir)) }));
}

function skillsEnv(mounts: readonly { target: string }[]): Record<string, string> {
  return mounts.length > 0 ? { [AGENT_ENV.skillDirs]: JSON.stringify(mounts.map((mount) => mount.target)) } : {};
}
