// legion doctor [--json]: checks that everything legion needs is in place (Node,
// Docker, the project's files, the agent image, keys, ports, egress protection) and
// says how to fix what is not. Exit code 1 when a check fails; warnings do not fail.
import type { Command } from 'commander';
import { doctorDocker } from '../doctor/system.js';
import { runDoctor } from '../doctor/runner.js';
import { doctorReport, renderDoctor } from '../doctor/render.js';
import { commandAction, projectDir } from '../run.js';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'check Node, Docker, the configuration, the agent image, the agent sandbox (runtime), keys, ports and egress protection, with a fix for each problem',
    )
    .option('--json', 'print the results as JSON')
    .action(
      commandAction(async (options: { json?: boolean }) => {
        const dir = projectDir();
        const checks = await runDoctor({
          dir,
          env: process.env,
          platform: process.platform,
          nodeVersion: process.version,
          docker: doctorDocker(),
        });
        const report = doctorReport(dir, checks);
        process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderDoctor(report));
        process.exitCode = report.ok ? 0 : 1;
      }),
    );
}
