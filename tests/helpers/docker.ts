// Docker for e2e tests: they skip with a loud notice when no engine answers, unless
// LEGION_REQUIRE_DOCKER=1 (CI), where a missing engine is a failure.
import Docker from 'dockerode';

export const docker = new Docker();

export async function dockerAvailable(): Promise<boolean> {
  try {
    await docker.ping();
    return true;
  } catch (err) {
    if (process.env.LEGION_REQUIRE_DOCKER === '1') {
      throw new Error(`LEGION_REQUIRE_DOCKER=1 but no Docker engine answers: ${err instanceof Error ? err.message : String(err)}`);
    }
    process.stderr.write('\n*** legion e2e: NO DOCKER ENGINE ANSWERS; SKIPPING DOCKER TESTS (set LEGION_REQUIRE_DOCKER=1 to fail instead) ***\n\n');
    return false;
  }
}

export async function projectContainers(projectId: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`legion.project=${projectId}`] } });
}

export async function removeVolume(name: string): Promise<void> {
  try {
    await docker.getVolume(name).remove({ force: true });
  } catch {
    // already gone
  }
}
