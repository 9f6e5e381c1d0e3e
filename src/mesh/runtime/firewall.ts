// Host isolation: an agent container may reach the mesh's two ports on the host and no
// other host port. A packet from a container to any address of the host (the gateway
// of legion_internal, and every other host address, since containers route through
// the gateway) is delivered through the host's INPUT chain, not FORWARD, so Docker's
// own isolation rules never see it (verified on Docker 20.10 with iptables-nft). The
// rules, all tagged with the comment `legion`:
//   iptables -N LEGION-HOST
//   iptables -I LEGION-HOST 1 -d <gateway>/32 -p tcp -m multiport --dports <api>,<egress> -m comment --comment legion -j ACCEPT
//   iptables -I LEGION-HOST 1 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment legion -j ACCEPT
//   iptables -A LEGION-HOST -m comment --comment legion -j REJECT --reject-with icmp-port-unreachable
//   iptables -I INPUT 1 -i <bridge> -m comment --comment legion -j LEGION-HOST
// Invariants: every rule is checked (-C) before it is added, so installing again adds
// nothing; each running mesh owns exactly one port rule and the REJECT rule stays after
// every port rule (port rules are inserted at the top, REJECT only ever appended);
// `remove` deletes the mesh's own port rule and, when no other mesh's port rule is
// left, the jump and the chain, so stopped meshes leave nothing behind; changes are
// serialized between legion processes by a lock file. Without the rights (root or
// CAP_NET_ADMIN) or iptables, nothing is changed and the answer says so, with the
// commands an administrator can run instead.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LegionError } from '../../shared/errors.js';
import type { HostIsolation } from '../../shared/wire/admin.js';

export const FIREWALL_CHAIN = 'LEGION-HOST';
const TAG = ['-m', 'comment', '--comment', 'legion'];
const CAP_NET_ADMIN = 12n;
const LOCK_WAIT_MS = 15_000;
const LOCK_STALE_MS = 30_000;

export interface HostFirewallSpec {
  /** Host interface of legion_internal (br-<network id>): what arrives on it is an agent's. */
  bridge: string;
  /** The host's address on legion_internal, where the mesh listens for agents. */
  gateway: string;
  /** The agent API and egress proxy ports: the only host ports agents may reach. */
  ports: number[];
}

export interface IptablesResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

export type Iptables = (args: string[]) => Promise<IptablesResult>;

/** Everything the firewall code touches on the host, so tests can stand in for it. */
export interface FirewallHost {
  iptables: Iptables;
  /** Why this process may not change the firewall, or null when it may. */
  missingRights: () => string | null;
  interfaceExists: (name: string) => boolean;
  lockPath: string;
}

export function firewallRules(spec: HostFirewallSpec): {
  meshPorts: string[];
  established: string[];
  reject: string[];
  jump: string[];
} {
  return {
    meshPorts: [
      '-d',
      `${spec.gateway}/32`,
      '-p',
      'tcp',
      '-m',
      'multiport',
      '--dports',
      spec.ports.join(','),
      ...TAG,
      '-j',
      'ACCEPT',
    ],
    established: ['-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', ...TAG, '-j', 'ACCEPT'],
    reject: [...TAG, '-j', 'REJECT', '--reject-with', 'icmp-port-unreachable'],
    jump: ['-i', spec.bridge, ...TAG, '-j', FIREWALL_CHAIN],
  };
}

/** The same rules as shell commands, for an administrator to run by hand. */
export function manualFirewallCommands(spec: HostFirewallSpec): string[] {
  const rules = firewallRules(spec);
  return [
    `iptables -N ${FIREWALL_CHAIN}`,
    `iptables -A ${FIREWALL_CHAIN} ${rules.established.join(' ')}`,
    `iptables -A ${FIREWALL_CHAIN} ${rules.meshPorts.join(' ')}`,
    `iptables -A ${FIREWALL_CHAIN} ${rules.reject.join(' ')}`,
    `iptables -I INPUT 1 ${rules.jump.join(' ')}`,
  ];
}

/** Root, or CAP_NET_ADMIN in the effective set, on Linux. */
export function missingFirewallRights(
  platform: NodeJS.Platform = process.platform,
  procStatus: () => string = () => readFileSync('/proc/self/status', 'utf8'),
): string | null {
  if (platform !== 'linux') return `host firewall rules are only installed on Linux (this is ${platform})`;
  let effective: bigint;
  try {
    const hex = /^CapEff:\s*([0-9a-f]+)\s*$/m.exec(procStatus())?.[1];
    if (!hex) return 'cannot tell whether legion may change the firewall (no CapEff in /proc/self/status)';
    effective = BigInt(`0x${hex}`);
  } catch (err) {
    return `cannot tell whether legion may change the firewall (${err instanceof Error ? err.message : String(err)})`;
  }
  return (effective >> CAP_NET_ADMIN) & 1n ? null : 'legion runs without root or CAP_NET_ADMIN';
}

export const systemIptables: Iptables = (args) =>
  new Promise((resolve, reject) => {
    execFile('iptables', ['-w', '5', ...args], { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err && err.code === 'ENOENT') {
        reject(
          new LegionError('iptables_missing', 'iptables is not installed (Debian/Ubuntu: apt-get install iptables)'),
        );
        return;
      }
      resolve({ ok: !err, stdout, stderr: stderr.trim() || (err ? err.message : '') });
    });
  });

export const systemFirewallHost: FirewallHost = {
  iptables: systemIptables,
  missingRights: () => missingFirewallRights(),
  interfaceExists: (name) => existsSync(`/sys/class/net/${name}`),
  lockPath: existsSync('/run') ? '/run/legion-firewall.lock' : join(tmpdir(), 'legion-firewall.lock'),
};

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === code;
}

function lockIsStale(path: string): boolean {
  try {
    const age = Date.now() - statSync(path).mtimeMs;
    if (age > LOCK_STALE_MS) return true;
    const pid = Number(readFileSync(path, 'utf8').trim());
    // An empty file is a lock being written right now.
    if (!Number.isInteger(pid) || pid <= 0) return age > 1_000;
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return isErrno(err, 'ESRCH');
  }
}

/** Runs `work` while holding the lock file; meshes of other projects may be changing the same chain. */
async function withLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
      if (lockIsStale(path)) {
        rmSync(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new LegionError(
          'firewall_locked',
          `another legion process has held ${path} for over ${LOCK_WAIT_MS / 1000} s; if no legion is starting or stopping, delete that file`,
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(path, { force: true });
  }
}

async function must(iptables: Iptables, args: string[]): Promise<void> {
  const result = await iptables(args);
  if (!result.ok) throw new LegionError('firewall_failed', `iptables ${args.join(' ')} failed: ${result.stderr}`);
}

async function has(iptables: Iptables, chain: string, rule: string[]): Promise<boolean> {
  return (await iptables(['-C', chain, ...rule])).ok;
}

function unprotected(spec: HostFirewallSpec, why: string): HostIsolation {
  return {
    enforced: false,
    detail: `${why}, so agents can reach every port of this host through ${spec.gateway}, not only the mesh's (${spec.ports.join(', ')}). Start legion as root (or with CAP_NET_ADMIN) and it installs the firewall rules itself, or add them as root:\n${manualFirewallCommands(
      spec,
    )
      .map((line) => `  ${line}`)
      .join('\n')}`,
  };
}

/** Installs the rules for one mesh; never throws: a failure is an unenforced answer that says why. */
export async function installHostFirewall(
  spec: HostFirewallSpec,
  host: FirewallHost = systemFirewallHost,
): Promise<HostIsolation> {
  const missing = host.missingRights();
  if (missing) return unprotected(spec, missing);
  if (!host.interfaceExists(spec.bridge)) {
    return unprotected(
      spec,
      `the bridge ${spec.bridge} of legion_internal is not in this network namespace (rootless Docker, or Docker in a VM), so legion cannot filter it`,
    );
  }
  const { iptables } = host;
  const rules = firewallRules(spec);
  try {
    await withLock(host.lockPath, async () => {
      if (!(await iptables(['-S', FIREWALL_CHAIN])).ok) await must(iptables, ['-N', FIREWALL_CHAIN]);
      if (!(await has(iptables, FIREWALL_CHAIN, rules.meshPorts)))
        await must(iptables, ['-I', FIREWALL_CHAIN, '1', ...rules.meshPorts]);
      if (!(await has(iptables, FIREWALL_CHAIN, rules.established)))
        await must(iptables, ['-I', FIREWALL_CHAIN, '1', ...rules.established]);
      if (!(await has(iptables, FIREWALL_CHAIN, rules.reject)))
        await must(iptables, ['-A', FIREWALL_CHAIN, ...rules.reject]);
      if (!(await has(iptables, 'INPUT', rules.jump))) await must(iptables, ['-I', 'INPUT', '1', ...rules.jump]);
    });
  } catch (err) {
    return unprotected(
      spec,
      `installing the firewall rules failed (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  return {
    enforced: true,
    detail: `agents reach only ports ${spec.ports.join(', ')} on this host (iptables chain ${FIREWALL_CHAIN} for ${spec.bridge})`,
  };
}

function isPortRule(line: string): boolean {
  return line.startsWith(`-A ${FIREWALL_CHAIN} `) && /--dports? /.test(line) && line.endsWith('-j ACCEPT');
}

/** Removes this mesh's port rule, and the whole chain once no mesh's port rule is left. */
export async function removeHostFirewall(
  spec: HostFirewallSpec,
  host: FirewallHost = systemFirewallHost,
): Promise<void> {
  const { iptables } = host;
  await withLock(host.lockPath, async () => {
    // Already gone (removed by hand, or a firewall reload) is as good as removed.
    await iptables(['-D', FIREWALL_CHAIN, ...firewallRules(spec).meshPorts]);
    const chain = await iptables(['-S', FIREWALL_CHAIN]);
    if (!chain.ok || chain.stdout.split('\n').some(isPortRule)) return;
    const input = await iptables(['-S', 'INPUT']);
    for (const line of input.stdout.split('\n')) {
      if (line.startsWith('-A INPUT ') && line.split(' ').includes(FIREWALL_CHAIN)) {
        await must(iptables, ['-D', 'INPUT', ...line.slice('-A INPUT '.length).trim().split(' ')]);
      }
    }
    await must(iptables, ['-F', FIREWALL_CHAIN]);
    await must(iptables, ['-X', FIREWALL_CHAIN]);
  });
}
