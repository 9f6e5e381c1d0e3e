// One child process run the way the exec tool runs commands: in the workspace, with
// the agent's environment (whose proxy variables send traffic through the egress
// proxy), in its own process group, with a timeout. Skill tool modules run through
// here too, so both have the same confinement and limits.
// Invariants: on timeout or a cancelled turn the whole group is killed, so nothing the
// child started keeps running unseen; the result always says how the child ended;
// every output stream keeps at most its cap and counts what it cut; never rejects.
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';

export const OUTPUT_CAP_BYTES = 16 * 1024;
// A background job (`server &`) can hold stdout open after the shell exits; waiting
// for it would hang the turn, so the pipes get this long to drain after exit.
const DRAIN_AFTER_EXIT_MS = 200;

export type Ending =
  | { kind: 'exited'; code: number }
  | { kind: 'signalled'; signal: string }
  | { kind: 'timed_out'; timeoutMs: number }
  | { kind: 'cancelled' };

export interface ConfinedSpec {
  file: string;
  args: readonly string[];
  cwd: string;
  timeoutMs: number;
  signal: AbortSignal;
  /** Written to the child's stdin, which is then closed; without it stdin is /dev/null. */
  input?: string;
  /** Cap of a result channel on fd 3 (skill modules answer there, apart from what they print); absent: no fd 3. */
  resultCapBytes?: number;
}

export interface ConfinedRun {
  ending: Ending;
  stdout: CappedBuffer;
  stderr: CappedBuffer;
  /** What the child wrote on fd 3, when asked for. */
  result: CappedBuffer | null;
}

export function runConfined(spec: ConfinedSpec): Promise<ConfinedRun> {
  return new Promise((resolve) => {
    const withResult = spec.resultCapBytes !== undefined;
    // No `env`: the child inherits the agent's environment on purpose, whose
    // HTTP(S)_PROXY and NO_PROXY send curl, npm, pip and the like through the egress proxy.
    const child = spawn(spec.file, [...spec.args], {
      cwd: spec.cwd,
      detached: true,
      stdio: [spec.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe', ...(withResult ? ['pipe' as const] : [])],
    });
    const stdout = new CappedBuffer(OUTPUT_CAP_BYTES);
    const stderr = new CappedBuffer(OUTPUT_CAP_BYTES);
    const result = withResult ? new CappedBuffer(spec.resultCapBytes ?? 0) : null;
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    const resultPipe = child.stdio[3];
    resultPipe?.on('data', (chunk: Buffer) => result?.push(chunk));
    if (spec.input !== undefined && child.stdin) writeInput(child.stdin, spec.input);

    let forced: Ending | null = null;
    const killGroup = (reason: Ending): void => {
      forced ??= reason;
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is already gone; there is nothing left to stop.
      }
    };
    const timer = setTimeout(() => killGroup({ kind: 'timed_out', timeoutMs: spec.timeoutMs }), spec.timeoutMs);
    const onAbort = (): void => killGroup({ kind: 'cancelled' });
    if (spec.signal.aborted) onAbort();
    else spec.signal.addEventListener('abort', onAbort, { once: true });

    let settled = false;
    const finish = (ending: Ending): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      spec.signal.removeEventListener('abort', onAbort);
      child.stdout?.destroy();
      child.stderr?.destroy();
      resultPipe?.destroy();
      resolve({ ending: forced ?? ending, stdout, stderr, result });
    };
    child.on('error', (err) => {
      stderr.push(Buffer.from(`could not start ${spec.file}: ${err.message}\n`));
      finish({ kind: 'exited', code: 127 });
    });
    child.on('exit', (code, signal) => {
      const ending: Ending =
        code !== null ? { kind: 'exited', code } : { kind: 'signalled', signal: signal ?? 'unknown' };
      const drained = setTimeout(() => finish(ending), DRAIN_AFTER_EXIT_MS);
      child.on('close', () => {
        clearTimeout(drained);
        finish(ending);
      });
    });
  });
}

/** A child that exits without reading its stdin closes the pipe (EPIPE): that is its business, not an error here. */
function writeInput(stdin: Writable, input: string): void {
  stdin.on('error', () => undefined);
  stdin.end(input);
}

export function describeEnding(ending: Ending): string {
  switch (ending.kind) {
    case 'exited':
      return `exit code: ${ending.code}`;
    case 'signalled':
      return `killed by signal ${ending.signal}`;
    case 'timed_out':
      return `timed out after ${ending.timeoutMs / 1000} s; the command and everything it started were killed`;
    case 'cancelled':
      return 'cancelled: the chat turn was stopped, so the command was killed';
  }
}

/** Keeps the first `cap` bytes of a stream and counts the rest. */
export class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  total = 0;

  constructor(private readonly cap: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    const room = this.cap - this.kept;
    if (room <= 0) return;
    const slice = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(slice);
    this.kept += slice.length;
  }

  /** Everything kept, or null when something was cut (a cut JSON document cannot be read). */
  whole(): string | null {
    return this.total > this.kept ? null : Buffer.concat(this.chunks).toString('utf8');
  }

  text(limit: number): string {
    const body = Buffer.concat(this.chunks).subarray(0, limit).toString('utf8');
    const cut = this.total - Math.min(this.total, limit);
    return cut > 0 ? `${body}\n[... ${cut} more bytes cut]` : body;
  }
}
