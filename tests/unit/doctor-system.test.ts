// legion doctor's machine checks: the Node version against the engines field, and the
// Docker engine, probed for real at a socket nothing listens on.
import { describe, expect, it } from 'vitest';
import Docker from 'dockerode';
import { checkDocker, checkNode, probeDocker } from '../../src/cli/doctor/system.js';

describe('checkNode', () => {
  it('passes a version at or above the minimum and fails an older one with how to upgrade', () => {
    expect(checkNode('v20.20.2', '>=20')).toMatchObject({ status: 'ok', detail: 'Node v20.20.2 (legion needs >=20)' });
    expect(checkNode('v22.1.0', '>=20.3')).toMatchObject({ status: 'ok' });
    expect(checkNode('v20.3.0', '>=20.3.0')).toMatchObject({ status: 'ok' });
    expect(checkNode('v20.2.9', '>=20.3')).toMatchObject({
      status: 'fail',
      detail: 'Node v20.2.9 is too old: legion needs >=20.3',
    });
    const old = checkNode('v18.19.0', '>=20');
    expect(old).toMatchObject({ check: 'node', status: 'fail', detail: 'Node v18.19.0 is too old: legion needs >=20' });
    expect(old.hint).toContain('install Node 20 or newer');
  });

  it('says so when the engines field has no minimum it understands', () => {
    expect(checkNode('v20.0.0', '^20 || ^22')).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('no minimum of the form >=X'),
    });
    expect(checkNode('v20.0.0', undefined)).toMatchObject({ status: 'ok' });
  });
});

describe('checkDocker', () => {
  it('reports a reachable engine with its version and where it was reached', () => {
    const probe = { reachable: true as const, version: '27.1.1', apiVersion: '1.46', os: 'linux', arch: 'amd64' };
    expect(checkDocker(probe, {}, 'linux')).toEqual({
      check: 'docker',
      status: 'ok',
      detail: 'Docker 27.1.1 (API 1.46, linux/amd64) at the default socket',
    });
    expect(checkDocker(probe, { DOCKER_HOST: 'tcp://10.0.0.2:2375' }, 'linux').detail).toContain(
      'at DOCKER_HOST=tcp://10.0.0.2:2375',
    );
  });

  it('fails a stopped engine, with how to start it on this platform', async () => {
    const probe = await probeDocker(new Docker({ socketPath: '/tmp/legion-doctor-nothing-here.sock' }));
    expect(probe.reachable).toBe(false);
    const linux = checkDocker(probe, { DOCKER_HOST: 'unix:///tmp/legion-doctor-nothing-here.sock' }, 'linux');
    expect(linux.status).toBe('fail');
    expect(linux.detail).toMatch(
      /^Docker is not reachable at DOCKER_HOST=unix:\/\/\/tmp\/legion-doctor-nothing-here\.sock: .*ENOENT/,
    );
    expect(linux.hint).toBe(
      'start the Docker engine: sudo systemctl start docker, or point DOCKER_HOST at a running engine (unset it for the default socket)',
    );
    expect(checkDocker(probe, {}, 'darwin').hint).toBe('start Docker Desktop');
  });

  it('tells a user without access to the socket how to get it', () => {
    const result = checkDocker({ reachable: false, error: 'connect EACCES /var/run/docker.sock' }, {}, 'linux');
    expect(result.status).toBe('fail');
    expect(result.hint).toContain('sudo usermod -aG docker $USER');
  });
});
