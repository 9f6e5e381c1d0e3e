// CI: registers gVisor (runsc) with the Docker engine in daemon.json, merging with what
// the file holds (other keys and runtimes stay). A runsc entry gets this binary's path
// and --network=host, which Docker's runsc needs to run in the container's own network
// namespace (see docs/security.md). Prints "changed" or "unchanged" for .ci/run, which
// reloads a running engine only when the file changed.
// Usage: node .ci/register-runsc.mjs <runsc path> <daemon.json path>
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const [runscPath, file] = process.argv.slice(2);
if (!runscPath || !file) throw new Error('usage: register-runsc.mjs <runsc path> <daemon.json path>');
const before = existsSync(file) ? readFileSync(file, 'utf8') : '';
const config = before.trim() ? JSON.parse(before) : {};
config.runtimes ??= {};
const runtimes = config.runtimes;
const entry = runtimes.runsc ?? {};
const args = Array.isArray(entry.runtimeArgs)
  ? entry.runtimeArgs.filter((a) => !String(a).startsWith('--network'))
  : [];
runtimes.runsc = { ...entry, path: runscPath, runtimeArgs: ['--network=host', ...args] };
const after = `${JSON.stringify(config, null, 2)}\n`;
if (before.trim() && JSON.stringify(JSON.parse(before)) === JSON.stringify(config)) {
  process.stdout.write('unchanged\n');
} else {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, after);
  process.stdout.write('changed\n');
}
