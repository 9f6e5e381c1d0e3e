#!/usr/bin/env node
// The legion CLI. Every command but `start` talks to the running mesh over its admin
// API, so any terminal can attach to the fleet.
import { Command } from 'commander';
import { LEGION_VERSION } from '../shared/paths.js';
import { registerStart } from './commands/start.js';
import { registerSetup } from './commands/setup.js';
import { registerFleet } from './commands/fleet.js';
import { registerChat } from './commands/chat.js';
import { registerAgent } from './commands/agent.js';
import { registerImage } from './commands/image.js';
import { registerDoctor } from './commands/doctor.js';
import { registerLogs } from './commands/logs.js';
import { registerCosts } from './commands/costs.js';
import { registerBlackboard } from './commands/blackboard.js';
import { registerPermissions } from './commands/permissions.js';
import { registerWebhook } from './commands/webhook.js';
import { registerCron, registerHeartbeat } from './commands/cron.js';
import { registerWorkflow } from './commands/workflow.js';
import { registerTemplates } from './commands/templates.js';
import { registerChannels } from './commands/channels.js';

const program = new Command();
program
  .name('legion')
  .description('Run a fleet of LLM agents, each in its own hardened Docker container, coordinated by one mesh.\nRun commands in the project directory (the one holding config/mesh.yaml).')
  .version(LEGION_VERSION)
  .showHelpAfterError();

registerSetup(program);
registerStart(program);
registerChat(program);
registerFleet(program);
registerAgent(program);
registerTemplates(program);
registerBlackboard(program);
registerLogs(program);
registerCosts(program);
registerPermissions(program);
registerWebhook(program);
registerCron(program);
registerHeartbeat(program);
registerWorkflow(program);
registerChannels(program);
registerImage(program);
registerDoctor(program);

await program.parseAsync(process.argv);
