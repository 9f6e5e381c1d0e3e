// POST /history on the agent server: this agent's daily log entries, for the mesh to
// hand to another agent that may read them (can_read_history is checked in the mesh;
// this route trusts the mesh's server token, like every other one). Only reads.
import type { FastifyInstance } from 'fastify';
import { parseOrThrow } from '../../shared/validate.js';
import { HistoryLookupSchema, type HistoryEntries } from '../../shared/wire/agent-history.js';
import { readDailyLogs } from './daily-log.js';

/** Registers the route on `scope`, which must already require the mesh's server token. */
export function registerHistoryRoute(scope: FastifyInstance, workspaceDir: string): void {
  scope.post('/history', async (request): Promise<HistoryEntries> => {
    const lookup = parseOrThrow(HistoryLookupSchema, request.body ?? {}, 'history request');
    return readDailyLogs(workspaceDir, lookup);
  });
}
