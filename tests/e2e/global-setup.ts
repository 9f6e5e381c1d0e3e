// Guards a user's data against the e2e suite: before it, a volume named as a legacy
// starter agent's data (legion_data_assistant, unlabelled as an earlier legion made it)
// is made if absent; after it, the volume must still be there. The suite's projects
// all have an agent named assistant: none may mount, purge or remove that volume.
// It is removed afterwards only if this setup made it.
import Docker from 'dockerode';

const GUARDED = 'legion_data_assistant';
const MARKER = 'made-by-legion-e2e-setup';

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  const docker = new Docker();
  try {
    await docker.ping();
  } catch {
    return undefined; // the e2e files say loudly that they skip (or fail with LEGION_REQUIRE_DOCKER=1)
  }
  let created = false;
  try {
    await docker.getVolume(GUARDED).inspect();
  } catch {
    await docker.createVolume({ Name: GUARDED, Labels: { [MARKER]: 'true' } });
    created = true;
  }
  return async () => {
    try {
      await docker.getVolume(GUARDED).inspect();
    } catch {
      const message = `\n*** legion e2e: THE PRE-EXISTING VOLUME ${GUARDED} WAS REMOVED DURING THE SUITE: a test removed data it did not create ***\n`;
      process.stderr.write(message);
      process.exitCode = 1;
      throw new Error(message);
    }
    if (created) await docker.getVolume(GUARDED).remove();
  };
}
