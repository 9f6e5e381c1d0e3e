// The dashboard's two admin API routes, inside the admin-token scope: only whoever can
// read .legion/admin.token (the CLI) gets a login code or ends the sessions.
// POST /api/dashboard/login-codes -> a one-time login link; DELETE /api/dashboard/sessions -> all sessions end.
import type { FastifyPluginAsync } from 'fastify';
import type { LoginCodeResponse, RevokeSessionsResponse } from '../../shared/wire/dashboard.js';
import type { DashboardAccess } from './access.js';
import type { EventLog } from '../events/log.js';

export interface DashboardAdminRoutesOptions {
  access: DashboardAccess;
  events: EventLog;
  /** Where a browser opens the dashboard, e.g. http://127.0.0.1:8420. */
  origin: () => string;
}

export const dashboardAdminRoutes: FastifyPluginAsync<DashboardAdminRoutesOptions> = async (
  app,
  { access, events, origin },
) => {
  app.post('/api/dashboard/login-codes', async (_request, reply): Promise<LoginCodeResponse> => {
    const { code, expiresAt } = access.issueCode();
    events.record({
      agent: null,
      kind: 'dashboard_login_code',
      subject: 'dashboard',
      detail: { expires_at: new Date(expiresAt).toISOString() },
    });
    void reply.status(201);
    return {
      login_url: `${origin()}/ui/login?code=${encodeURIComponent(code)}`,
      expires_at: new Date(expiresAt).toISOString(),
    };
  });

  app.delete('/api/dashboard/sessions', async (): Promise<RevokeSessionsResponse> => {
    const revoked = access.revokeAll();
    events.record({ agent: null, kind: 'dashboard_revoked', subject: 'dashboard', detail: { sessions: revoked } });
    return { revoked };
  });
};
