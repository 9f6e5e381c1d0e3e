// Task mode's HTTP routes on the agent server, registered inside its authenticated
// scope (the mesh's server token, as for /chat). Invariants: every answer body is a
// TaskResult or the server's { error: { code, message } }; POST /task answers at once,
// 202 when it queued the task and 200 when the id was known (the stored result, so a
// re-dispatch is harmless); an unknown task id is a 404 on every route; GET /result
// with ?wait_s=N answers as soon as the task is final or after N seconds (a long-poll,
// so the mesh learns of a finished task at once without polling), and gives up early
// when the caller goes away.
import type { FastifyInstance } from 'fastify';
import { parseOrThrow } from '../../shared/validate.js';
import { ResultQuerySchema, type TaskResult } from '../../shared/wire/task.js';
import type { TaskRunner } from './runner.js';

interface TaskParams {
  task_id: string;
}

export function registerTaskRoutes(scope: FastifyInstance, tasks: TaskRunner): void {
  scope.post('/task', async (request, reply) => {
    const { result, created } = tasks.accept(request.body);
    return reply.status(created ? 202 : 200).send(result);
  });

  scope.get<{ Params: TaskParams }>('/result/:task_id', async (request, reply): Promise<TaskResult> => {
    const { wait_s: waitS } = parseOrThrow(ResultQuerySchema, request.query, 'query');
    if (waitS === undefined || waitS === 0) return tasks.result(request.params.task_id);
    const gone = new AbortController();
    // The response's close (not the request's, which fires once its body is read) means the caller left.
    reply.raw.once('close', () => gone.abort());
    return tasks.waitForFinal(request.params.task_id, waitS * 1000, gone.signal);
  });

  scope.post<{ Params: TaskParams }>(
    '/cancel/:task_id',
    async (request): Promise<TaskResult> => tasks.cancel(request.params.task_id),
  );
}
