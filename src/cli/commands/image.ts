// legion image build: builds the agent image now (legion start also builds it when
// missing), and with --browser its browser variant too. Prints each tag on a line of
// its own, the agent image's first.
import type { Command } from 'commander';
import Docker from 'dockerode';
import { isProjectDir, loadProject } from '../../shared/config/project.js';
import {
  assertDockerReachable,
  buildImage,
  imageExists,
  imageSpec,
  imageTag,
  type ImageVariant,
} from '../../mesh/host.js';
import { commandAction, projectDir } from '../run.js';

export function registerImage(program: Command): void {
  const image = program.command('image').description('the agent image');
  image
    .command('build')
    .description('build the agent image if it is missing or out of date')
    .option('--base-image <image>', 'base image (Debian with node 20 and npm); default node:20-bookworm-slim')
    .option('--browser', 'build the browser variant (Chromium, for agents with browser: true) as well')
    .action(
      commandAction(async (options: { baseImage?: string; browser?: boolean }) => {
        const dir = projectDir();
        const spec = imageSpec(isProjectDir(dir) ? loadProject(dir) : null);
        if (options.baseImage) spec.baseImage = options.baseImage;
        const docker = new Docker();
        await assertDockerReachable(docker);
        const variants: ImageVariant[] = options.browser ? ['agent', 'browser'] : ['agent'];
        for (const variant of variants) {
          const tag = imageTag(spec, undefined, variant);
          const what = variant === 'browser' ? 'the browser variant of the agent image' : 'agent image';
          if (await imageExists(docker, tag)) process.stdout.write(`${what} is up to date\n`);
          else await buildImage(docker, spec, (line) => process.stdout.write(`${line}\n`), undefined, variant);
          process.stdout.write(`${tag}\n`);
        }
      }),
    );
}
