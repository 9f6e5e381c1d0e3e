// The child process a skill's tool module runs in (`node dist/agent/skills/module-host.js`),
// one per describe or call, started through confined-process.ts like an exec command.
// Reads one JSON request on stdin ({mode: "describe"|"run", module, args?}) and writes
// one JSON answer (HostAnswer) on fd 3, so whatever the module prints on stdout or
// stderr cannot be mistaken for its result. Invariants: an error the module throws
// (while loading or in run) becomes { ok: false, error } with its message; the process
// exits as soon as the answer is written, so timers a module leaves behind cannot keep
// it alive; a module that hangs or exits by itself leaves no answer, and the parent
// says so from how the process ended.
import { writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
// Types only: the child loads nothing but the module, so a call costs one node start.
import type { HostAnswer, HostRequest } from './host-protocol.js';

const RESULT_FD = 3;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

function answer(value: HostAnswer): never {
  writeSync(RESULT_FD, JSON.stringify(value));
  process.exit(0);
}

function message(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return typeof err === 'string' ? err : (JSON.stringify(err) ?? String(err));
}

function asText(value: unknown): string {
  if (value === undefined) return '(the tool returned nothing)';
  if (typeof value === 'string') return value;
  return JSON.stringify(value, null, 2) ?? String(value);
}

async function main(): Promise<void> {
  // The request comes from the agent itself (skill-runner.ts), never from the model.
  const request = JSON.parse(await readStdin()) as HostRequest;
  let loaded: Record<string, unknown>;
  try {
    loaded = { ...(await import(pathToFileURL(request.module).href)) };
  } catch (err) {
    answer({ ok: false, error: `the module failed to load: ${message(err)}` });
  }
  if (request.mode === 'describe') {
    answer({
      ok: true,
      exports: {
        name: loaded.name,
        description: loaded.description,
        parameters: loaded.parameters,
        timeout_s: loaded.timeout_s,
        run: typeof loaded.run,
      },
    });
  }
  const run = loaded.run;
  if (typeof run !== 'function') answer({ ok: false, error: 'the module exports no run function' });
  try {
    answer({ ok: true, output: asText(await run(request.args ?? {})) });
  } catch (err) {
    answer({ ok: false, error: message(err) });
  }
}

// Errors the module leaves unhandled (a rejected promise nobody awaited, a throw in a
// timer) end the call with that error rather than a bare crash.
process.on('uncaughtException', (err) => answer({ ok: false, error: message(err) }));
process.on('unhandledRejection', (err) => answer({ ok: false, error: message(err) }));
await main();
