// Read-only detail of a run for the dashboard, on the admin API: the run's DAG as the
// definition snapshot it started with drew it, and one step in full (its view, the task
// input of its latest dispatch read back from its lane item, its transitions). An
// unknown run or step is a 404 naming it.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { LegionError } from '../../shared/errors.js';
import { parseOrThrow } from '../../shared/validate.js';
import type { RunGraph, StepDetail } from '../../shared/wire/workflow.js';
import type { LaneStore } from '../lanes/store.js';
import type { Orchestrator } from './orchestrator.js';
import type { WorkflowStore } from './store.js';
import { TaskItemBodySchema } from './task-delivery.js';

export interface WorkflowDetailRoutesOptions {
  orchestrator: Orchestrator;
  store: WorkflowStore;
  lanes: LaneStore;
}

const RunParams = z.object({ id: z.string() });
const StepParams = z.object({ id: z.string(), step: z.string() });

export const workflowDetailRoutes: FastifyPluginAsync<WorkflowDetailRoutesOptions> = async (
  app,
  { orchestrator, store, lanes },
) => {
  const runOf = (id: string) => {
    const run = store.run(id);
    if (!run) throw new LegionError('not_found', `no workflow run ${id} (see \`legion workflow status\`)`);
    return run;
  };

  app.get('/api/workflow-runs/:id/graph', async (request): Promise<RunGraph> => {
    const run = runOf(parseOrThrow(RunParams, request.params, 'path').id);
    return {
      run_id: run.id,
      steps: run.definition.steps.map((step) => ({
        id: step.id,
        target: step.agent ?? `role:${step.capability ?? ''}`,
        depends_on: step.depends_on,
        condition: step.condition ?? null,
      })),
    };
  });

  app.get('/api/workflow-runs/:id/steps/:step', async (request): Promise<StepDetail> => {
    const { id, step: stepId } = parseOrThrow(StepParams, request.params, 'path');
    runOf(id);
    const record = store.steps(id).find((s) => s.step_id === stepId);
    const view = orchestrator.view(id).steps.find((s) => s.id === stepId);
    if (!record || !view) throw new LegionError('not_found', `workflow run ${id} has no step ${stepId}`);
    const item = record.lane_item === null ? null : lanes.get(record.lane_item);
    const body = item ? TaskItemBodySchema.safeParse(item.body) : null;
    return {
      run_id: id,
      step: view,
      input: body?.success ? body.data.request.input : null,
      transitions: store.transitions(id, 0).filter((t) => t.step === stepId),
    };
  });
};
