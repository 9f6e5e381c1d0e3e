// MCP servers as a mesh domain: the remote servers the mesh connects to on agents'
// behalf (with $CRED headers and the agents' egress rules) and the state of every
// agent's servers for `legion status`. No tables: connections and reported states
// live in memory and are rebuilt when agents start.
import type { DomainModule } from '../domain.js';
import { CredentialStore } from '../credentials/store.js';
import { meshDestinations } from '../egress/context.js';
import type { EventLog } from '../events/log.js';
import type { PermissionMatrix } from '../permissions/matrix.js';
import { McpRegistry } from './registry.js';
import { mcpAgentRoutes } from './routes.js';

export const mcpDomain: DomainModule<'mcp', { events: EventLog; permissions: PermissionMatrix }, McpRegistry> = {
  name: 'mcp',
  migrations: [],
  create: ({ logger, runtime }, { events, permissions }) => {
    const registry = new McpRegistry({
      agents: () => runtime.project().agents,
      permissions,
      events,
      credentials: new CredentialStore(() => runtime.project().env),
      destinations: meshDestinations(runtime.project),
      logger,
    });
    return {
      api: registry,
      agentRoutes: async (app) => {
        await app.register(mcpAgentRoutes, { registry });
      },
      close: () => registry.close(),
    };
  },
};
