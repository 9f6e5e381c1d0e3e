// legion dashboard [--revoke]: asks the running mesh for a one-time login link to the
// web dashboard (it works once, within a minute), prints it, and opens it when a
// desktop is there to show it; --revoke ends every dashboard session.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Command } from 'commander';
import { LoginCodeResponseSchema, RevokeSessionsResponseSchema } from '../../shared/wire/dashboard.js';
import { MeshClient } from '../mesh-client.js';
import { commandAction, projectDir } from '../run.js';

/** The path of `command` on PATH, or null. */
function onPath(command: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return join(dir, command);
    } catch {
      // not in this directory
    }
  }
  return null;
}

/** xdg-open when a graphical session is there to show the page, never in CI; null otherwise. */
export function browserOpener(env: NodeJS.ProcessEnv): string | null {
  if (env.CI) return null;
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return null;
  return onPath('xdg-open', env);
}

export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description('print (and open, on a desktop) a one-time login link to the web dashboard of the running mesh')
    .option('--revoke', 'end every dashboard session (browsers must log in again)')
    .action(
      commandAction(async (options: { revoke?: boolean }) => {
        const client = MeshClient.connect(projectDir());
        if (options.revoke) {
          const { revoked } = await client.requestJson(
            'DELETE',
            '/api/dashboard/sessions',
            RevokeSessionsResponseSchema,
          );
          process.stdout.write(
            `ended ${revoked} dashboard session${revoked === 1 ? '' : 's'}; run \`legion dashboard\` to log in again\n`,
          );
          return;
        }
        const login = await client.requestJson('POST', '/api/dashboard/login-codes', LoginCodeResponseSchema);
        const until = new Date(login.expires_at).toLocaleTimeString();
        process.stdout.write(
          `Open the dashboard with this link (it works once, until ${until}):\n${login.login_url}\n`,
        );
        const opener = browserOpener(process.env);
        if (!opener) return;
        const child = spawn(opener, [login.login_url], { detached: true, stdio: 'ignore' });
        child.on('error', () => undefined);
        child.unref();
        process.stdout.write('opened it in your browser\n');
      }),
    );
}
