// legion status and legion stop: read and end a running fleet through the admin API.
import type { Command } from 'commander';
import { readMeshInfo } from '../../shared/state.js';
import { MeshClient, notRunning } from '../mesh-client.js';
import { formatAgents } from '../render.js';
import { formatMcpServers } from '../mcp-status.js';
import { unsandboxedWarning } from '../../shared/sandbox.js';
import { commandAction, projectDir } from '../run.js';

const STOP_TIMEOUT_MS = 30_000;

export function registerFleet(program: Command): void {
  program
    .command('status')
    .description(
      'show the mesh and each agent: health, container state and runtime, restarts, lane depth and what runs now, model',
    )
    .option('--json', 'print the status as JSON')
    .action(
      commandAction(async (options: { json?: boolean }) => {
        const status = await MeshClient.connect(projectDir()).status();
        if (options.json) {
          process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
          return;
        }
        process.stdout.write(
          `mesh: pid ${status.mesh.pid}, ${status.mesh.admin_url}, ${status.ready ? 'ready' : 'starting'}\n`,
        );
        const rules = status.permissions;
        process.stdout.write(
          `permissions: ${rules.source === 'file' ? (rules.path ?? 'file') : 'starter policy (no config/permissions.yaml)'}\n`,
        );
        if (rules.last_error)
          process.stdout.write(
            `permissions: an edit was refused, the previous rules stay in force:\n${rules.last_error}\n`,
          );
        if (status.config.last_error)
          process.stdout.write(
            `config: an edit was refused, the previous config stays in force:\n${status.config.last_error}\n`,
          );
        for (const line of status.config.pending_restart) process.stdout.write(`${line}\n`);
        process.stdout.write(`egress proxy: ${status.egress.proxy_url}\n`);
        const isolation = status.egress.host_isolation;
        if (isolation)
          process.stdout.write(
            isolation.enforced ? `host isolation: ${isolation.detail}\n` : `warning: ${isolation.detail}\n`,
          );
        process.stdout.write(`${formatAgents(status.agents)}\n`);
        const mcp = formatMcpServers(status.mcp);
        if (mcp) process.stdout.write(`${mcp}\n`);
        const exposed = status.agents.flatMap((a) =>
          a.container && !a.container.sandboxed ? [{ name: a.name, runtime: a.container.runtime }] : [],
        );
        const warning = unsandboxedWarning(exposed);
        if (warning) process.stdout.write(`${warning}\n`);
      }),
    );

  program
    .command('stop')
    .description('stop every agent container and the mesh')
    .action(
      commandAction(async () => {
        const dir = projectDir();
        const client = MeshClient.find(dir);
        if (!client || !(await client.alive())) {
          const reason = notRunning(dir);
          // Nothing to stop is the state asked for (as `docker compose down`): a note, exit 0.
          if (reason.code === 'not_a_project') throw reason;
          process.stdout.write(`nothing to stop: no legion mesh is running in ${dir}\n`);
          return;
        }
        await client.shutdown();
        const deadline = Date.now() + STOP_TIMEOUT_MS;
        while (readMeshInfo(dir) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        if (readMeshInfo(dir))
          throw new Error(`the mesh did not stop within ${STOP_TIMEOUT_MS / 1000}s; see .legion/mesh.log`);
        process.stdout.write('fleet stopped\n');
      }),
    );
}
