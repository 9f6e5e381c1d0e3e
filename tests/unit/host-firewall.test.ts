// The host firewall's bookkeeping against an in-memory iptables that keeps rule order:
// idempotent install, REJECT after every port rule, meshes of several projects side by
// side, removal that leaves nothing once the last mesh stops, and plain answers (with
// the commands to run by hand) when legion lacks the rights or iptables fails. The
// real iptables is exercised by tests/e2e/egress.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  FIREWALL_CHAIN,
  installHostFirewall,
  manualFirewallCommands,
  missingFirewallRights,
  removeHostFirewall,
  type FirewallHost,
  type HostFirewallSpec,
  type Iptables,
} from '../../src/mesh/runtime/firewall.js';

/** Just enough of iptables: -S -N -C -I <n> -A -D -F -X on ordered chains. */
class FakeIptables {
  readonly chains = new Map<string, string[]>([['INPUT', []]]);
  readonly calls: string[][] = [];
  failOn: string | null = null;

  run: Iptables = async (args) => {
    this.calls.push(args);
    const [op, chain = '', ...rest] = args;
    const fail = (stderr: string) => ({ ok: false, stdout: '', stderr });
    if (this.failOn && op === this.failOn) return fail('iptables: Permission denied (you must be root).');
    const rules = this.chains.get(chain);
    const ok = (stdout = '') => ({ ok: true, stdout, stderr: '' });
    switch (op) {
      case '-N':
        if (rules) return fail('iptables: Chain already exists.');
        this.chains.set(chain, []);
        return ok();
      case '-S':
        if (!rules) return fail('iptables: No chain/target/match by that name.');
        return ok(
          [chain === 'INPUT' ? '-P INPUT ACCEPT' : `-N ${chain}`, ...rules.map((r) => `-A ${chain} ${r}`)].join('\n') +
            '\n',
        );
      case '-C':
        return rules?.includes(rest.join(' '))
          ? ok()
          : fail('iptables: Bad rule (does a matching rule exist in that chain?).');
      case '-I': {
        if (!rules) return fail('iptables: No chain/target/match by that name.');
        rules.splice(Number(rest[0]) - 1, 0, rest.slice(1).join(' '));
        return ok();
      }
      case '-A':
        if (!rules) return fail('iptables: No chain/target/match by that name.');
        rules.push(rest.join(' '));
        return ok();
      case '-D': {
        const at = rules?.indexOf(rest.join(' ')) ?? -1;
        if (!rules || at < 0) return fail('iptables: Bad rule (does a matching rule exist in that chain?).');
        rules.splice(at, 1);
        return ok();
      }
      case '-F':
        if (!rules) return fail('iptables: No chain/target/match by that name.');
        rules.length = 0;
        return ok();
      case '-X': {
        const referenced = [...this.chains.values()].some((list) => list.some((r) => r.endsWith(`-j ${chain}`)));
        if (!rules || rules.length > 0 || referenced) return fail('iptables: Directory not empty.');
        this.chains.delete(chain);
        return ok();
      }
      default:
        return fail(`unknown option ${op}`);
    }
  };
}

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function host(iptables: FakeIptables, overrides: Partial<FirewallHost> = {}): FirewallHost {
  const dir = mkdtempSync(join(tmpdir(), 'legion-firewall-'));
  dirs.push(dir);
  return {
    iptables: iptables.run,
    missingRights: () => null,
    interfaceExists: () => true,
    lockPath: join(dir, 'lock'),
    ...overrides,
  };
}

const MESH_A: HostFirewallSpec = { bridge: 'br-47dbb09481c7', gateway: '172.19.0.1', ports: [8420, 8421] };
const MESH_B: HostFirewallSpec = { ...MESH_A, ports: [9430, 9431] };
const TAG = '-m comment --comment legion';

describe('installHostFirewall', () => {
  it('installs the chain, its rules in order and one jump from INPUT', async () => {
    const fake = new FakeIptables();
    const result = await installHostFirewall(MESH_A, host(fake));
    expect(result).toEqual({
      enforced: true,
      detail: `agents reach only ports 8420, 8421 on this host (iptables chain ${FIREWALL_CHAIN} for br-47dbb09481c7)`,
    });
    expect(fake.chains.get(FIREWALL_CHAIN)).toEqual([
      `-m conntrack --ctstate RELATED,ESTABLISHED ${TAG} -j ACCEPT`,
      `-d 172.19.0.1/32 -p tcp -m multiport --dports 8420,8421 ${TAG} -j ACCEPT`,
      `${TAG} -j REJECT --reject-with icmp-port-unreachable`,
    ]);
    expect(fake.chains.get('INPUT')).toEqual([`-i br-47dbb09481c7 ${TAG} -j ${FIREWALL_CHAIN}`]);
  });

  it('adds nothing when run again', async () => {
    const fake = new FakeIptables();
    const h = host(fake);
    await installHostFirewall(MESH_A, h);
    const before = structuredClone([...fake.chains]);
    expect((await installHostFirewall(MESH_A, h)).enforced).toBe(true);
    expect([...fake.chains]).toEqual(before);
    expect(fake.calls.filter((c) => c[0] === '-I' || c[0] === '-A' || c[0] === '-N')).toHaveLength(5);
  });

  it('keeps REJECT after the port rules of every mesh', async () => {
    const fake = new FakeIptables();
    const h = host(fake);
    await installHostFirewall(MESH_A, h);
    await installHostFirewall(MESH_B, h);
    const rules = fake.chains.get(FIREWALL_CHAIN) ?? [];
    expect(rules.at(-1)).toMatch(/-j REJECT/);
    expect(rules.filter((r) => r.includes('--dports'))).toEqual([
      `-d 172.19.0.1/32 -p tcp -m multiport --dports 9430,9431 ${TAG} -j ACCEPT`,
      `-d 172.19.0.1/32 -p tcp -m multiport --dports 8420,8421 ${TAG} -j ACCEPT`,
    ]);
    expect(fake.chains.get('INPUT')).toHaveLength(1);
  });

  it('changes nothing without the rights, and says how to fix it', async () => {
    const fake = new FakeIptables();
    const result = await installHostFirewall(
      MESH_A,
      host(fake, { missingRights: () => 'legion runs without root or CAP_NET_ADMIN' }),
    );
    expect(result.enforced).toBe(false);
    expect(result.detail).toMatch(
      /^legion runs without root or CAP_NET_ADMIN, so agents can reach every port of this host through 172\.19\.0\.1, not only the mesh's \(8420, 8421\)/,
    );
    expect(result.detail).toContain('Start legion as root');
    for (const command of manualFirewallCommands(MESH_A)) expect(result.detail).toContain(command);
    expect(fake.calls).toEqual([]);
  });

  it('refuses to pretend when the bridge is not in this network namespace', async () => {
    const fake = new FakeIptables();
    const result = await installHostFirewall(MESH_A, host(fake, { interfaceExists: () => false }));
    expect(result.enforced).toBe(false);
    expect(result.detail).toMatch(/bridge br-47dbb09481c7 of legion_internal is not in this network namespace/);
    expect(fake.calls).toEqual([]);
  });

  it('answers unenforced, with the iptables error, when a rule cannot be added', async () => {
    const fake = new FakeIptables();
    fake.failOn = '-N';
    const result = await installHostFirewall(MESH_A, host(fake));
    expect(result.enforced).toBe(false);
    expect(result.detail).toMatch(
      /installing the firewall rules failed \(iptables -N LEGION-HOST failed: iptables: Permission denied/,
    );
  });

  it('waits for a lock held by a live process and takes over one left by a dead process', async () => {
    const fake = new FakeIptables();
    const h = host(fake);
    writeFileSync(h.lockPath, '999999999\n');
    expect((await installHostFirewall(MESH_A, h)).enforced).toBe(true);
    writeFileSync(h.lockPath, `${process.pid}\n`);
    const pending = installHostFirewall(MESH_B, h);
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.chains.get(FIREWALL_CHAIN)?.some((r) => r.includes('9430'))).toBe(false);
    rmSync(h.lockPath);
    expect((await pending).enforced).toBe(true);
  });
});

describe('removeHostFirewall', () => {
  it('removes only its own port rule while another mesh still runs, then everything', async () => {
    const fake = new FakeIptables();
    fake.chains.get('INPUT')?.push('-i eth0 -p tcp --dport 22 -j ACCEPT');
    const h = host(fake);
    await installHostFirewall(MESH_A, h);
    await installHostFirewall(MESH_B, h);
    await removeHostFirewall(MESH_A, h);
    expect(fake.chains.get(FIREWALL_CHAIN)?.filter((r) => r.includes('--dports'))).toEqual([
      `-d 172.19.0.1/32 -p tcp -m multiport --dports 9430,9431 ${TAG} -j ACCEPT`,
    ]);
    expect(fake.chains.get(FIREWALL_CHAIN)?.at(-1)).toMatch(/-j REJECT/);
    await removeHostFirewall(MESH_B, h);
    expect(fake.chains.has(FIREWALL_CHAIN)).toBe(false);
    expect(fake.chains.get('INPUT')).toEqual(['-i eth0 -p tcp --dport 22 -j ACCEPT']);
  });

  it('also removes jumps left for an earlier bridge, and is a no-op when nothing is installed', async () => {
    const fake = new FakeIptables();
    const h = host(fake);
    await installHostFirewall({ ...MESH_A, bridge: 'br-000000000000' }, h);
    await installHostFirewall(MESH_A, h);
    await removeHostFirewall(MESH_A, h);
    await removeHostFirewall({ ...MESH_A, bridge: 'br-000000000000' }, h);
    expect(fake.chains.has(FIREWALL_CHAIN)).toBe(false);
    expect(fake.chains.get('INPUT')).toEqual([]);
    await removeHostFirewall(MESH_A, h);
    expect(fake.chains.has(FIREWALL_CHAIN)).toBe(false);
  });
});

describe('missingFirewallRights', () => {
  const status = (capEff: string) => () => `Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\n`;

  it('accepts CAP_NET_ADMIN (bit 12) alone, as root has it', () => {
    expect(missingFirewallRights('linux', status('000001fffeffffff'))).toBeNull();
    expect(missingFirewallRights('linux', status('0000000000001000'))).toBeNull();
  });

  it('names what is missing', () => {
    expect(missingFirewallRights('linux', status('0000000000000000'))).toBe(
      'legion runs without root or CAP_NET_ADMIN',
    );
    expect(missingFirewallRights('linux', status('0000000000002fff'))).toBe(
      'legion runs without root or CAP_NET_ADMIN',
    );
    expect(missingFirewallRights('darwin', status('000001fffeffffff'))).toMatch(
      /only installed on Linux \(this is darwin\)/,
    );
    expect(missingFirewallRights('linux', () => 'Name:\tnode\n')).toMatch(/no CapEff/);
  });
});
