#!/usr/bin/env node
// The legion CLI. Every command but `start` talks to the running mesh over its admin
// API, so any terminal can attach to the fleet. Only the command being run is loaded
// (see command-table.ts).
import { Command } from 'commander';
import { LEGION_VERSION } from '../shared/paths.js';
import { registrations } from './command-table.js';

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
