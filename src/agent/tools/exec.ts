// The exec tool: one shell command in the workspace.
// Invariants: the command runs in its own process group, and on timeout or a cancelled
// turn the whole group is killed, so nothing it started keeps running unseen; the
// result always says how the command ended (exit code, signal, timeout); output
// returned to the model never exceeds OUTPUT_CAP_BYTES plus the cut markers.
import { spawn } from 'node:child_process';
import { z } from 'zod';
import { defineTool, type ToolContext, type ToolResult } from './registry.js';

export const DEFAULT_EXEC_TIMEOUT_S = 30;
export const MAX_EXEC_TIMEOUT_S = 600;
export const OUTPUT_CAP_BYTES = 16 * 1024;
// A background job (`server &`) can hold stdout open after the shell exits; waiting
// for it would hang the turn, so the pipes get this long to drain after exit.
const DRAIN_AFTER_EXIT_MS = 200;

const ExecArgsSchema = z.strictObject({
  command: z.string().min(1).describe('Shell command, run with /bin/sh -c in the workspace directory.'),
  timeout_s: z
    .number()
    .positive()
    .max(MAX_EXEC_TIMEOUT_S)
    .optional()
    .describe(
      `Seconds before the command is killed (default ${DEFAULT_EXEC_TIMEOUT_S}, at most ${MAX_EXEC_TIMEOUT_S}).`,
    ),
});

export const execTool = defineTool({
  name: 'exec',
  description:
    'Run a shell command (/bin/sh -c) with the workspace as working directory. Returns the exit code, stdout and stderr (capped).',
  schema: ExecArgsSchema,
  run: (args, ctx) => runCommand(args.command, (args.timeout_s ?? DEFAULT_EXEC_TIMEOUT_S) * 1000, ctx),
});

type Ending =
  | { kind: 'exited'; code: number }
  | { kind: 'signalled'; signal: string }
  | { kind: 'timed_out'; timeoutMs: number }
  | { kind: 'cancelled' };

function runCommand(command: string, timeoutMs: number, ctx: ToolContext): Promise<ToolResult> {
  return new Promise((resolve) => {
    // No `env`: the command inherits the agent's environment on purpose, whose
    // HTTP(S)_PROXY and NO_PROXY send curl, npm, pip and the like through the egress proxy.
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: ctx.workspaceDir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout = new CappedBuffer(OUTPUT_CAP_BYTES);
    const stderr = new CappedBuffer(OUTPUT_CAP_BYTES);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));

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
    const timer = setTimeout(() => killGroup({ kind: 'timed_out', timeoutMs }), timeoutMs);
    const onAbort = (): void => killGroup({ kind: 'cancelled' });
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });

    let settled = false;
    const finish = (ending: Ending): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve(formatResult(forced ?? ending, stdout, stderr));
    };
    child.on('error', (err) => {
      stderr.push(Buffer.from(`could not start /bin/sh: ${err.message}\n`));
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

function formatResult(ending: Ending, stdout: CappedBuffer, stderr: CappedBuffer): ToolResult {
  const outLimit = Math.max(OUTPUT_CAP_BYTES / 2, OUTPUT_CAP_BYTES - stderr.total);
  const errLimit = OUTPUT_CAP_BYTES - Math.min(stdout.total, outLimit);
  const output = [
    describeEnding(ending),
    `stdout:\n${stdout.text(outLimit)}`,
    `stderr:\n${stderr.text(errLimit)}`,
  ].join('\n');
  return { ok: ending.kind === 'exited' && ending.code === 0, output };
}

function describeEnding(ending: Ending): string {
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
class CappedBuffer {
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

  text(limit: number): string {
    const body = Buffer.concat(this.chunks).subarray(0, limit).toString('utf8');
    const cut = this.total - Math.min(this.total, limit);
    return cut > 0 ? `${body}\n[... ${cut} more bytes cut]` : body;
  }
}
