// Runs a real mesh as its own process over agent processes (ProcessRuntime), for tests
// that must kill the mesh itself: `tsx tests/helpers/mesh-process-main.ts <project dir>`.
// Prints one line, "ready", once every agent is healthy. Test-only: agents get none of
// a container's isolation. Its agent processes share its process group, so a test can
// end them all with one signal to the group.
import { join } from 'node:path';
import { Mesh } from '../../src/mesh/server.js';
import { loadProject } from '../../src/shared/config/project.js';
import { createLogger } from '../../src/shared/logging.js';
import { ProcessRuntime } from './process-runtime.js';

const dir = process.argv[2];
if (dir === undefined) {
  process.stderr.write('usage: mesh-process-main <project dir>\n');
  process.exit(2);
}
const mesh = new Mesh({
  project: loadProject(dir),
  runtime: new ProcessRuntime(join(dir, 'agents-data')),
  logger: createLogger({}, process.stderr),
  progress: () => undefined,
  onShutdownRequested: () => void mesh.stop().then(() => process.exit(0)),
});
const results = await mesh.start();
const failed = results.filter((r) => !r.ok);
if (failed.length > 0) {
  process.stderr.write(`agents failed to start: ${JSON.stringify(failed)}\n`);
  process.exit(1);
}
process.stdout.write('ready\n');
