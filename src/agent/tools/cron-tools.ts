// The agent's own schedule: cron jobs (set_cron, list_cron, remove_cron) and its
// heartbeat (set_heartbeat). Jobs and heartbeats live in the mesh, which runs them
// while this container is down and checks can_manage_cron; an agent only ever sees
// and removes its own jobs. A bad schedule or a denial comes back as a tool error
// whose text names the problem or the rule.
import { z } from 'zod';
import {
  CronJobListSchema,
  CronJobSchema,
  CronRemoveRequestSchema,
  CronRemoveResponseSchema,
  CronSetRequestSchema,
  type CronJob,
} from '../../shared/wire/cron.js';
import { HeartbeatSetRequestSchema, HeartbeatSettingSchema } from '../../shared/wire/heartbeat.js';
import { defineTool, type Tool } from './registry.js';
import type { MeshRpc } from './mesh-rpc.js';

function describeJob(job: CronJob): string {
  const last = job.last_run
    ? `last run ${job.last_run} (${job.last_status ?? '-'}${job.last_reason ? `: ${job.last_reason}` : ''})`
    : 'not run yet';
  const next = job.next_run ? `next run ${job.next_run}` : 'no next run';
  return `${job.id}: "${job.schedule}" (${job.tz}) → ${JSON.stringify(job.message)}; ${next}; ${last}`;
}

export function createCronTools(mesh: MeshRpc): Tool[] {
  return [
    defineTool({
      name: 'set_cron',
      description:
        'Schedule a message to yourself. schedule: 5 cron fields (minute hour day-of-month month day-of-week, names such as MON or JAN allowed), 6 fields (seconds first), "every 30s|5m|2h|1d", or "at 2030-01-31T09:00" (once). tz: IANA time zone (default UTC). Returns the job id.',
      schema: CronSetRequestSchema,
      run: async (args, ctx) => {
        const job = await mesh.call('/mesh/cron/set', args, CronJobSchema, ctx.trace);
        return { ok: true, output: `scheduled cron job ${job.id}: ${describeJob(job)}` };
      },
    }),
    defineTool({
      name: 'list_cron',
      description: 'List your cron jobs with their schedules, next and last runs.',
      schema: z.object({}),
      run: async (_args, ctx) => {
        const { jobs } = await mesh.call('/mesh/cron/list', {}, CronJobListSchema, ctx.trace);
        return { ok: true, output: jobs.length > 0 ? jobs.map(describeJob).join('\n') : 'you have no cron jobs' };
      },
    }),
    defineTool({
      name: 'remove_cron',
      description: 'Remove one of your cron jobs by id (list_cron shows the ids).',
      schema: CronRemoveRequestSchema,
      run: async ({ id }, ctx) => {
        const result = await mesh.call('/mesh/cron/remove', { id }, CronRemoveResponseSchema, ctx.trace);
        return { ok: true, output: `removed cron job ${result.removed}` };
      },
    }),
    defineTool({
      name: 'set_heartbeat',
      description:
        'Set how often the mesh checks on you ("15m", or "off"). Checks cost nothing; you are woken only when one finds something. probes (default: pending_deliveries, queued_items, heartbeat_rules): any of those, workspace_changed, {"blackboard_changed":{"prefix":"tasks/"}}, {"disk_usage":{"over_percent":90}}. Write standing rules for these wake-ups in HEARTBEAT.md.',
      schema: HeartbeatSetRequestSchema,
      run: async (args, ctx) => {
        const setting = await mesh.call('/mesh/heartbeat/set', args, HeartbeatSettingSchema, ctx.trace);
        if (setting.every === null) return { ok: true, output: 'heartbeat off' };
        return {
          ok: true,
          output: `heartbeat every ${setting.every}, probes ${JSON.stringify(setting.probes)}${setting.next_beat ? `; next beat ${setting.next_beat}` : ''}`,
        };
      },
    }),
  ];
}
