// Doctor check of egress protection on the host: agents may reach only the mesh's two
// ports of this host, which takes iptables rules that legion installs itself when it
// runs as root (or with CAP_NET_ADMIN) (runtime/firewall.ts). A running mesh knows
// whether it installed them; otherwise this says whether `legion start` will be able
// to. Missing protection is a warning with the commands to run by hand, never a failure.
import type Docker from 'dockerode';
import {
  bridgeName,
  type FirewallHost,
  manualFirewallCommands,
  NETWORK_NAME,
  systemFirewallHost,
} from '../../mesh/host.js';
import type { HostIsolation } from '../../shared/wire/admin.js';
import { errorMessage, ok, skip, warn, type CheckResult } from './types.js';

const CHECK = 'egress protection';

export interface FirewallProbe {
  /** Why legion may not change the firewall, or null when it may. */
  missingRights: string | null;
  /** legion_internal's gateway and host bridge, when the network exists. */
  network: { gateway: string; bridge: string } | null;
  /** Whether that bridge is in this network namespace (not so with rootless Docker). */
  bridgePresent: boolean;
  /** Whether iptables runs, asked only when legion has the rights. */
  iptables: { usable: true } | { usable: false; reason: string } | null;
}

async function legionNetwork(docker: Docker | null): Promise<{ gateway: string; bridge: string } | null> {
  if (!docker) return null;
  try {
    const info = (await docker.getNetwork(NETWORK_NAME).inspect()) as {
      Id: string;
      Options?: Record<string, string>;
      IPAM?: { Config?: { Gateway?: string }[] };
    };
    const gateway = info.IPAM?.Config?.find((c) => c.Gateway)?.Gateway;
    if (!gateway) return null;
    return { gateway, bridge: bridgeName(info) };
  } catch {
    return null; // not created yet: legion start creates it
  }
}

/** `docker` is null when the engine is not reachable. */
export async function probeFirewall(
  docker: Docker | null,
  host: FirewallHost = systemFirewallHost,
): Promise<FirewallProbe> {
  const missingRights = host.missingRights();
  const network = await legionNetwork(docker);
  const bridgePresent = network !== null && host.interfaceExists(network.bridge);
  let iptables: FirewallProbe['iptables'] = null;
  if (missingRights === null) {
    try {
      const result = await host.iptables(['-S', 'INPUT']);
      iptables = result.ok ? { usable: true } : { usable: false, reason: `iptables -S INPUT failed: ${result.stderr}` };
    } catch (err) {
      iptables = { usable: false, reason: errorMessage(err) };
    }
  }
  return { missingRights, network, bridgePresent, iptables };
}

function byHand(probe: FirewallProbe, ports: number[]): string {
  const spec = {
    gateway: probe.network?.gateway ?? '<gateway of legion_internal>',
    bridge: probe.network?.bridge ?? '<bridge of legion_internal>',
    ports,
  };
  const note = probe.network
    ? ''
    : `\n(${NETWORK_NAME} does not exist yet; after the first legion start, \`docker network inspect ${NETWORK_NAME}\` shows its gateway and id, and its bridge is br-<first 12 characters of the id>)`;
  return `run legion as root (or with CAP_NET_ADMIN) and it installs the rules itself, or add them as root:\n${manualFirewallCommands(
    spec,
  )
    .map((line) => `  ${line}`)
    .join('\n')}${note}`;
}

/** `running` is the running mesh's own answer (null when no mesh of this project runs). */
export function checkEgressProtection(
  probe: FirewallProbe,
  ports: number[],
  running: HostIsolation | null | 'not containers',
): CheckResult {
  const portList = ports.join(', ');
  if (running === 'not containers') return skip(CHECK, 'the running mesh does not run its agents in containers');
  if (running) {
    if (running.enforced) return ok(CHECK, `the running mesh: ${running.detail}`);
    // The mesh's detail is "<why>, so agents can reach …. Start legion as root … or add them as root:" and the commands.
    const [first = '', ...commands] = running.detail.split('\n');
    const restart = 'restart legion as root (or with CAP_NET_ADMIN) and it installs the rules itself';
    return warn(
      CHECK,
      `the running mesh: ${first.replace(/\. Start legion as root.*$/, '')}`,
      commands.length > 0 ? `${restart}, or add them as root:\n${commands.join('\n')}` : restart,
    );
  }
  const exposed = `agents could reach every port of this host, not only the mesh's (${portList})`;
  if (probe.missingRights !== null) return warn(CHECK, `${probe.missingRights}, so ${exposed}`, byHand(probe, ports));
  if (probe.network && !probe.bridgePresent) {
    return warn(
      CHECK,
      `the bridge ${probe.network.bridge} of ${NETWORK_NAME} is not in this network namespace (rootless Docker, or Docker in a VM), so legion cannot filter it and ${exposed}`,
      "use a rootful Docker engine on this host for host isolation, or filter the VM's bridge there",
    );
  }
  if (probe.iptables && !probe.iptables.usable)
    return warn(
      CHECK,
      `${probe.iptables.reason}, so ${exposed}`,
      'install iptables (Debian/Ubuntu: sudo apt-get install iptables)',
    );
  return ok(
    CHECK,
    `legion may change the firewall: legion start lets agents reach only ports ${portList} of this host`,
  );
}
