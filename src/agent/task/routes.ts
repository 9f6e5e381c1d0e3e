// Task mode's HTTP routes on the agent server, registered inside its authenticated
// scope (the mesh's server token, as for /chat). Invariants: every answer body is a
// TaskResult or the server's { error: { code, message } }; POST /task answers at once,
// 202 when it queued the task and 200 when the id was known (the stored result, so a
// re-dispatch is harmless); an unknown task id is a 404 on every route.
import type { FastifyInstance } from 'fastify';
import type { TaskResult } from '../../shared/wire/task.js';
import type { TaskRunner } from './runner.js';

interface TaskParams {
  task_id: string;
}

export function registerTaskRoutes(scope: FastifyInstance, tasks: TaskRunner): void {
  scope.post('/task', async (request, reply) => {
    const { result, created } = tasks.accept(request.body);
    return reply.status(created ? 202 : 200).send(result);
  });

  scope.get<{ Params: TaskParams }>('/result/:task_id', async (request): Promise<TaskResult> => tasks.result(request.params.task_id));

  scope.post<{ Params: TaskParams }>('/cancel/:task_id', async (request): Promise<TaskResult> => tasks.cancel(request.params.task_id));
}
