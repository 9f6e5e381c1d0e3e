// Agent-API routes about the calling agent itself. The caller is request.agentName,
// established by the agent-token hook of the enclosing scope.
import type { FastifyPluginAsync } from 'fastify';
import { LegionError } from '../../shared/errors.js';
import { agentModel } from '../../shared/config/project.js';
import { AGENT_READY_ROUTE, type AgentRuntimeConfig } from '../../shared/wire/agent.js';
import type { AgentEntry } from '../../shared/config/schema.js';
import type { ProjectStore } from '../project-store.js';
import type { Fleet } from '../runtime/fleet.js';
import { loadContextWindows } from '../../shared/config/context-windows.js';
import { readWorkspaceSeeds } from './workspace-seeds.js';

export interface AgentSelfRoutesOptions {
  store: ProjectStore;
  fleet: Fleet;
  /** A live sub-agent's entry (its parent's, with its role, instructions and model); null otherwise. */
  subAgent: (name: string) => { entry: AgentEntry } | null;
}

export const agentSelfRoutes: FastifyPluginAsync<AgentSelfRoutesOptions> = async (app, { store, fleet, subAgent }) => {
  // Read once, when the agent API starts: a broken table stops the mesh with the file named.
  const contextWindows = loadContextWindows(store.get().dir);

  // Names and roles are not secret: every agent may see who else is in the fleet.
  app.post('/mesh/agents/list', async () => ({
    agents: (await fleet.status()).map((a) => ({ name: a.name, role: a.role, health: a.health })),
  }));

  // The caller's token was minted for the container now starting, so this can only be it.
  app.post(AGENT_READY_ROUTE, async (request, reply) => {
    fleet.announceReady(request.agentName);
    return reply.code(204).send();
  });

  app.get('/mesh/agent/config', async (request): Promise<AgentRuntimeConfig> => {
    const project = store.get();
    const sub = subAgent(request.agentName);
    const entry = project.agents[request.agentName] ?? sub?.entry;
    if (!entry) throw new LegionError('unknown_agent', `agent ${request.agentName} is no longer configured`);
    const model = sub?.entry.model ?? agentModel(project, request.agentName);
    return {
      agent: request.agentName,
      role: entry.role,
      model,
      system_prompt: entry.system_prompt,
      project_md: store.projectMd(),
      max_tool_rounds: entry.max_tool_rounds,
      context_window: entry.context_window ?? contextWindows.resolve(model).tokens,
      embedding_model: project.mesh.llm.embedding_model ?? null,
      memory: {
        vector_weight: project.mesh.memory.vector_weight,
        recency_half_life_days: project.mesh.memory.recency_half_life_days ?? null,
      },
      workspace_seeds: readWorkspaceSeeds(project.dir, request.agentName, request.log),
    };
  });
};
