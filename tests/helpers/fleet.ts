// Tearing down an e2e fleet so the next test file starts clean: stop the mesh (by its
// pid if the CLI cannot, or its health monitor would bring agents back), remove any
// container of the project that is left, and delete the project's volumes (found by
// its legion.project label: a test removes nothing it did not create).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectId } from '../../src/shared/state.js';
import { docker, projectContainers, removeProjectVolumes } from './docker.js';
import { legion, type TestProject } from './project.js';
import { waitFor } from './wait.js';

/** Kills the project's mesh with SIGKILL (its containers keep running) and waits until it is gone. */
export async function killMesh(project: TestProject): Promise<void> {
  const pid = (JSON.parse(readFileSync(join(project.dir, '.legion', 'mesh.json'), 'utf8')) as { pid: number }).pid;
  process.kill(pid, 'SIGKILL');
  await waitFor(() => {
    try {
      process.kill(pid, 0);
      return null;
    } catch {
      return true;
    }
  }, 'the mesh to die');
}

export async function tearDownFleet(project: TestProject | undefined): Promise<void> {
  if (project) {
    const info = join(project.dir, '.legion', 'mesh.json');
    if (existsSync(info) && (await legion(['stop'], project.dir)).code !== 0) {
      try {
        process.kill((JSON.parse(readFileSync(info, 'utf8')) as { pid: number }).pid, 'SIGTERM');
        await waitFor(() => (existsSync(info) ? null : true), 'the mesh to stop', 30_000);
      } catch {
        // Already gone: the containers and volumes below are all that is left.
      }
    }
    for (const c of await projectContainers(projectId(project.dir)))
      await docker.getContainer(c.Id).remove({ force: true });
    await removeProjectVolumes(projectId(project.dir));
  }
}
