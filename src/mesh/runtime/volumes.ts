// Agent data volumes (/data) belong to one project. Invariants: a volume is named
// legion-<project id>-<agent> and labelled with the project and agent; legion mounts,
// purges or copies into only a volume whose legion.project label names this project.
// Volumes of earlier legion versions (legion_data_<agent>, shared by every project
// with an agent of that name) are used only when their label names this project;
// any other is left alone, and the user is told once how to copy its data over
// (`legion agent adopt-volume`). Nothing here deletes data the user did not ask to.
import type Docker from 'dockerode';
import { LegionError } from '../../shared/errors.js';
import { LABELS } from './labels.js';

export const LEGACY_VOLUME_PREFIX = 'legion_data_';

export function projectVolumeName(projectId: string, agent: string): string {
  return `legion-${projectId}-${agent}`;
}

export function legacyVolumeName(agent: string): string {
  return `${LEGACY_VOLUME_PREFIX}${agent}`;
}

export function volumeLabels(projectId: string, agent: string): Record<string, string> {
  return { [LABELS.managed]: 'true', [LABELS.project]: projectId, [LABELS.agent]: agent };
}

/** What legion needs to know of a volume: its name and labels. */
export interface VolumeFacts {
  name: string;
  labels: Record<string, string>;
}

export type VolumeChoice =
  | { action: 'use'; name: string; create: boolean; notice: string | null }
  | { action: 'refuse'; reason: string };

/** Which volume the agent mounts, given the project's volume and the legacy one (null when absent). */
export function chooseVolume(
  projectId: string,
  agent: string,
  own: VolumeFacts | null,
  legacy: VolumeFacts | null,
): VolumeChoice {
  const name = projectVolumeName(projectId, agent);
  const legacyOurs = legacy !== null && legacy.labels[LABELS.project] === projectId;
  const notice = legacy !== null && !legacyOurs ? legacyVolumeNotice(agent, legacy.name) : null;
  if (own) {
    if (own.labels[LABELS.project] !== projectId) {
      return {
        action: 'refuse',
        reason: `volume ${own.name} exists but its ${LABELS.project} label is "${own.labels[LABELS.project] ?? ''}", not this project (${projectId}); legion mounts only its own volumes. Rename or remove that volume (docker volume rm ${own.name}) if it is not needed`,
      };
    }
    return { action: 'use', name, create: false, notice };
  }
  if (legacy !== null && legacyOurs) return { action: 'use', name: legacy.name, create: false, notice: null };
  return { action: 'use', name, create: true, notice };
}

/** Said once at start and by doctor: a volume of an earlier legion that this project does not use. */
export function legacyVolumeNotice(agent: string, volume: string): string {
  return `volume ${volume} (made by an earlier legion, when one volume served every project with an agent named ${agent}) does not belong to this project, so agent ${agent} does not use it; to copy its data into this project: legion agent adopt-volume ${agent} ${volume} (it deletes nothing)`;
}

export async function inspectVolume(docker: Docker, name: string): Promise<VolumeFacts | null> {
  try {
    const info = await docker.getVolume(name).inspect();
    return { name: info.Name, labels: info.Labels ?? {} };
  } catch (err) {
    if (isStatus(err, 404)) return null;
    throw err;
  }
}

/** Looks both volumes up and decides (chooseVolume). */
export async function findAgentVolume(docker: Docker, projectId: string, agent: string): Promise<VolumeChoice> {
  const [own, legacy] = await Promise.all([
    inspectVolume(docker, projectVolumeName(projectId, agent)),
    inspectVolume(docker, legacyVolumeName(agent)),
  ]);
  return chooseVolume(projectId, agent, own, legacy);
}

/** The volume the agent mounts, created with the project's labels when it is new. */
export async function ensureAgentVolume(
  docker: Docker,
  projectId: string,
  agent: string,
  extraLabels: Record<string, string> = {},
): Promise<{ name: string; notice: string | null }> {
  const choice = await findAgentVolume(docker, projectId, agent);
  if (choice.action === 'refuse') throw new LegionError('volume_not_ours', choice.reason);
  if (choice.create)
    await docker.createVolume({ Name: choice.name, Labels: { ...volumeLabels(projectId, agent), ...extraLabels } });
  return { name: choice.name, notice: choice.notice };
}

/** Every volume of this project's agent (its own, or an adopted legacy one), by label. */
export async function agentVolumes(docker: Docker, projectId: string, agent: string): Promise<string[]> {
  const { Volumes } = await docker.listVolumes({
    filters: { label: [`${LABELS.project}=${projectId}`, `${LABELS.agent}=${agent}`] },
  });
  const labelled = (Volumes ?? []).map((v) => v.Name);
  const legacy = await inspectVolume(docker, legacyVolumeName(agent));
  if (legacy && legacy.labels[LABELS.project] === projectId && !labelled.includes(legacy.name))
    labelled.push(legacy.name);
  return labelled;
}

/** `legion agent remove --purge`: removes the agent's container of this project (if one
 *  is left) and its volumes; returns the volumes removed. */
export async function purgeAgentData(docker: Docker, projectId: string, agent: string): Promise<string[]> {
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [`${LABELS.project}=${projectId}`, `${LABELS.agent}=${agent}`] },
  });
  for (const c of containers) await docker.getContainer(c.Id).remove({ force: true });
  const names = await agentVolumes(docker, projectId, agent);
  for (const name of names) await docker.getVolume(name).remove();
  return names;
}

function isStatus(err: unknown, status: number): boolean {
  return typeof err === 'object' && err !== null && 'statusCode' in err && err.statusCode === status;
}

/** Moves what the volume held aside (nothing is deleted), then copies the source in,
 *  keeping owners and times; agent.db travels with its -wal and -shm files. */
const COPY_SCRIPT = `set -e
aside=""
if [ -n "$(ls -A /data)" ]; then
  aside=".before-adopt-$(date -u +%Y%m%dT%H%M%SZ)"
  mkdir "/data/$aside"
  for f in /data/* /data/.[!.]* /data/..?*; do
    [ -e "$f" ] || continue
    case "$f" in /data/.before-adopt-*) continue ;; esac
    mv "$f" "/data/$aside/"
  done
fi
cp -a /from/. /data/
echo "aside=$aside"`;

export interface AdoptOutcome {
  target: string;
  /** Where the target's earlier content now is, inside it; null when it was empty. */
  aside: string | null;
}

/** `legion agent adopt-volume`: copies `source` into the agent's volume of this project,
 *  with a short-lived container of the agent image (no network, no capabilities). The
 *  agent must not be running; `source` is only read. */
export async function adoptVolume(
  docker: Docker,
  image: string,
  projectId: string,
  agent: string,
  source: string,
): Promise<AdoptOutcome> {
  const facts = await inspectVolume(docker, source);
  if (!facts) throw new LegionError('unknown_volume', `no Docker volume named ${source} (docker volume ls lists them)`);
  const running = await docker.listContainers({
    filters: { label: [`${LABELS.project}=${projectId}`, `${LABELS.agent}=${agent}`], status: ['running'] },
  });
  if (running.length > 0)
    throw new LegionError(
      'agent_running',
      `agent ${agent} is running; stop the fleet (legion stop), then run adopt-volume again and start it`,
    );
  const { name: target } = await ensureAgentVolume(docker, projectId, agent);
  if (target === source)
    throw new LegionError('same_volume', `${source} is already agent ${agent}'s volume in this project`);
  const container = await docker.createContainer({
    Image: image,
    User: '1000:1000',
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: [COPY_SCRIPT],
    Labels: { [LABELS.managed]: 'true', [LABELS.project]: projectId },
    HostConfig: {
      NetworkMode: 'none',
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true'],
      ReadonlyRootfs: true,
      Mounts: [
        { Type: 'volume', Source: source, Target: '/from', ReadOnly: true },
        { Type: 'volume', Source: target, Target: '/data' },
      ],
    },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    // biome-ignore lint/suspicious/noControlCharactersInRegex: Docker's multiplexed log frames start with control bytes, which are stripped here
    const logs = (await container.logs({ stdout: true, stderr: true })).toString('utf8').replace(/[\x00-\x08]/g, '');
    if (StatusCode !== 0)
      throw new LegionError(
        'adopt_failed',
        `copying ${source} into ${target} failed (exit ${StatusCode}): ${logs.trim()}`,
      );
    const aside = /aside=(\S*)/.exec(logs)?.[1] ?? '';
    return { target, aside: aside || null };
  } finally {
    await container.remove({ force: true });
  }
}
