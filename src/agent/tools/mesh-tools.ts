// Tools that act through the mesh: the fleet list, shared state (blackboard),
// pub/sub, messages, artifacts and HTTP requests with credentials. Every call carries
// the agent's token and the turn's trace; the mesh checks the permission matrix. A
// denial (403) or any other mesh error comes back as a tool error the model can read:
// runToolCall turns the thrown LegionError into { ok: false } with its message, which
// names the rule.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import {
  ArtifactRegisterRequestSchema,
  ArtifactRegisterResponseSchema,
  FleetListSchema,
  PublishResponseSchema,
  SendMessageResponseSchema,
  SubscribeResponseSchema,
  TopicPatternSchema,
  TopicSchema,
} from '../../shared/wire/fleet.js';
import { AgentNameSchema } from '../../shared/names.js';
import { resolveConfinedPath } from './paths.js';
import type { MeshRpc } from './mesh-rpc.js';
import { defineTool, type Tool } from './registry.js';
import { createBlackboardTools } from './blackboard-tools.js';
import { createHttpTool } from './http-tool.js';
import { createCronTools } from './cron-tools.js';
import { createSearchTool } from './search-tool.js';
import { createNotifyTool } from './notify-tool.js';
import { createHistoryTool } from './history-tool.js';
import { createSpawnTool } from './spawn-tool.js';

const json = (value: unknown) => JSON.stringify(value, null, 2);

export function createMeshTools(mesh: MeshRpc): Tool[] {
  return [
    defineTool({
      name: 'list_agents',
      description: 'List the agents of the fleet with their roles and health, to know whom to message or hand work to.',
      schema: z.object({}),
      run: async (_args, ctx) => ({
        ok: true,
        output: json((await mesh.call('/mesh/agents/list', {}, FleetListSchema, ctx.trace)).agents),
      }),
    }),
    ...createBlackboardTools(mesh),
    defineTool({
      name: 'publish_event',
      description: 'Publish an event on a topic; every agent subscribed to it is woken with the payload.',
      schema: z.object({ topic: TopicSchema, payload: z.unknown().describe('any JSON value') }),
      run: async ({ topic, payload }, ctx) => {
        const result = await mesh.call(
          '/mesh/pubsub/publish',
          { topic, payload: payload ?? null },
          PublishResponseSchema,
          ctx.trace,
        );
        const refused = result.refused.map((r) => `not delivered to ${r.agent}: ${r.reason}`);
        return {
          ok: true,
          output: [
            `published ${result.event_id} on ${result.topic} to ${result.deliveries} subscriber(s)`,
            ...refused,
          ].join('\n'),
        };
      },
    }),
    defineTool({
      name: 'subscribe_event',
      description:
        'Subscribe to a topic (globs such as new_* allowed); you will be woken with each event published on it.',
      schema: z.object({ topic: TopicPatternSchema }),
      run: async ({ topic }, ctx) => {
        const result = await mesh.call('/mesh/pubsub/subscribe', { topic }, SubscribeResponseSchema, ctx.trace);
        return { ok: true, output: `subscribed to ${result.topic}` };
      },
    }),
    defineTool({
      name: 'send_message',
      description:
        "Send a message to another agent; it is delivered on that agent's queue and wakes it. Returns a delivery id at once.",
      schema: z.object({ agent: AgentNameSchema, message: z.string().min(1) }),
      run: async ({ agent, message }, ctx) => {
        const result = await mesh.call('/mesh/messages/send', { agent, message }, SendMessageResponseSchema, ctx.trace);
        return {
          ok: true,
          output: `message ${result.message_id} queued for ${result.to} (delivery ${result.delivery_id})`,
        };
      },
    }),
    defineTool({
      name: 'save_artifact',
      description:
        'Save a file under /data/artifacts and register it on the blackboard under artifacts/<your name>/<name> so other agents can find it.',
      schema: z.object({ name: ArtifactRegisterRequestSchema.shape.name, content: z.string() }),
      run: async ({ name, content }, ctx) => {
        const path = await resolveConfinedPath(`${ctx.dataDir}/artifacts/${name}`, ctx);
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, content);
        const size = Buffer.byteLength(content);
        const sha256 = createHash('sha256').update(content).digest('hex');
        const registered = await mesh.call(
          '/mesh/artifacts/register',
          { name, size, sha256 },
          ArtifactRegisterResponseSchema,
          ctx.trace,
        );
        return {
          ok: true,
          output: `saved ${path} (${size} bytes), registered as ${registered.key} version ${registered.version}`,
        };
      },
    }),
    createHttpTool(mesh),
    createSearchTool(mesh),
    ...createCronTools(mesh),
    createNotifyTool(mesh),
    createHistoryTool(mesh),
    createSpawnTool(mesh),
  ];
}
