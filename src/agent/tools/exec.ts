// The exec tool: one shell command in the workspace, run by confined-process.ts.
// Invariants: the command runs in its own process group, and on timeout or a cancelled
// turn the whole group is killed, so nothing it started keeps running unseen; the
// result always says how the command ended (exit code, signal, timeout); output
// returned to the model never exceeds OUTPUT_CAP_BYTES plus the cut markers.
import { z } from 'zod';
import { OUTPUT_CAP_BYTES, describeEnding, runConfined, type ConfinedRun } from './confined-process.js';
import { defineTool, type ToolContext, type ToolResult } from './registry.js';

export const DEFAULT_EXEC_TIMEOUT_S = 30;
export const MAX_EXEC_TIMEOUT_S = 600;

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

async function runCommand(command: string, timeoutMs: number, ctx: ToolContext): Promise<ToolResult> {
  const run = await runConfined({
    file: '/bin/sh',
    args: ['-c', command],
    cwd: ctx.workspaceDir,
    timeoutMs,
    signal: ctx.signal,
  });
  return { ok: run.ending.kind === 'exited' && run.ending.code === 0, output: formatOutput(run) };
}

/** How the child ended, then stdout and stderr sharing OUTPUT_CAP_BYTES (each keeps at least half when both are long). */
export function formatOutput(run: Pick<ConfinedRun, 'ending' | 'stdout' | 'stderr'>): string {
  const outLimit = Math.max(OUTPUT_CAP_BYTES / 2, OUTPUT_CAP_BYTES - run.stderr.total);
  const errLimit = OUTPUT_CAP_BYTES - Math.min(run.stdout.total, outLimit);
  return [
    describeEnding(run.ending),
    `stdout:\n${run.stdout.text(outLimit)}`,
    `stderr:\n${run.stderr.text(errLimit)}`,
  ].join('\n');
}
