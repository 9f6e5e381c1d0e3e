// Gives memory back after a load burst. V8 grows its heap under load (new and old space
// fill with short-lived request garbage) and runs no collection while the process is
// idle, so without this the mesh's RSS stays at its peak for as long as it runs
// (measured: 120 -> 170-210 MB after a burst of blackboard and LLM-proxy calls; heap
// snapshots before and after showed ~5 MB more live objects, the rest was garbage and
// the pages V8 kept). Invariants: a trim (two full, synchronous collections: the first
// frees the garbage, the second lets V8 shrink the spaces it emptied) runs only when the
// last interval was quiet (the event loop almost idle) and RSS stands TRIM_ABOVE_MB over
// where the previous trim (or the start) left it; so an idle mesh is not collected again
// and again for nothing, and a busy one never pauses for it. The pause (~50-400 ms on a
// loaded 2-core machine) falls on an idle mesh only.
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from '../shared/logging.js';

const CHECK_MS = 5_000;
/** Event-loop utilization below which an interval counts as quiet. */
const QUIET_UTILIZATION = 0.02;
const TRIM_ABOVE_MB = 16;
const MB = 1024 * 1024;

type CollectGarbage = () => void;

/** V8's gc(), exposed at run time (the mesh runs without --expose-gc); null if this V8 refuses. */
function exposeGc(): CollectGarbage | null {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  return typeof gc === 'function' ? (gc as CollectGarbage) : null;
}

/** Starts the trimmer; the returned function stops it. The timer never keeps the process alive. */
export function startMemoryTrim(logger: Logger): () => void {
  const gc = exposeGc();
  if (!gc) {
    logger.warn({ event: 'memory_trim_unavailable' }, 'cannot trigger garbage collection; memory is not trimmed');
    return () => undefined;
  }
  let baseline = process.memoryUsage.rss();
  let lastUtilization = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const window = performance.eventLoopUtilization(lastUtilization);
    lastUtilization = performance.eventLoopUtilization();
    const before = process.memoryUsage.rss();
    if (window.utilization >= QUIET_UTILIZATION || before < baseline + TRIM_ABOVE_MB * MB) return;
    const begin = performance.now();
    gc();
    gc();
    baseline = process.memoryUsage.rss();
    logger.debug(
      {
        event: 'memory_trimmed',
        rss_before_mb: Math.round(before / MB),
        rss_after_mb: Math.round(baseline / MB),
        ms: Math.round(performance.now() - begin),
      },
      'memory trimmed after load',
    );
    // The trim's own time must not make the next interval look busy.
    lastUtilization = performance.eventLoopUtilization();
  }, CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
