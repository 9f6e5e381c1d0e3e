// legion doctor's agent sandbox check, from what docker info said: an unknown runtime
// fails (start refuses it); agents under runc warn with how to get gVisor (install,
// daemon.json with --network=host, reload, config line); gVisor registered without
// --network=host warns with the entry that fixes it.
import { describe, expect, it } from 'vitest';
import { checkSandbox } from '../../src/cli/doctor/sandbox.js';
import type { Project } from '../../src/shared/config/project.js';
import { AgentsFileSchema, MeshFileSchema } from '../../src/shared/config/schema.js';

const runc = { name: 'runc', path: 'runc', args: [] };
const runsc = { name: 'runsc', path: '/usr/bin/runsc', args: ['--network=host'] };

function project(runtime: string | undefined, agents: Record<string, { role: string; runtime?: string }>): Project {
  return {
    dir: '/nowhere',
    mesh: MeshFileSchema.parse({ llm: { default_model: 'openai/gpt-4o-mini' }, ...(runtime ? { runtime } : {}) }),
    agents: AgentsFileSchema.parse({ agents }).agents,
    projectMd: '',
    env: {},
  };
}

describe('checkSandbox', () => {
  it('passes when auto finds gVisor', () => {
    expect(
      checkSandbox({ engine: [runc, runsc], gvisorBinary: '/usr/bin/runsc' }, project(undefined, { a: { role: 'r' } })),
    ).toEqual({
      check: 'agent sandbox',
      status: 'ok',
      detail: 'agents run with a kernel of their own: a under runsc (auto)',
    });
  });

  it('warns when auto falls back to runc, with every step to get gVisor', () => {
    const result = checkSandbox(
      { engine: [runc], gvisorBinary: null },
      project(undefined, { a: { role: 'r' }, b: { role: 'r' } }),
    );
    expect(result).toMatchObject({
      status: 'warn',
      detail:
        'a, b under runc (auto): no sandboxing runtime, so a kernel exploit inside an agent reaches the host kernel',
    });
    expect(result.hint).toContain('apt-get install runsc');
    expect(result.hint).toContain('"runtimeArgs": ["--network=host"]');
    expect(result.hint).toContain('kill -HUP $(pidof dockerd)');
    expect(result.hint).toContain('runtime: auto');
  });

  it('says when gVisor is installed but not registered', () => {
    const result = checkSandbox({ engine: [runc], gvisorBinary: '/usr/bin/runsc' }, project(undefined, {}));
    expect(result.detail).toContain('new agents under runc (auto)');
    expect(result.hint).toMatch(/^gVisor is installed \(\/usr\/bin\/runsc\) but not registered with Docker: /);
  });

  it('warns about an agent pinned to runc where gVisor is registered, naming the config line', () => {
    const result = checkSandbox(
      { engine: [runc, runsc], gvisorBinary: null },
      project('runsc', { a: { role: 'r' }, b: { role: 'r', runtime: 'runc' } }),
    );
    expect(result).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/^b under runc: no sandboxing runtime/),
    });
    expect(result.hint).toMatch(/^gVisor is registered: set runtime: auto/);
  });

  it('fails on a runtime the engine does not know, listing the known ones', () => {
    const result = checkSandbox(
      { engine: [runc, runsc], gvisorBinary: null },
      project(undefined, { a: { role: 'r', runtime: 'kata-runtime' } }),
    );
    expect(result).toMatchObject({
      status: 'fail',
      detail:
        'runtime "kata-runtime" (for a) is not registered with Docker, which knows: runc, runsc; legion start refuses it',
    });
  });

  it('warns when gVisor is registered without --network=host', () => {
    const result = checkSandbox(
      { engine: [runc, { ...runsc, args: [] }], gvisorBinary: null },
      project(undefined, { a: { role: 'r' } }),
    );
    expect(result).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('cannot run with network enabled in root network namespace'),
    });
    expect(result.hint).toContain('"runtimeArgs": ["--network=host"]');
  });

  it('skips when docker info fails', () => {
    expect(checkSandbox({ error: 'timeout' }, project(undefined, {}))).toMatchObject({ status: 'skip' });
  });
});
