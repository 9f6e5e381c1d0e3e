// The optional public webhook listener (`webhooks: { host, port }` in config/mesh.yaml):
// a listener of its own that serves /webhook/* and nothing else, so a tunnel or a
// reverse proxy can expose hooks without exposing the admin API. Invariants: it has no
// /api route at all (not merely a guarded one); a bind failure names the config key.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { LegionError } from '../../../shared/errors.js';
import { installErrorHandler } from '../../http/errors.js';
import { webhookIngressRoutes, type WebhookIngressOptions } from './routes.js';

export interface PublicWebhookListener {
  url: string;
  close: () => Promise<void>;
}

export async function startPublicWebhookListener(
  host: string,
  port: number,
  routes: WebhookIngressOptions,
): Promise<PublicWebhookListener> {
  const loggerInstance: FastifyBaseLogger = routes.logger.child({ api: 'webhooks' });
  const app: FastifyInstance = Fastify({
    loggerInstance,
    logController: new LogController({ disableRequestLogging: true }),
  });
  installErrorHandler(app);
  await app.register(webhookIngressRoutes, routes);
  try {
    await app.listen({ host, port });
  } catch (err) {
    await app.close();
    const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
    if (code === 'EADDRINUSE')
      throw new LegionError(
        'port_in_use',
        `port ${port} on ${host} is taken; set webhooks.port in config/mesh.yaml to a free port`,
      );
    if (code === 'EADDRNOTAVAIL')
      throw new LegionError(
        'address_unavailable',
        `cannot listen for webhooks on ${host}: no such address on this machine (webhooks.host in config/mesh.yaml)`,
      );
    throw err;
  }
  const address = app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return { url: `http://${host}:${actualPort}`, close: () => app.close() };
}
