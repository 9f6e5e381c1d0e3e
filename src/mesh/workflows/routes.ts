// Workflows on the admin API (behind the admin token): list the workflows, start a
// run, read runs and their transitions, cancel a run. Invariants: the list and a run
// start read config/workflows again first, so an edit applies at once and an invalid
// one is a 400 naming its problems (the previous definitions stay in force); an unknown
// workflow or run is a 404 naming it; a run is in mesh.db before its 202 goes out.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { queryInt } from '../../shared/wire/blackboard.js';
import { parseOrThrow } from '../../shared/validate.js';
import {
  StartRunRequestSchema,
  type RunStatus,
  type RunView,
  type Transition,
  type WorkflowSummary,
} from '../../shared/wire/workflow.js';
import type { WorkflowDefinitions } from './definitions.js';
import { summarizeWorkflow } from '../../shared/config/workflows/load.js';
import type { Orchestrator } from './orchestrator.js';
import type { WorkflowStore } from './store.js';

export interface WorkflowRoutesOptions {
  orchestrator: Orchestrator;
  definitions: WorkflowDefinitions;
  store: WorkflowStore;
}

export const MAX_RUNS_LISTED = 200;

const NameParams = z.object({ name: z.string() });
const RunParams = z.object({ id: z.string() });
const RunsQuery = z.object({ limit: queryInt(z.int().min(1).max(MAX_RUNS_LISTED)).default(20) });
const TransitionsQuery = z.object({ after: queryInt(z.int().min(0)).default(0) });

export const workflowAdminRoutes: FastifyPluginAsync<WorkflowRoutesOptions> = async (
  app,
  { orchestrator, definitions, store },
) => {
  app.get(
    '/api/workflows',
    async (): Promise<{ workflows: WorkflowSummary[] }> => ({
      workflows: [...definitions.reload().values()].map(summarizeWorkflow).sort((a, b) => a.name.localeCompare(b.name)),
    }),
  );

  app.post('/api/workflows/:name/runs', async (request, reply): Promise<RunView> => {
    const { name } = parseOrThrow(NameParams, request.params, 'path');
    const { input } = parseOrThrow(StartRunRequestSchema, request.body ?? {}, 'body');
    return reply.status(202).send(orchestrator.startManual(name, input ?? null));
  });

  app.get('/api/workflow-runs', async (request): Promise<{ runs: Omit<RunView, 'steps' | 'input'>[] }> => {
    const { limit } = parseOrThrow(RunsQuery, request.query, 'query');
    return { runs: store.listRuns(limit) };
  });

  app.get(
    '/api/workflow-runs/:id',
    async (request): Promise<RunView> => orchestrator.view(parseOrThrow(RunParams, request.params, 'path').id),
  );

  app.get(
    '/api/workflow-runs/:id/transitions',
    async (request): Promise<{ transitions: Transition[]; run_status: RunStatus }> => {
      const { id } = parseOrThrow(RunParams, request.params, 'path');
      const { after } = parseOrThrow(TransitionsQuery, request.query, 'query');
      // The status first: a page read after it can only hold more, so "final and empty" means all was read.
      const { status } = orchestrator.view(id);
      return { transitions: store.transitions(id, after), run_status: status };
    },
  );

  app.post(
    '/api/workflow-runs/:id/cancel',
    async (request): Promise<RunView> => orchestrator.cancel(parseOrThrow(RunParams, request.params, 'path').id),
  );
};
