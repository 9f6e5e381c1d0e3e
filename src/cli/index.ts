#!/usr/bin/env node
// The legion CLI. Every command but `start` talks to the running mesh over its admin
// API, so any terminal can attach to the fleet. Only the command being run is loaded
// (see command-table.ts).
import { Command } from 'commander';
import { setFlagsFromString } from 'node:v8';
import { LEGION_VERSION } from '../shared/paths.js';
import { registrations } from './command-table.js';

// fetch parses HTTP with undici's llhttp, a WebAssembly module that V8 first compiles
// quickly (Liftoff) and then recompiles optimized on a background thread; node waits
// for that background compile before it exits, which kept `legion chat -m` alive for
// 200-400 ms after the reply was printed. The CLI's responses are small: the first
// compile is all it needs.
setFlagsFromString('--liftoff-only');

const program = new Command();
program
  .name('legion')
  .description(
    'Run a fleet of LLM agents, each in its own hardened Docker container, coordinated by one mesh.\nRun commands in the project directory (the one holding config/mesh.yaml).',
  )
  .version(LEGION_VERSION)
  .showHelpAfterError();

for (const register of await registrations(process.argv)) register(program);

await program.parseAsync(process.argv);
