// POST /mesh/browser/evaluate on the agent API: the gate of browser_evaluate. The
// agent asks before it runs a script in a page; only can_browser_evaluate (off by
// default) grants it, a denial is a 403 naming the flag, and each grant is one
// `browser_evaluate` event with the page's URL and the script's size.
import type { FastifyPluginAsync } from 'fastify';
import { LegionError } from '../../shared/errors.js';
import { parseOrThrow } from '../../shared/validate.js';
import { BrowserEvaluateRequestSchema } from '../../shared/wire/browser.js';
import type { EventLog } from '../events/log.js';
import type { FlagChecker } from '../permissions/types.js';

export interface BrowserRoutesOptions {
  permissions: FlagChecker;
  events: EventLog;
}

export const browserAgentRoutes: FastifyPluginAsync<BrowserRoutesOptions> = async (app, { permissions, events }) => {
  app.post('/mesh/browser/evaluate', async (request): Promise<{ granted: true }> => {
    const body = parseOrThrow(BrowserEvaluateRequestSchema, request.body, 'body');
    const agent = request.agentName;
    const subject = body.url.slice(0, 500);
    const decision = permissions.flag(agent, 'can_browser_evaluate');
    if (!decision.allowed) {
      events.record({
        agent,
        kind: 'denied',
        subject,
        detail: { permission: 'can_browser_evaluate', reason: decision.reason },
        trace: request.trace,
      });
      throw new LegionError('forbidden', decision.reason);
    }
    events.record({
      agent,
      kind: 'browser_evaluate',
      subject,
      detail: { expression_chars: body.expression_chars },
      trace: request.trace,
    });
    return { granted: true };
  });
};
