// Doctor check of the agent image: its tag is a hash of its inputs (image.ts), so the
// image is current exactly when the tag computed from this tree exists. A missing or
// stale image is a warning, not a failure: `legion start` builds it, only slowly. The
// browser variant (Chromium) is checked the same way, and matters only when an agent
// has `browser: true`.
import type Docker from 'dockerode';
import { imageExists, imageRepository, type ImageSpec, imageTag, type ImageVariant } from '../../mesh/host.js';
import { LegionError } from '../../shared/errors.js';
import { errorMessage, fail, ok, warn, type CheckResult } from './types.js';

export type ImageProbe =
  | {
      tag: string;
      present: boolean /** Other legion-agent tags on this engine, built from other inputs. */;
      others: string[];
    }
  | {
      error: string /** legion itself is not built (no dist/agent-bundle), rather than an input unreadable. */;
      notBuilt: boolean;
    };

export async function probeImage(
  docker: Docker,
  spec: ImageSpec,
  variant: ImageVariant = 'agent',
): Promise<ImageProbe> {
  const repository = imageRepository(variant);
  let tag: string;
  try {
    tag = imageTag(spec, undefined, variant);
  } catch (err) {
    return { error: errorMessage(err), notBuilt: err instanceof LegionError && err.code === 'not_built' };
  }
  const present = await imageExists(docker, tag);
  const images = present ? [] : await docker.listImages({ filters: { reference: [repository] } }).catch(() => []);
  const others = images
    .flatMap((image) => image.RepoTags ?? [])
    .filter((t) => t.startsWith(`${repository}:`) && t !== tag);
  return { tag, present, others };
}

export function checkImage(probe: ImageProbe, spec: ImageSpec): CheckResult {
  if ('error' in probe) {
    const hint = probe.notBuilt
      ? 'build legion first: npm run build'
      : 'point image.extra_ca_cert in config/mesh.yaml (or LEGION_EXTRA_CA_CERTS) at a readable PEM bundle, or remove it';
    return fail('agent image', probe.error, hint);
  }
  const from = `from ${spec.baseImage}${spec.extraCaPath ? ` with the CA bundle ${spec.extraCaPath}` : ''}`;
  if (probe.present) return ok('agent image', `${probe.tag} (this code, ${from}) is present`);
  const hint = 'legion image build (or let legion start build it, which takes a few minutes)';
  if (probe.others.length > 0) {
    const others = `${probe.others.slice(0, 3).join(', ')}${probe.others.length > 3 ? ', …' : ''}`;
    return warn(
      'agent image',
      `stale: ${probe.tag} (this code, ${from}) is not built; Docker holds only builds of other code or settings (${others})`,
      hint,
    );
  }
  return warn('agent image', `${probe.tag} (this code, ${from}) is not built yet`, hint);
}

/** The browser variant, for the agents with `browser: true` (none: only informational). */
export function checkBrowserImage(probe: ImageProbe, spec: ImageSpec, browserAgents: readonly string[]): CheckResult {
  const name = 'browser image';
  if ('error' in probe) return { ...checkImage(probe, spec), check: name };
  const from = `Chromium, this code, from ${spec.baseImage}`;
  if (browserAgents.length === 0) {
    return ok(
      name,
      `not needed: no agent has browser: true (${probe.tag} ${probe.present ? 'is built' : 'is not built'})`,
    );
  }
  const users = `for ${browserAgents.join(', ')}`;
  if (probe.present) return ok(name, `${probe.tag} (${from}) is present, ${users}`);
  const hint =
    'legion image build --browser (or let legion start build it when the agent starts; installing Chromium takes several minutes)';
  if (probe.others.length > 0) {
    return warn(
      name,
      `stale: ${probe.tag} (${from}) is not built, ${users}; Docker holds only builds of other code or settings (${probe.others.slice(0, 3).join(', ')}${probe.others.length > 3 ? ', …' : ''})`,
      hint,
    );
  }
  return warn(name, `${probe.tag} (${from}) is not built yet, ${users}`, hint);
}
