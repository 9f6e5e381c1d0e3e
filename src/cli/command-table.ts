// Which module registers each top-level command. Only the module of the command being
// run is imported (the mesh, Docker and the provider SDKs take about a second to load),
// so `legion --version` or `legion chat` start about as fast as node itself; help and
// unknown commands load them all so commander can list every command and suggest one.
// tests/unit/cli-command-table.test.ts checks each entry's names against what its
// module really registers.
import type { Command } from 'commander';

export type Register = (program: Command) => void;

/** Top-level command names → the module that registers them. */
export const COMMANDS: ReadonlyArray<{ names: readonly string[]; load: () => Promise<Register[]> }> = [
  { names: ['setup'], load: async () => [(await import('./commands/setup.js')).registerSetup] },
  { names: ['start', '_mesh'], load: async () => [(await import('./commands/start.js')).registerStart] },
  { names: ['chat'], load: async () => [(await import('./commands/chat.js')).registerChat] },
  { names: ['status', 'stop'], load: async () => [(await import('./commands/fleet.js')).registerFleet] },
  { names: ['agent'], load: async () => [(await import('./commands/agent.js')).registerAgent] },
  { names: ['templates'], load: async () => [(await import('./commands/templates.js')).registerTemplates] },
  { names: ['blackboard'], load: async () => [(await import('./commands/blackboard.js')).registerBlackboard] },
  { names: ['logs'], load: async () => [(await import('./commands/logs.js')).registerLogs] },
  { names: ['costs'], load: async () => [(await import('./commands/costs.js')).registerCosts] },
  { names: ['permissions'], load: async () => [(await import('./commands/permissions.js')).registerPermissions] },
  { names: ['webhook'], load: async () => [(await import('./commands/webhook.js')).registerWebhook] },
  {
    names: ['cron', 'heartbeat'],
    load: async () => {
      const m = await import('./commands/cron.js');
      return [m.registerCron, m.registerHeartbeat];
    },
  },
  { names: ['workflow'], load: async () => [(await import('./commands/workflow.js')).registerWorkflow] },
  { names: ['channels'], load: async () => [(await import('./commands/channels.js')).registerChannels] },
  { names: ['image'], load: async () => [(await import('./commands/image.js')).registerImage] },
  { names: ['dashboard'], load: async () => [(await import('./commands/dashboard.js')).registerDashboard] },
  { names: ['doctor'], load: async () => [(await import('./commands/doctor.js')).registerDoctor] },
];

/** The command's first word; undefined for `--version`, `--help` or nothing. */
function commandWord(argv: readonly string[]): string | undefined {
  const word = argv[2];
  return word === undefined || word.startsWith('-') ? undefined : word;
}

export async function registrations(argv: readonly string[]): Promise<Register[]> {
  const word = commandWord(argv);
  const versionOnly = word === undefined && argv.slice(2).some((a) => a === '--version' || a === '-V');
  if (versionOnly) return [];
  const own = word === undefined ? undefined : COMMANDS.find((c) => c.names.includes(word));
  const chosen = own ? [own] : COMMANDS;
  return (await Promise.all(chosen.map((c) => c.load()))).flat();
}
