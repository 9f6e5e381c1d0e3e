// Which OCI runtime an agent gets: auto takes gVisor when the engine has it registered,
// else runc (then start and status warn); any other name must be one the engine knows,
// else start refuses it with the known ones. Also how `docker info` is read, and the
// config keys that ask for a runtime.
import { describe, expect, it } from 'vitest';
import {
  chooseRuntime,
  engineRuntimes,
  gvisorLacksHostNetwork,
  isGvisor,
  isSandboxing,
} from '../../src/mesh/runtime/oci-runtime.js';
import { AgentsFileSchema, MeshFileSchema } from '../../src/shared/config/schema.js';
import { unsandboxedWarning } from '../../src/shared/sandbox.js';

const runc = { name: 'runc', path: 'runc', args: [] };
const runsc = { name: 'runsc', path: '/usr/bin/runsc', args: ['--network=host'] };
const kata = { name: 'kata', path: '/usr/bin/kata-runtime', args: [] };
const sysbox = { name: 'sysbox-runc', path: '/usr/bin/sysbox-runc', args: [] };

describe('chooseRuntime', () => {
  it('auto picks runsc when the engine has it registered', () => {
    expect(chooseRuntime('auto', [runc, runsc])).toEqual({ action: 'use', name: 'runsc', sandboxed: true });
  });

  it('auto falls back to runc, not sandboxed, when runsc is not registered', () => {
    expect(chooseRuntime('auto', [runc])).toEqual({ action: 'use', name: 'runc', sandboxed: false });
    // An engine whose info lists runc under its containerd names still runs runc.
    expect(chooseRuntime('auto', [{ name: 'io.containerd.runc.v2', path: 'runc', args: [] }])).toEqual({
      action: 'use',
      name: 'runc',
      sandboxed: false,
    });
  });

  it('takes a named runtime the engine knows, sandboxed when it brings its own kernel', () => {
    expect(chooseRuntime('runc', [runc, runsc])).toEqual({ action: 'use', name: 'runc', sandboxed: false });
    expect(chooseRuntime('runsc', [runc, runsc])).toEqual({ action: 'use', name: 'runsc', sandboxed: true });
    expect(chooseRuntime('kata', [runc, kata])).toEqual({ action: 'use', name: 'kata', sandboxed: true });
    expect(chooseRuntime('sysbox-runc', [runc, sysbox])).toEqual({
      action: 'use',
      name: 'sysbox-runc',
      sandboxed: false,
    });
  });

  it('refuses a name the engine does not know, with the ones it knows', () => {
    expect(chooseRuntime('runsc', [runc, sysbox])).toEqual({
      action: 'unknown',
      name: 'runsc',
      known: ['runc', 'sysbox-runc'],
    });
    expect(chooseRuntime('kata-runtime', [runsc, runc])).toEqual({
      action: 'unknown',
      name: 'kata-runtime',
      known: ['runc', 'runsc'],
    });
  });
});

describe('reading the engine', () => {
  it('reads the Runtimes of docker info with their paths and runtimeArgs', () => {
    const info = {
      Runtimes: {
        runc: { path: 'runc' },
        runsc: { path: '/usr/bin/runsc', runtimeArgs: ['--network=host'] },
        odd: null,
      },
    };
    expect(engineRuntimes(info)).toEqual([runc, runsc, { name: 'odd', path: 'odd', args: [] }]);
    expect(engineRuntimes({})).toEqual([]);
  });

  it('knows gVisor by its binary under any name', () => {
    expect(isSandboxing({ name: 'gvisor', path: '/usr/local/bin/runsc' })).toBe(true);
    expect(isSandboxing({ name: 'crun', path: '/usr/bin/crun' })).toBe(false);
  });

  it('sees gVisor registered without --network=host', () => {
    expect(gvisorLacksHostNetwork({ ...runsc, args: [] })).toBe(true);
    expect(gvisorLacksHostNetwork({ ...runsc, args: ['--debug'] })).toBe(true);
    expect(gvisorLacksHostNetwork(runsc)).toBe(false);
    expect(gvisorLacksHostNetwork({ ...runsc, args: ['--network', 'host'] })).toBe(false);
    expect(gvisorLacksHostNetwork(runc)).toBe(false);
  });
});

describe('isGvisor (which runtimes cannot load the execute-only server binary)', () => {
  it('knows gVisor by its name or its binary, and nothing else', () => {
    expect(isGvisor({ name: 'runsc', path: '/usr/bin/runsc' })).toBe(true);
    expect(isGvisor({ name: 'sandboxed', path: '/opt/gvisor/runsc' })).toBe(true);
    expect(isGvisor({ name: 'kata-runtime', path: '/usr/bin/kata-runtime' })).toBe(false);
    expect(isGvisor({ name: 'runc', path: 'runc' })).toBe(false);
  });
});

describe('the runtime config keys', () => {
  const llm = { default_model: 'openai/gpt-4o-mini' };

  it('default to auto in mesh.yaml and inherit it per agent', () => {
    expect(MeshFileSchema.parse({ llm }).runtime).toBe('auto');
    expect(MeshFileSchema.parse({ llm, runtime: 'kata-runtime' }).runtime).toBe('kata-runtime');
    expect(AgentsFileSchema.parse({ agents: { a: { role: 'r' } } }).agents.a?.runtime).toBeUndefined();
    expect(AgentsFileSchema.parse({ agents: { a: { role: 'r', runtime: 'runc' } } }).agents.a?.runtime).toBe('runc');
  });

  it('refuse a value that cannot be a runtime name, saying what is expected', () => {
    const result = MeshFileSchema.safeParse({ llm, runtime: 'run sc' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({
      path: ['runtime'],
      message: expect.stringContaining('expected auto, runc, runsc'),
    });
  });
});

describe('unsandboxedWarning', () => {
  it('is one line naming every exposed agent and its runtime, or nothing', () => {
    expect(unsandboxedWarning([])).toBeNull();
    const line = unsandboxedWarning([
      { name: 'a', runtime: 'runc' },
      { name: 'b', runtime: 'runc' },
    ]);
    expect(line).toMatch(/^warning: agents a \(runc\), b \(runc\) run without a sandboxing runtime: .*`legion doctor`/);
    expect(line).not.toContain('\n');
  });
});
