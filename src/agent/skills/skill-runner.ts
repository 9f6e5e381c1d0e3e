// Runs a skill's tool module in a child process (module-host.js) through
// runConfined, exactly as exec runs a command: in the workspace, its own process group,
// killed whole on timeout or a cancelled turn. Invariants: never rejects; a module that
// throws, hangs, exits or prints garbage yields { ok: false } with a reason the model
// can act on (its stderr included), and the agent process is never touched by it.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeEnding, OUTPUT_CAP_BYTES, runConfined, type ConfinedRun } from '../tools/confined-process.js';
import { formatOutput } from '../tools/exec.js';
import { HostAnswerSchema, type HostAnswer, type HostRequest } from './host-protocol.js';

// Beside this module: dist/agent/skills/, or in the image dist/agent-bundle/, where the
// build bundles module-host.js as an entry of its own.
const HOST_SCRIPT = fileURLToPath(new URL('./module-host.js', import.meta.url));
/** Loading a module and reading its exports; a module that takes longer is refused. */
export const DESCRIBE_TIMEOUT_MS = 10_000;
/** Room for the exports (a large schema) or a result; the model sees at most OUTPUT_CAP_BYTES of it. */
const ANSWER_CAP_BYTES = 1024 * 1024;

export type HostOutcome = { ok: true; answer: Extract<HostAnswer, { ok: true }> } | { ok: false; reason: string };

export interface HostCall {
  request: HostRequest;
  workspaceDir: string;
  timeoutMs: number;
  signal: AbortSignal;
}

export async function callModuleHost(call: HostCall): Promise<HostOutcome> {
  const run = await runConfined({
    file: process.execPath,
    args: [HOST_SCRIPT],
    cwd: call.workspaceDir,
    timeoutMs: call.timeoutMs,
    signal: call.signal,
    input: JSON.stringify(call.request),
    resultCapBytes: ANSWER_CAP_BYTES,
  });
  return readAnswer(run, path.basename(call.request.module));
}

function readAnswer(run: ConfinedRun, file: string): HostOutcome {
  const text = run.result?.whole() ?? null;
  if (!text) {
    const why =
      run.ending.kind === 'exited'
        ? `${file} ended (${describeEnding(run.ending)}) without answering; did it call process.exit?`
        : `${file} gave no answer: ${describeEnding(run.ending)}`;
    return { ok: false, reason: withOutput(why, run) };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: withOutput(`${file} sent an answer that is not JSON`, run) };
  }
  const answer = HostAnswerSchema.safeParse(parsed);
  if (!answer.success) return { ok: false, reason: withOutput(`${file} sent an answer of the wrong shape`, run) };
  if (!answer.data.ok) return { ok: false, reason: withOutput(answer.data.error, run) };
  return { ok: true, answer: answer.data };
}

/** What the module printed helps the model see why it failed. */
function withOutput(reason: string, run: ConfinedRun): string {
  if (run.stdout.total === 0 && run.stderr.total === 0) return reason;
  return `${reason}\n${formatOutput(run)}`;
}

/** A tool result's text, cut to what a tool may show the model. */
export function capOutput(text: string): string {
  if (Buffer.byteLength(text) <= OUTPUT_CAP_BYTES) return text;
  const cut = Buffer.from(text).subarray(0, OUTPUT_CAP_BYTES).toString('utf8');
  return `${cut}\n[... ${Buffer.byteLength(text) - OUTPUT_CAP_BYTES} more bytes cut]`;
}
