// Doctor check of the agents' OCI runtime: what `runtime:` in config resolves to on
// this engine (oci-runtime.ts makes the same choice at start). A name the engine does
// not know fails (start would refuse it); agents that would share the host's kernel,
// or gVisor registered without --network=host (its containers would not start), are
// warnings with the steps that fix them. The probe asks `docker info`; the check is pure.
import type Docker from 'dockerode';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { chooseRuntime, type EngineRuntime, engineRuntimes, gvisorLacksHostNetwork } from '../../mesh/host.js';
import { agentRuntime, type Project } from '../../shared/config/project.js';
import { GVISOR_DAEMON_JSON, GVISOR_HOWTO, GVISOR_RUNTIME } from '../../shared/sandbox.js';
import { errorMessage, fail, ok, skip, warn, type CheckResult } from './types.js';

const CHECK = 'agent sandbox';

export type SandboxProbe = { engine: EngineRuntime[]; gvisorBinary: string | null } | { error: string };

export async function probeSandbox(docker: Docker, env: NodeJS.ProcessEnv): Promise<SandboxProbe> {
  const gvisorBinary =
    (env.PATH ?? '')
      .split(delimiter)
      .map((dir) => join(dir, GVISOR_RUNTIME))
      .find((path) => existsSync(path)) ?? null;
  try {
    return { engine: engineRuntimes((await docker.info()) as { Runtimes?: unknown }), gvisorBinary };
  } catch (err) {
    return { error: errorMessage(err) };
  }
}

/** The runtimes asked for in config, each with the agents that ask for it. */
function wantedRuntimes(project: Project): Map<string, string[]> {
  const wanted = new Map<string, string[]>();
  const names = Object.keys(project.agents);
  // With no agent yet, the mesh-wide setting is what the first one will get.
  for (const agent of names.length > 0 ? names : ['']) {
    const runtime = agent ? agentRuntime(project, agent) : project.mesh.runtime;
    wanted.set(runtime, [...(wanted.get(runtime) ?? []), ...(agent ? [agent] : [])]);
  }
  return wanted;
}

export function checkSandbox(probe: SandboxProbe, project: Project): CheckResult {
  if ('error' in probe) return skip(CHECK, `not checked: docker info failed (${probe.error})`);
  const gvisor = probe.engine.find((r) => r.name === GVISOR_RUNTIME);
  if (gvisor && gvisorLacksHostNetwork(gvisor)) {
    return warn(
      CHECK,
      `gVisor is registered with Docker without "runtimeArgs": ["--network=host"]: its containers fail with "cannot run with network enabled in root network namespace"`,
      `set the runsc entry in /etc/docker/daemon.json to ${GVISOR_DAEMON_JSON} (gVisor then uses the container's own network namespace, so Docker's network and legion's firewall still apply), then reload the engine: sudo kill -HUP $(pidof dockerd)`,
    );
  }
  const exposed: string[] = [];
  const used: string[] = [];
  for (const [wanted, agents] of wantedRuntimes(project)) {
    const choice = chooseRuntime(wanted, probe.engine);
    const who = agents.length > 0 ? agents.join(', ') : 'new agents';
    if (choice.action === 'unknown') {
      return fail(
        CHECK,
        `runtime "${wanted}" (for ${who}) is not registered with Docker, which knows: ${choice.known.join(', ') || 'none'}; legion start refuses it`,
        `set runtime: in config/mesh.yaml or config/agents.yaml to auto or one of those, or register "${wanted}" in /etc/docker/daemon.json and reload the engine`,
      );
    }
    (choice.sandboxed ? used : exposed).push(
      `${who} under ${choice.name}${wanted === choice.name ? '' : ` (${wanted})`}`,
    );
  }
  if (exposed.length === 0) return ok(CHECK, `agents run with a kernel of their own: ${used.join('; ')}`);
  const detail = `${exposed.join('; ')}: no sandboxing runtime, so a kernel exploit inside an agent reaches the host kernel`;
  if (gvisor)
    return warn(
      CHECK,
      detail,
      `gVisor is registered: set runtime: auto (or ${GVISOR_RUNTIME}) in config/mesh.yaml and config/agents.yaml, then restart the fleet (legion stop; legion start)`,
    );
  const installed = probe.gvisorBinary
    ? `gVisor is installed (${probe.gvisorBinary}) but not registered with Docker: `
    : '';
  return warn(CHECK, detail, `${installed}${GVISOR_HOWTO}`);
}
