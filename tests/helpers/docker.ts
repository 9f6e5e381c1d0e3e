// Docker for e2e tests: they skip with a loud notice when no engine answers, unless
// LEGION_REQUIRE_DOCKER=1 (CI), where a missing engine is a failure. The same for
// gVisor: tests that need runsc registered skip loudly, unless LEGION_REQUIRE_RUNSC=1.
import Docker from 'dockerode';
import { Writable } from 'node:stream';

export const docker = new Docker();

export async function dockerAvailable(): Promise<boolean> {
  try {
    await docker.ping();
    return true;
  } catch (err) {
    if (process.env.LEGION_REQUIRE_DOCKER === '1') {
      throw new Error(
        `LEGION_REQUIRE_DOCKER=1 but no Docker engine answers: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    process.stderr.write(
      '\n*** legion e2e: NO DOCKER ENGINE ANSWERS; SKIPPING DOCKER TESTS (set LEGION_REQUIRE_DOCKER=1 to fail instead) ***\n\n',
    );
    return false;
  }
}

/** Whether the engine has gVisor registered as runsc (the gVisor e2e tests need it). */
export async function gvisorAvailable(): Promise<boolean> {
  const runtimes = ((await docker.info()) as { Runtimes?: Record<string, unknown> }).Runtimes ?? {};
  if ('runsc' in runtimes) return true;
  if (process.env.LEGION_REQUIRE_RUNSC === '1') {
    throw new Error(
      `LEGION_REQUIRE_RUNSC=1 but Docker has no runsc runtime registered (it knows: ${Object.keys(runtimes).join(', ')}); see legion doctor`,
    );
  }
  process.stderr.write(
    '\n*** legion e2e: DOCKER HAS NO runsc (gVisor) RUNTIME; SKIPPING THE gVisor TESTS (set LEGION_REQUIRE_RUNSC=1 to fail instead) ***\n\n',
  );
  return false;
}

export async function projectContainers(projectId: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`legion.project=${projectId}`] } });
}

/** Removes the volumes labelled with this test project's id: never one it did not create. */
export async function removeProjectVolumes(projectId: string): Promise<void> {
  const { Volumes } = await docker.listVolumes({ filters: { label: [`legion.project=${projectId}`] } });
  for (const volume of Volumes ?? []) {
    try {
      await docker.getVolume(volume.Name).remove({ force: true });
    } catch {
      // already gone
    }
  }
}

/** Runs a command in a container; stdout and stderr demultiplexed, in order. */
export async function execIn(container: string, cmd: string[]): Promise<{ code: number; output: string }> {
  const exec = await docker.getContainer(container).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  docker.modem.demuxStream(stream, sink, sink);
  await new Promise((resolve) => stream.on('end', resolve));
  const info = await exec.inspect();
  return { code: info.ExitCode ?? -1, output: Buffer.concat(chunks).toString('utf8') };
}
