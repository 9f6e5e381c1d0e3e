// Preloaded into the detached mesh (NODE_OPTIONS=--import=<this file>, which Node allows
// where it refuses --cpu-prof) when a bench is asked for a mesh CPU profile: profiles
// the `_mesh` process only, from load to exit, and writes
// $LEGION_BENCH_MESH_CPU_PROF/mesh-<pid>.cpuprofile when it exits (`legion stop`).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.LEGION_BENCH_MESH_CPU_PROF;
if (dir && process.argv.includes('_mesh')) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  // The main-thread session answers synchronously, so this runs to the end inside 'exit'.
  process.on('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(join(dir, `mesh-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
