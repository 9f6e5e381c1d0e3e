// save_artifact's mesh half: the file lives in the agent's /data/artifacts; the mesh
// registers it on the blackboard under artifacts/<agent>/<name>. An agent always may
// register in its own artifacts/ namespace, and only there.
import type { FastifyPluginAsync } from 'fastify';
import { parseOrThrow } from '../../shared/validate.js';
import { ArtifactRegisterRequestSchema } from '../../shared/wire/fleet.js';
import type { BlackboardStore } from '../blackboard/store.js';
import type { EventLog } from '../events/log.js';

export const artifactRoutes: FastifyPluginAsync<{ store: BlackboardStore; events: EventLog }> = async (
  app,
  { store, events },
) => {
  app.post('/mesh/artifacts/register', async (request) => {
    const { name, size, sha256 } = parseOrThrow(ArtifactRegisterRequestSchema, request.body, 'body');
    const key = `artifacts/${request.agentName}/${name}`;
    const result = store.set({
      key,
      value: {
        path: `/data/artifacts/${name}`,
        size,
        sha256,
        agent: request.agentName,
        saved_at: new Date().toISOString(),
      },
      writer: request.agentName,
    });
    events.record({
      agent: request.agentName,
      kind: 'artifact',
      subject: key,
      detail: { size, version: result.version },
      trace: request.trace,
    });
    return { key, version: result.version };
  });
};
