// Composition root of a running mesh: loads the project, logs to .legion/mesh.log,
// builds the Docker runtime and the Mesh, and turns SIGTERM/SIGINT or a shutdown
// request into one graceful stop. Used by `legion start` (foreground) and by the
// detached mesh process of `legion start -d`.
import { mkdirSync } from 'node:fs';
import pino from 'pino';
import { createLogger } from '../shared/logging.js';
import { loadProject } from '../shared/config/project.js';
import { projectId, statePaths } from '../shared/state.js';
import { DockerRuntime } from './runtime/docker.js';
import { imageSpec } from './runtime/image.js';
import type { ProgressFn } from './runtime/types.js';
import { Mesh, type AgentStartResult } from './server.js';
import { assertKeysConfigured } from '../shared/config/providers.js';
import { startMemoryTrim } from './memory-trim.js';

export interface RunningMesh {
  mesh: Mesh;
  results: AgentStartResult[];
  /** Resolves once the mesh has stopped, whoever asked. */
  stopped: Promise<void>;
  stop: () => Promise<void>;
}

export interface RunMeshOptions {
  progress: ProgressFn;
  /** False under the foreground REPL, where Ctrl-C interrupts a reply and never the fleet. */
  stopOnSigint: boolean;
  env?: NodeJS.ProcessEnv;
}

export async function runMesh(
  projectDir: string,
  { progress, stopOnSigint, env = process.env }: RunMeshOptions,
): Promise<RunningMesh> {
  const project = loadProject(projectDir, env);
  assertKeysConfigured(project);
  const paths = statePaths(project.dir);
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const logger = createLogger({ component: 'mesh' }, pino.destination({ dest: paths.log, append: true, sync: true }));
  const runtime = new DockerRuntime({ projectId: projectId(project.dir), image: imageSpec(project, env) });

  const stopMemoryTrim = startMemoryTrim(logger);
  let stopping: Promise<void> | null = null;
  let markStopped: () => void = () => undefined;
  const stopped = new Promise<void>((r) => (markStopped = r));
  const stop = (): Promise<void> => {
    stopping ??= mesh
      .stop()
      .catch((err: unknown) => logger.error({ event: 'mesh_stop_failed', err }, 'mesh stop failed'))
      .finally(() => {
        stopMemoryTrim();
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        markStopped();
      });
    return stopping;
  };
  const onSignal = () => void stop();
  const mesh = new Mesh({ project, runtime, logger, progress, env, onShutdownRequested: () => void stop() });
  process.on('SIGTERM', onSignal);
  if (stopOnSigint) process.on('SIGINT', onSignal);
  try {
    const results = await mesh.start();
    return { mesh, results, stopped, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
