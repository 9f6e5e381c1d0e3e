// The agent image: its tag is a hash of everything that goes into it (Dockerfile,
// agent runtime dependencies, the bundled agent server, default workspace,
// base image, extra CA), so changed code means a new tag and a rebuild, and an
// unchanged tree never rebuilds. The browser variant (Chromium added, for agents with
// `browser: true`) is the same build with BROWSER=1, under a repository of its own.
import {
  existsSync,
  readFileSync,
  readdirSync,
  statSync,
  mkdtempSync,
  cpSync,
  rmSync,
  copyFileSync,
  mkdirSync,
} from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import type Docker from 'dockerode';
import type { Project } from '../../shared/config/project.js';
import { LegionError } from '../../shared/errors.js';
import { sha256Hex } from '../../shared/ids.js';
import { PACKAGE_ROOT } from '../../shared/paths.js';
import type { ProgressFn } from './types.js';

export const DEFAULT_BASE_IMAGE = 'node:20-bookworm-slim';
export const IMAGE_REPOSITORY = 'legion-agent';
export const BROWSER_IMAGE_REPOSITORY = 'legion-agent-browser';

export type ImageVariant = 'agent' | 'browser';

export function imageRepository(variant: ImageVariant): string {
  return variant === 'browser' ? BROWSER_IMAGE_REPOSITORY : IMAGE_REPOSITORY;
}

/** Paths below the package root that make up the image, files or whole folders. */
const IMAGE_INPUTS = [
  'Dockerfile.agent',
  'agent-image/package.json',
  'agent-image/package-lock.json',
  'agent-image/workspace',
  // The agent server bundled into one file with what it imports from dist/agent and dist/shared.
  'dist/agent-bundle',
];

export interface ImageSpec {
  baseImage: string;
  /** PEM bundle trusted by npm during the build, or null. */
  extraCaPath: string | null;
}

function listFiles(root: string, rel: string): string[] {
  const abs = join(root, rel);
  if (!existsSync(abs)) return [];
  if (!statSync(abs).isDirectory()) return [rel];
  return readdirSync(abs, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .filter((file) => !file.endsWith('.map'))
    .sort();
}

export function imageTag(spec: ImageSpec, root = PACKAGE_ROOT, variant: ImageVariant = 'agent'): string {
  if (!existsSync(join(root, 'dist', 'agent-bundle', 'main.js'))) {
    throw new LegionError(
      'not_built',
      `the agent server is not built (${join(root, 'dist/agent-bundle/main.js')} is missing): run npm run build`,
    );
  }
  const hash = sha256Hex(
    [
      `base=${spec.baseImage}`,
      `ca=${spec.extraCaPath ? sha256Hex(readFileSync(spec.extraCaPath)) : 'none'}`,
      ...(variant === 'browser' ? ['variant=browser'] : []),
      ...IMAGE_INPUTS.flatMap((input) => listFiles(root, input)).map(
        (file) => `${file}=${sha256Hex(readFileSync(join(root, file)))}`,
      ),
    ].join('\n'),
  );
  return `${imageRepository(variant)}:${hash.slice(0, 12)}`;
}

export async function imageExists(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch {
    return false;
  }
}

interface BuildMessage {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** Builds the image from a staged context, reporting each build step through `progress`. */
export async function buildImage(
  docker: Docker,
  spec: ImageSpec,
  progress: ProgressFn,
  root = PACKAGE_ROOT,
  variant: ImageVariant = 'agent',
): Promise<string> {
  const tag = imageTag(spec, root, variant);
  const context = mkdtempSync(join(tmpdir(), 'legion-image-'));
  try {
    for (const input of IMAGE_INPUTS) {
      if (existsSync(join(root, input))) cpSync(join(root, input), join(context, input), { recursive: true });
    }
    mkdirSync(join(context, 'agent-image', 'certs'), { recursive: true });
    if (spec.extraCaPath) copyFileSync(spec.extraCaPath, join(context, 'agent-image', 'certs', 'extra-ca.pem'));
    progress(
      `building ${variant === 'browser' ? 'the browser variant of the agent image (Chromium)' : 'agent image'} ${tag} from ${spec.baseImage}`,
    );
    const stream = await docker.buildImage(
      { context, src: ['Dockerfile.agent', 'agent-image', 'dist'] },
      {
        t: tag,
        dockerfile: 'Dockerfile.agent',
        buildargs: { BASE_IMAGE: spec.baseImage, BROWSER: variant === 'browser' ? '1' : '0' },
        rm: true,
        forcerm: true,
      },
    );
    // The last lines of build output explain a failure (npm's own error, say).
    const recent: string[] = [];
    await new Promise<void>((resolvePromise, reject) => {
      docker.modem.followProgress(
        stream,
        (err: Error | null, output: BuildMessage[]) => {
          const failed = output.find((message) => message.error);
          if (err || failed) {
            const reason = err?.message ?? failed?.errorDetail?.message ?? failed?.error ?? 'unknown error';
            const hint = recent.some((l) => /SELF_SIGNED|UNABLE_TO_GET_ISSUER|certificate/i.test(l))
              ? '\nnpm could not verify the registry certificate: behind a TLS-intercepting proxy, set image.extra_ca_cert in config/mesh.yaml or LEGION_EXTRA_CA_CERTS to your CA bundle'
              : '';
            reject(
              new LegionError('image_build_failed', `building ${tag} failed: ${reason}\n${recent.join('\n')}${hint}`),
            );
          } else resolvePromise();
        },
        (message: BuildMessage) => {
          for (const line of (message.stream ?? '')
            .split('\n')
            .map((l) => l.trimEnd())
            .filter(Boolean)) {
            recent.push(line);
            if (recent.length > 15) recent.shift();
            if (/^Step \d+\/\d+/.test(line)) progress(`  ${line}`);
          }
        },
      );
    });
    progress(`built ${tag}`);
    return tag;
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

/** The environment (LEGION_AGENT_BASE_IMAGE, LEGION_EXTRA_CA_CERTS) wins over
 *  mesh.yaml's image section; without a project only the environment counts. */
export function imageSpec(project: Project | null, env: NodeJS.ProcessEnv = process.env): ImageSpec {
  const ca = env.LEGION_EXTRA_CA_CERTS ?? project?.mesh.image.extra_ca_cert;
  return {
    baseImage: env.LEGION_AGENT_BASE_IMAGE ?? project?.mesh.image.base_image ?? DEFAULT_BASE_IMAGE,
    extraCaPath: ca ? (isAbsolute(ca) ? ca : resolve(project?.dir ?? process.cwd(), ca)) : null,
  };
}
