// Which OCI runtime an agent's container runs under. `auto` takes gVisor (`runsc`)
// when the Docker engine has it registered, else plain `runc`; any other name must be
// registered with the engine. Pure: the engine's runtimes come in as data (from
// `docker info`), so the decision is tested without an engine. A runtime counts as
// sandboxing when it gives the container a kernel of its own (gVisor, Kata), known by
// its name or its binary's name.
import { basename } from 'node:path';
import { AUTO_RUNTIME, GVISOR_RUNTIME } from '../../shared/sandbox.js';

/** One runtime registered with the engine, as `docker info` lists it. */
export interface EngineRuntime {
  name: string;
  /** The runtime's binary (`runc` for the built-in one). */
  path: string;
  /** runtimeArgs from daemon.json. */
  args: string[];
}

export type RuntimeChoice =
  | { action: 'use'; name: string; sandboxed: boolean }
  | { action: 'unknown'; name: string; known: string[] };

const PLAIN_RUNTIME = 'runc';
const SANDBOXING_BINARY = /runsc|gvisor|kata/i;

export function isSandboxing(runtime: Pick<EngineRuntime, 'name' | 'path'>): boolean {
  return SANDBOXING_BINARY.test(runtime.name) || SANDBOXING_BINARY.test(basename(runtime.path));
}

/** The runtime for `wanted` (a name from mesh.yaml or agents.yaml, or auto) on an engine with `engine`. */
export function chooseRuntime(wanted: string, engine: readonly EngineRuntime[]): RuntimeChoice {
  const name =
    wanted === AUTO_RUNTIME ? (engine.some((r) => r.name === GVISOR_RUNTIME) ? GVISOR_RUNTIME : PLAIN_RUNTIME) : wanted;
  const found = engine.find((r) => r.name === name);
  // runc is built into every engine, even one whose info lists it under another name.
  if (!found && name !== PLAIN_RUNTIME) return { action: 'unknown', name, known: engine.map((r) => r.name).sort() };
  return { action: 'use', name, sandboxed: found ? isSandboxing(found) : false };
}

/** gVisor loads a program by reading it, so it cannot run an execute-only binary (the
 *  agent image's /usr/local/bin/legion-agent-node); Kata and runc run a Linux kernel, which can. */
export function isGvisor(runtime: Pick<EngineRuntime, 'name' | 'path'>): boolean {
  return /runsc|gvisor/i.test(runtime.name) || /runsc|gvisor/i.test(basename(runtime.path));
}

/** The runtimes in a `docker info` answer (its Runtimes map). */
export function engineRuntimes(info: { Runtimes?: unknown }): EngineRuntime[] {
  const map = info.Runtimes;
  if (typeof map !== 'object' || map === null) return [];
  return Object.entries(map as Record<string, { path?: unknown; runtimeArgs?: unknown } | null>).map(
    ([name, entry]) => ({
      name,
      path: typeof entry?.path === 'string' ? entry.path : name,
      args: Array.isArray(entry?.runtimeArgs)
        ? entry.runtimeArgs.filter((a): a is string => typeof a === 'string')
        : [],
    }),
  );
}

/** gVisor started by Docker in a container's network namespace needs --network=host;
 *  without it runsc refuses with "cannot run with network enabled in root network namespace". */
export function gvisorLacksHostNetwork(runtime: EngineRuntime): boolean {
  const hostNetwork = runtime.args.some(
    (arg, i) => arg === '--network=host' || (arg === '--network' && runtime.args[i + 1] === 'host'),
  );
  return /runsc/i.test(basename(runtime.path)) && !hostNetwork;
}

/** Docker's error when gVisor was registered without --network=host. */
export const GVISOR_NETWORK_ERROR = /network enabled in root network namespace/;
