// Doctor checks of the machine itself: the Node version against package.json's
// engines field, and the Docker engine (reachable, and which version). The probe
// talks to Docker the way the runtime does (dockerode, which honours DOCKER_HOST);
// the checks are pure functions of what the probe found.
import Docker from 'dockerode';
import { errorMessage, fail, ok, type CheckResult } from './types.js';

/** Node is checked against `>=X[.Y[.Z]]`, the only form legion's engines field uses. */
export function checkNode(current: string, engines: string | undefined): CheckResult {
  const wanted = engines?.trim() ?? '';
  const minimum = /^>=\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(wanted);
  if (!minimum) return ok('node', `Node ${current} (package.json sets no minimum of the form >=X: "${wanted}")`);
  const need = [1, 2, 3].map((i) => Number(minimum[i] ?? 0));
  const have = current
    .replace(/^v/, '')
    .split('.')
    .map((part) => Number.parseInt(part, 10) || 0);
  for (let i = 0; i < 3; i++) {
    const h = have[i] ?? 0;
    const n = need[i] ?? 0;
    if (h > n) break;
    if (h < n) {
      return fail(
        'node',
        `Node ${current} is too old: legion needs ${wanted}`,
        `install Node ${need[0]} or newer (https://nodejs.org, or nvm install ${need[0]})`,
      );
    }
  }
  return ok('node', `Node ${current} (legion needs ${wanted})`);
}

export type DockerProbe =
  | { reachable: true; version: string; apiVersion: string; os: string; arch: string }
  | { reachable: false; error: string };

/** Where dockerode connects: DOCKER_HOST, else the default socket. */
export function dockerEndpoint(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_HOST ? `DOCKER_HOST=${env.DOCKER_HOST}` : 'the default socket';
}

/** A Docker client that gives up after `timeoutMs` instead of hanging on an engine that does not answer. */
export function doctorDocker(timeoutMs = 10_000): Docker {
  return new Docker({ timeout: timeoutMs });
}

export async function probeDocker(docker: Docker): Promise<DockerProbe> {
  try {
    await docker.ping();
    const version = await docker.version();
    return {
      reachable: true,
      version: version.Version,
      apiVersion: version.ApiVersion,
      os: version.Os,
      arch: version.Arch,
    };
  } catch (err) {
    return { reachable: false, error: errorMessage(err) };
  }
}

export function checkDocker(probe: DockerProbe, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): CheckResult {
  const where = dockerEndpoint(env);
  if (probe.reachable)
    return ok('docker', `Docker ${probe.version} (API ${probe.apiVersion}, ${probe.os}/${probe.arch}) at ${where}`);
  const detail = `Docker is not reachable at ${where}: ${probe.error}`;
  if (/EACCES|permission denied/i.test(probe.error)) {
    return fail(
      'docker',
      detail,
      'let this user use Docker: sudo usermod -aG docker $USER, then log in again (or run legion as a user who may)',
    );
  }
  const start = platform === 'linux' ? 'start the Docker engine: sudo systemctl start docker' : 'start Docker Desktop';
  const hostHint = env.DOCKER_HOST
    ? `, or point DOCKER_HOST at a running engine (unset it for the default socket)`
    : '';
  return fail('docker', detail, `${start}${hostHint}`);
}
