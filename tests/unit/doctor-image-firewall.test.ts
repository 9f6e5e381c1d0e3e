// legion doctor's agent image and egress protection checks, from what their probes
// found: a missing or stale image is a warning with `legion image build`; missing
// firewall rights are a warning with the exact commands to run as root.
import { describe, expect, it } from 'vitest';
import { checkBrowserImage, checkImage } from '../../src/cli/doctor/image.js';
import { checkEgressProtection, probeFirewall, type FirewallProbe } from '../../src/cli/doctor/firewall.js';
import type { FirewallHost } from '../../src/mesh/runtime/firewall.js';

const spec = { baseImage: 'node:20-bookworm-slim', extraCaPath: null };

describe('checkImage', () => {
  it('passes when the image of this code is present', () => {
    expect(checkImage({ tag: 'legion-agent:aaa', present: true, others: [] }, spec)).toEqual({
      check: 'agent image',
      status: 'ok',
      detail: 'legion-agent:aaa (this code, from node:20-bookworm-slim) is present',
    });
  });

  it('warns about a missing or stale image with legion image build', () => {
    const missing = checkImage({ tag: 'legion-agent:aaa', present: false, others: [] }, spec);
    expect(missing).toMatchObject({
      status: 'warn',
      detail: 'legion-agent:aaa (this code, from node:20-bookworm-slim) is not built yet',
    });
    expect(missing.hint).toMatch(/^legion image build/);
    const stale = checkImage(
      {
        tag: 'legion-agent:aaa',
        present: false,
        others: ['legion-agent:bbb', 'legion-agent:ccc', 'legion-agent:ddd', 'legion-agent:eee'],
      },
      { ...spec, extraCaPath: '/etc/ca.pem' },
    );
    expect(stale).toMatchObject({
      status: 'warn',
      detail:
        'stale: legion-agent:aaa (this code, from node:20-bookworm-slim with the CA bundle /etc/ca.pem) is not built; Docker holds only builds of other code or settings (legion-agent:bbb, legion-agent:ccc, legion-agent:ddd, …)',
    });
    expect(stale.hint).toMatch(/^legion image build/);
  });

  it('fails when legion itself is not compiled, or the CA bundle cannot be read', () => {
    expect(checkImage({ error: 'the agent server is not compiled', notBuilt: true }, spec)).toMatchObject({
      status: 'fail',
      hint: 'build legion first: npm run build',
    });
    expect(
      checkImage({ error: "ENOENT: no such file or directory, open '/nope.pem'", notBuilt: false }, spec).hint,
    ).toContain('image.extra_ca_cert');
  });
});

describe('checkBrowserImage', () => {
  const tag = 'legion-agent-browser:aaa';
  it('passes when the browser variant of this code is present, naming the agents that use it', () => {
    expect(checkBrowserImage({ tag, present: true, others: [] }, spec, ['surfer'])).toEqual({
      check: 'browser image',
      status: 'ok',
      detail: 'legion-agent-browser:aaa (Chromium, this code, from node:20-bookworm-slim) is present, for surfer',
    });
  });

  it('warns when an agent has browser: true and the variant is missing or stale, with legion image build --browser', () => {
    const missing = checkBrowserImage({ tag, present: false, others: [] }, spec, ['surfer', 'reader']);
    expect(missing).toMatchObject({
      status: 'warn',
      detail:
        'legion-agent-browser:aaa (Chromium, this code, from node:20-bookworm-slim) is not built yet, for surfer, reader',
    });
    expect(missing.hint).toMatch(/^legion image build --browser/);
    const stale = checkBrowserImage({ tag, present: false, others: ['legion-agent-browser:bbb'] }, spec, ['surfer']);
    expect(stale).toMatchObject({ status: 'warn' });
    expect(stale.detail).toMatch(/^stale: .*\(legion-agent-browser:bbb\)$/);
  });

  it('only informs when no agent needs a browser', () => {
    expect(checkBrowserImage({ tag, present: false, others: [] }, spec, [])).toMatchObject({
      status: 'ok',
      detail: 'not needed: no agent has browser: true (legion-agent-browser:aaa is not built)',
    });
  });
});

const PORTS = [8420, 8421];
const rootless: FirewallProbe = {
  missingRights: 'legion runs without root or CAP_NET_ADMIN',
  network: { gateway: '172.19.0.1', bridge: 'br-0123456789ab' },
  bridgePresent: true,
  iptables: null,
};

describe('checkEgressProtection', () => {
  it('passes when legion may install the host firewall', () => {
    const probe: FirewallProbe = {
      missingRights: null,
      network: null,
      bridgePresent: false,
      iptables: { usable: true },
    };
    expect(checkEgressProtection(probe, PORTS, null)).toEqual({
      check: 'egress protection',
      status: 'ok',
      detail: 'legion may change the firewall: legion start lets agents reach only ports 8420, 8421 of this host',
    });
  });

  it('warns without the rights, with the commands for this network', () => {
    const result = checkEgressProtection(rootless, PORTS, null);
    expect(result.status).toBe('warn');
    expect(result.detail).toBe(
      "legion runs without root or CAP_NET_ADMIN, so agents could reach every port of this host, not only the mesh's (8420, 8421)",
    );
    expect(result.hint).toContain(
      'iptables -A LEGION-HOST -d 172.19.0.1/32 -p tcp -m multiport --dports 8420,8421 -m comment --comment legion -j ACCEPT',
    );
    expect(result.hint).toContain('iptables -I INPUT 1 -i br-0123456789ab -m comment --comment legion -j LEGION-HOST');
  });

  it('names placeholders when the legion network does not exist yet', () => {
    const result = checkEgressProtection({ ...rootless, network: null, bridgePresent: false }, PORTS, null);
    expect(result.hint).toContain('-d <gateway of legion_internal>/32');
    expect(result.hint).toContain('legion_internal does not exist yet');
  });

  it('warns when iptables is missing or the bridge is out of reach', () => {
    const noIptables = checkEgressProtection(
      {
        missingRights: null,
        network: null,
        bridgePresent: false,
        iptables: { usable: false, reason: 'iptables is not installed (Debian/Ubuntu: apt-get install iptables)' },
      },
      PORTS,
      null,
    );
    expect(noIptables).toMatchObject({
      status: 'warn',
      hint: 'install iptables (Debian/Ubuntu: sudo apt-get install iptables)',
    });
    const elsewhere = checkEgressProtection(
      {
        missingRights: null,
        network: { gateway: '172.19.0.1', bridge: 'br-x' },
        bridgePresent: false,
        iptables: { usable: true },
      },
      PORTS,
      null,
    );
    expect(elsewhere).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('the bridge br-x of legion_internal is not in this network namespace'),
    });
  });

  it('reports what the running mesh did', () => {
    expect(
      checkEgressProtection(rootless, PORTS, {
        enforced: true,
        detail: 'agents reach only ports 8420, 8421 on this host (iptables chain LEGION-HOST for br-x)',
      }),
    ).toMatchObject({
      status: 'ok',
      detail: 'the running mesh: agents reach only ports 8420, 8421 on this host (iptables chain LEGION-HOST for br-x)',
    });
    const detail =
      "legion runs without root or CAP_NET_ADMIN, so agents can reach every port of this host through 172.19.0.1, not only the mesh's (8420, 8421). Start legion as root (or with CAP_NET_ADMIN) and it installs the firewall rules itself, or add them as root:\n  iptables -N LEGION-HOST";
    const result = checkEgressProtection(rootless, PORTS, { enforced: false, detail });
    expect(result).toEqual({
      check: 'egress protection',
      status: 'warn',
      detail:
        "the running mesh: legion runs without root or CAP_NET_ADMIN, so agents can reach every port of this host through 172.19.0.1, not only the mesh's (8420, 8421)",
      hint: 'restart legion as root (or with CAP_NET_ADMIN) and it installs the rules itself, or add them as root:\n  iptables -N LEGION-HOST',
    });
    expect(checkEgressProtection(rootless, PORTS, 'not containers').status).toBe('skip');
  });
});

describe('probeFirewall', () => {
  const host = (missing: string | null, iptablesOk: boolean): FirewallHost => ({
    missingRights: () => missing,
    interfaceExists: () => true,
    lockPath: '/nonexistent/lock',
    iptables: async () => ({
      ok: iptablesOk,
      stdout: '',
      stderr: iptablesOk ? '' : 'Permission denied (you must be root)',
    }),
  });

  it('asks iptables only when legion has the rights', async () => {
    expect(await probeFirewall(null, host('legion runs without root or CAP_NET_ADMIN', true))).toEqual({
      missingRights: 'legion runs without root or CAP_NET_ADMIN',
      network: null,
      bridgePresent: false,
      iptables: null,
    });
    expect((await probeFirewall(null, host(null, true))).iptables).toEqual({ usable: true });
    expect((await probeFirewall(null, host(null, false))).iptables).toEqual({
      usable: false,
      reason: 'iptables -S INPUT failed: Permission denied (you must be root)',
    });
  });
});
