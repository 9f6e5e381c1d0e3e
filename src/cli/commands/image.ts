// legion image build: builds the agent image now (legion start also builds it when
// missing). Prints the tag as the last line.
import type { Command } from 'commander';
import Docker from 'dockerode';
import { isProjectDir, loadProject } from '../../shared/config/project.js';
import { imageSpec } from '../../mesh/daemon.js';
import { assertDockerReachable } from '../../mesh/runtime/docker.js';
import { buildImage, imageExists, imageTag } from '../../mesh/runtime/image.js';
import { commandAction, projectDir } from '../run.js';

export function registerImage(program: Command): void {
  const image = program.command('image').description('the agent image');
  image
    .command('build')
    .description('build the agent image if it is missing or out of date')
    .option('--base-image <image>', 'base image (Debian with node 20 and npm); default node:20-bookworm-slim')
    .action(
      commandAction(async (options: { baseImage?: string }) => {
        const dir = projectDir();
        const spec = imageSpec(isProjectDir(dir) ? loadProject(dir) : null);
        if (options.baseImage) spec.baseImage = options.baseImage;
        const docker = new Docker();
        await assertDockerReachable(docker);
        const tag = imageTag(spec);
        if (await imageExists(docker, tag)) process.stdout.write(`agent image is up to date\n`);
        else await buildImage(docker, spec, (line) => process.stdout.write(`${line}\n`));
        process.stdout.write(`${tag}\n`);
      }),
    );
}
