// One error shape for every mesh route: { error: { code, message, ... } } with the
// right status, never a stack trace.
import type { FastifyInstance, FastifyError } from 'fastify';
import { LegionError, type ErrorBody } from '../../shared/errors.js';

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | LegionError | Error, request, reply) => {
    let status = 500;
    let body: ErrorBody;
    if (err instanceof LegionError) {
      status = err.status;
      body = err.toBody();
    } else if ('statusCode' in err && typeof err.statusCode === 'number' && err.statusCode < 500) {
      status = err.statusCode;
      body = { code: err.code ?? 'bad_request', message: err.message };
    } else {
      request.log.error({ err, event: 'route_error' }, 'unhandled error in route');
      body = { code: 'internal', message: 'internal error in the mesh; see its log' };
    }
    void reply.status(status).send({ error: body });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url}` } });
  });
}
