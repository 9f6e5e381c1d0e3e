// The agent data check: each agent's volume belongs to this project. A volume of an
// earlier legion (legion_data_<agent>) that is not labelled for this project is not
// used; the check says so and names the command that copies its data over. A volume
// with this project's name but another project's label is refused at start: a failure.
import type Docker from 'dockerode';
import { findAgentVolume, legacyVolumeName, type VolumeChoice } from '../../mesh/host.js';
import { fail, ok, warn, type CheckResult } from './types.js';

const CHECK = 'agent data';

export async function probeVolumes(
  docker: Docker,
  projectId: string,
  agents: string[],
): Promise<{ agent: string; choice: VolumeChoice }[]> {
  return Promise.all(agents.map(async (agent) => ({ agent, choice: await findAgentVolume(docker, projectId, agent) })));
}

export function checkVolumes(probed: { agent: string; choice: VolumeChoice }[]): CheckResult[] {
  const results: CheckResult[] = [];
  for (const { agent, choice } of probed) {
    if (choice.action === 'refuse')
      results.push(
        fail(
          CHECK,
          `agent ${agent}: ${choice.reason}`,
          'remove or rename the volume named above; legion never mounts a volume of another project',
        ),
      );
    else if (choice.notice)
      results.push(warn(CHECK, choice.notice, `legion agent adopt-volume ${agent} ${legacyVolumeName(agent)}`));
  }
  return results.length > 0
    ? results
    : [
        ok(
          CHECK,
          `each agent's data is in a volume of this project (${probed.length} agent${probed.length === 1 ? '' : 's'})`,
        ),
      ];
}
