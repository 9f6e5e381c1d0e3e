// legion start [-d]: the mesh, every configured agent, and (in the foreground) the
// REPL. Detached, a separate mesh process is spawned and this command returns when
// the fleet is ready, echoing the mesh's progress (image build, agent start). The mesh,
// the REPL and the setup wizard are imported where they run: `start -d` needs none of
// them in this process, and they take seconds to load on a busy machine.
import { spawn } from 'node:child_process';
import { openSync, readFileSync, existsSync, statSync, mkdirSync, closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { LegionError } from '../../shared/errors.js';
import { loadProject } from '../../shared/config/project.js';
import { assertKeysConfigured } from '../../shared/config/providers.js';
import { statePaths } from '../../shared/state.js';
import type { RunningMesh } from '../../mesh/daemon.js';
import { MeshClient } from '../mesh-client.js';
import { formatAgents } from '../render.js';
import { commandAction, projectDir } from '../run.js';
import { isProjectDir } from '../../shared/config/project-files.js';

const CLI_ENTRY = fileURLToPath(new URL('../index.js', import.meta.url));
/** The detached mesh's last line in its start log once every agent is up or failed. */
const FLEET_READY = 'fleet ready';
const LOG_POLL_MS = 20;
const STATUS_EVERY_TICKS = 25;

function reportResults(results: RunningMesh['results'], write: (line: string) => void): boolean {
  for (const r of results) {
    // The mesh reported each adoption as progress while it started (`legion start -d` shows only that).
    if (r.adopted) continue;
    write(
      r.ok ? `agent ${r.name} healthy (${r.ms} ms)` : `agent ${r.name} failed to start: ${r.error ?? 'unknown error'}`,
    );
  }
  return results.every((r) => r.ok);
}

async function startForeground(dir: string): Promise<void> {
  const { runMesh } = await import('../../mesh/daemon.js');
  const { runRepl } = await import('../repl.js');
  const running = await runMesh(dir, { progress: (line) => process.stdout.write(`${line}\n`), stopOnSigint: false });
  reportResults(running.results, (line) => process.stdout.write(`${line}\n`));
  const client = MeshClient.connect(dir);
  const healthy = running.results.find((r) => r.ok)?.name ?? running.results[0]?.name;
  if (!healthy) {
    process.stdout.write('no agents are configured; add one with `legion agent add <name>` from another terminal\n');
  }
  await Promise.race([
    runRepl({ client, mode: 'fleet', agent: healthy ?? 'none', input: process.stdin, output: process.stdout }),
    running.stopped,
  ]);
  process.stdout.write('stopping the fleet...\n');
  await running.stop();
  process.stdout.write('fleet stopped\n');
  process.exit(0);
}

/** Follows the mesh's start log: progress lines are echoed as they come; from the
 *  first line of a failure on (what commandAction prints) they are kept as the error. */
function startLogFollower(path: string): { poll: () => void; failure: () => string; ready: () => boolean } {
  let offset = 0;
  let partial = '';
  let ready = false;
  const failure: string[] = [];
  const poll = () => {
    if (!existsSync(path) || statSync(path).size <= offset) return;
    const text = readFileSync(path).subarray(offset).toString('utf8');
    offset += Buffer.byteLength(text);
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (failure.length > 0 || /^(error: |invalid configuration:)/.test(line)) failure.push(line);
      else {
        if (line === FLEET_READY) ready = true;
        process.stdout.write(`${line}\n`);
      }
    }
  };
  return {
    poll,
    ready: () => ready,
    failure: () =>
      [...failure, partial]
        .join('\n')
        .replace(/^error: /, '')
        .trim(),
  };
}

async function startDetached(dir: string): Promise<void> {
  const existing = MeshClient.find(dir);
  if (existing && (await existing.alive())) {
    throw new LegionError(
      'mesh_running',
      `a legion mesh is already running for ${dir} (${existing.baseUrl}); stop it with \`legion stop\``,
    );
  }
  const paths = statePaths(dir);
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const logFd = openSync(paths.startLog, 'w');
  const child = spawn(process.execPath, [CLI_ENTRY, '_mesh'], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', logFd, logFd],
    env: process.env,
  });
  closeSync(logFd);
  child.unref();
  let exitCode: number | null = null;
  const exited = new Promise<void>((resolve) =>
    child.on('exit', (code) => {
      exitCode = code ?? 1;
      resolve();
    }),
  );
  // Config and key problems are reported here, as `legion start` in the foreground reports
  // them, rather than as the child's log. Checked while the child loads (it checks the same
  // before it touches anything, and is stopped here when they fail): the check and the
  // child's start take about 0.4 s of CPU each, and run side by side.
  try {
    assertKeysConfigured(loadProject(dir));
  } catch (err) {
    child.ref(); // so this process waits for the exit below
    child.kill('SIGTERM');
    await exited;
    throw err;
  }
  const log = startLogFollower(paths.startLog);
  for (let tick = 1; ; tick++) {
    await new Promise((r) => setTimeout(r, LOG_POLL_MS));
    log.poll();
    if (exitCode !== null) {
      log.poll();
      throw new LegionError(
        'mesh_failed',
        log.failure() || `the mesh exited while starting (exit code ${exitCode}); see ${paths.startLog}`,
      );
    }
    // The mesh says in its log when the fleet is ready; its status (a Docker inspect per
    // agent) is asked then, and now and then in case the line was missed.
    if (!log.ready() && tick % STATUS_EVERY_TICKS !== 0) continue;
    const client = MeshClient.find(dir);
    if (!client) continue;
    const status = await client.status().catch(() => null);
    if (status?.ready) {
      log.poll();
      process.stdout.write(`${formatAgents(status.agents)}\n`);
      process.stdout.write(
        `legion mesh running in the background (pid ${status.mesh.pid}, ${status.mesh.admin_url}); logs in ${paths.log}\n`,
      );
      const failed = status.agents.filter((a) => a.health !== 'healthy');
      if (failed.length > 0)
        throw new LegionError(
          'agents_failed',
          `not every agent started: ${failed.map((a) => a.name).join(', ')} (see above); the mesh keeps running`,
        );
      return;
    }
  }
}

/** The detached mesh process itself (spawned by `legion start -d`). */
async function meshProcess(dir: string): Promise<void> {
  const { runMesh } = await import('../../mesh/daemon.js');
  const running = await runMesh(dir, { progress: (line) => process.stdout.write(`${line}\n`), stopOnSigint: true });
  reportResults(running.results, (line) => process.stdout.write(`${line}\n`));
  process.stdout.write(`${FLEET_READY}\n`);
  await running.stopped;
  process.exit(0);
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('start the mesh and every configured agent, then chat with them (REPL)')
    .option('-d, --detach', 'run the fleet in the background and return once it is ready')
    .action(
      commandAction(async (options: { detach?: boolean }) => {
        const dir = projectDir();
        // A directory without config/mesh.yaml: the setup wizard in a terminal, else which command to run.
        if (!isProjectDir(dir)) await (await import('./setup.js')).ensureProject(dir);
        await (options.detach ? startDetached(dir) : startForeground(dir));
      }),
    );
  program
    .command('_mesh', { hidden: true })
    .description('run the mesh process (used by start -d)')
    .action(commandAction(async () => meshProcess(projectDir())));
}
