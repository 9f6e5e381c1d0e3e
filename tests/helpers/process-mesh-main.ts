// A mesh of its own process over agent processes (no Docker), for integration tests
// that SIGKILL the mesh: `tsx tests/helpers/process-mesh-main.ts <project dir>`. Agents
// run under <project>/agents-data; their pids go to <project>/agent-pids (one a line) so
// the test can end the agents a killed mesh leaves behind. Stops on SIGTERM.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Mesh } from '../../src/mesh/server.js';
import { loadProject } from '../../src/shared/config/project.js';
import { createLogger } from '../../src/shared/logging.js';
import type { AgentLaunch, RunningAgent } from '../../src/mesh/runtime/types.js';
import { ProcessRuntime } from './process-runtime.js';

const dir = process.argv[2] ?? '';

class RecordingRuntime extends ProcessRuntime {
  override async start(launch: AgentLaunch): Promise<RunningAgent> {
    const running = await super.start(launch);
    appendFileSync(join(dir, 'agent-pids'), `${running.id}\n`);
    return running;
  }
}

const mesh = new Mesh({
  project: loadProject(dir),
  runtime: new RecordingRuntime(join(dir, 'agents-data')),
  logger: createLogger({}, { write: (line: string) => void appendFileSync(join(dir, 'mesh.log'), line) }),
  progress: () => undefined,
  onShutdownRequested: () => void mesh.stop().then(() => process.exit(0)),
});
await mesh.start();
process.stdout.write('ready\n');
process.once('SIGTERM', () => void mesh.stop().then(() => process.exit(0)));
