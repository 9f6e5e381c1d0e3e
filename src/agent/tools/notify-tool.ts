// notify_user: the agent messages the Telegram and Discord users paired with it, first
// (a result, an alert). The mesh sends it, and only with can_notify_user; a denial comes
// back as a tool error naming the rule.
import { NotifyUserRequestSchema, NotifyUserResponseSchema } from '../../shared/wire/channels.js';
import { defineTool, type Tool } from './registry.js';
import type { MeshRpc } from './mesh-rpc.js';

export function createNotifyTool(mesh: MeshRpc): Tool {
  return defineTool({
    name: 'notify_user',
    description:
      'Send a message to the people paired with you on Telegram or Discord, without waiting for them to write first. Use it for results and alerts they asked to hear about.',
    schema: NotifyUserRequestSchema,
    run: async (args, ctx) => {
      const { users } = await mesh.call('/mesh/channels/notify', args, NotifyUserResponseSchema, ctx.trace);
      return {
        ok: true,
        output:
          users === 0
            ? 'nobody is paired with you on a channel; nothing was sent'
            : `queued for ${users} paired user${users === 1 ? '' : 's'}`,
      };
    },
  });
}
