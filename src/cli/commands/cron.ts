// legion cron add|list|remove|run|runs and legion heartbeat, over the admin API.
// `cron add` prints the new job's id as its last line, alone, so a script can capture
// it (`id=$(legion cron add … | tail -n1)`), as `docker run -d` prints a container id.
// Schedules are checked by the mesh, whose 400 names the problem.
import { InvalidArgumentError, type Command } from 'commander';
import {
  CronJobListSchema,
  CronJobSchema,
  CronRemoveResponseSchema,
  CronRunListSchema,
  CronRunNowResponseSchema,
  MissedPolicySchema,
  type CronAddRequest,
  type CronJob,
  type CronRun,
  type MissedPolicy,
} from '../../shared/wire/cron.js';
import { HeartbeatStatusSchema, type Beat } from '../../shared/wire/heartbeat.js';
import { MeshClient } from '../mesh-client.js';
import { formatTable } from '../render.js';
import { commandAction, projectDir } from '../run.js';

function missedPolicy(text: string): MissedPolicy {
  const parsed = MissedPolicySchema.safeParse(text);
  if (!parsed.success) throw new InvalidArgumentError(`--missed expects run or skip, got "${text}"`);
  return parsed.data;
}

function count(text: string): number {
  if (!/^\d{1,4}$/.test(text) || Number(text) < 1)
    throw new InvalidArgumentError(`expected a number of lines from 1 to 9999, got "${text}"`);
  return Number(text);
}

const orDash = (value: string | null): string => value ?? '-';

function statusText(status: string | null, reason: string | null): string {
  return status === null ? '-' : reason ? `${status}: ${reason}` : status;
}

function formatJobs(jobs: CronJob[]): string {
  if (jobs.length === 0) return 'no cron jobs (add one with `legion cron add <agent> "<schedule>" "<message>"`)';
  return formatTable([
    ['ID', 'AGENT', 'SCHEDULE', 'TZ', 'NEXT RUN', 'LAST RUN', 'LAST STATUS'],
    ...jobs.map((job) => [
      job.id,
      job.agent,
      job.schedule,
      job.tz,
      orDash(job.next_run),
      orDash(job.last_run),
      statusText(job.last_status, job.last_reason),
    ]),
  ]);
}

function formatRuns(runs: CronRun[]): string {
  if (runs.length === 0) return 'this job has not run yet';
  return formatTable([
    ['RUN', 'TRIGGER', 'FIRED', 'STATUS', 'LANE ITEM'],
    ...runs.map((run) => [
      run.id,
      run.trigger,
      run.fired_at,
      statusText(run.status, run.reason),
      orDash(run.lane_item),
    ]),
  ]);
}

function formatBeats(beats: Beat[]): string {
  if (beats.length === 0) return 'no beats yet';
  return formatTable([
    ['BEAT', 'AGENT', 'AT', 'OUTCOME', 'FIRED', 'COST'],
    ...beats.map((beat) => [
      beat.id,
      beat.agent,
      beat.at,
      statusText(beat.outcome, beat.reason),
      beat.findings
        .filter((f) => f.fired)
        .map((f) => f.probe)
        .join(', ') || '-',
      beat.cost_usd === null ? '-' : `$${beat.cost_usd.toFixed(6)} (${beat.calls ?? 0} calls)`,
    ]),
  ]);
}

export function registerCron(program: Command): void {
  const cron = program.command('cron').description('schedule messages to agents: add, list, remove, run now');

  cron
    .command('add <agent> <schedule> <message>')
    .description(
      'add a job; schedule: 5 or 6 cron fields (6: seconds first), "every 30s|5m|2h|1d" or "at <ISO time>". Prints the job id last.',
    )
    .option('--tz <zone>', 'IANA time zone the schedule is read in (default UTC)')
    .option(
      '--missed <policy>',
      'a run that fell due while the mesh was down: run (once, at start-up) or skip',
      missedPolicy,
    )
    .action(
      commandAction(
        async (agent: string, schedule: string, message: string, options: { tz?: string; missed?: MissedPolicy }) => {
          const client = MeshClient.connect(projectDir());
          const request: CronAddRequest = {
            agent,
            schedule,
            message,
            ...(options.tz ? { tz: options.tz } : {}),
            ...(options.missed ? { missed: options.missed } : {}),
          };
          const job = await client.requestJson('POST', '/api/cron/jobs', CronJobSchema, request);
          process.stdout.write(
            `added a cron job for ${job.agent}: "${job.schedule}" (${job.tz}), next run ${orDash(job.next_run)}\n${job.id}\n`,
          );
        },
      ),
    );

  cron
    .command('list')
    .description('list cron jobs: schedule, next run, last run and its status')
    .option('--agent <name>', 'only the jobs of this agent')
    .action(
      commandAction(async (options: { agent?: string }) => {
        const query = options.agent ? `?agent=${encodeURIComponent(options.agent)}` : '';
        const { jobs } = await MeshClient.connect(projectDir()).requestJson(
          'GET',
          `/api/cron/jobs${query}`,
          CronJobListSchema,
        );
        process.stdout.write(`${formatJobs(jobs)}\n`);
      }),
    );

  cron
    .command('remove <id>')
    .description('remove a job and its run history')
    .action(
      commandAction(async (id: string) => {
        const result = await MeshClient.connect(projectDir()).requestJson(
          'DELETE',
          `/api/cron/jobs/${encodeURIComponent(id)}`,
          CronRemoveResponseSchema,
        );
        process.stdout.write(`removed cron job ${result.removed}\n`);
      }),
    );

  cron
    .command('run <id>')
    .description('fire a job now, whatever its schedule says (not while its previous run is still going)')
    .action(
      commandAction(async (id: string) => {
        const { run } = await MeshClient.connect(projectDir()).requestJson(
          'POST',
          `/api/cron/jobs/${encodeURIComponent(id)}/run`,
          CronRunNowResponseSchema,
        );
        if (run.status === 'pending')
          process.stdout.write(
            `fired ${id}: run ${run.id} queued for ${run.agent} (lane item ${orDash(run.lane_item)})\n`,
          );
        else process.stdout.write(`${id} did not fire: ${statusText(run.status, run.reason)}\n`);
      }),
    );

  cron
    .command('runs <id>')
    .description("a job's recent runs, newest first")
    .option('-n, --lines <n>', 'how many runs', count, 20)
    .action(
      commandAction(async (id: string, options: { lines: number }) => {
        const { runs } = await MeshClient.connect(projectDir()).requestJson(
          'GET',
          `/api/cron/jobs/${encodeURIComponent(id)}/runs?limit=${Math.min(options.lines, 200)}`,
          CronRunListSchema,
        );
        process.stdout.write(`${formatRuns(runs)}\n`);
      }),
    );
}

export function registerHeartbeat(program: Command): void {
  program
    .command('heartbeat')
    .description("each agent's heartbeat (how often its probes run, which ones) and the recent beats")
    .option('--agent <name>', 'only this agent')
    .option('-n, --lines <n>', 'how many recent beats', count, 20)
    .action(
      commandAction(async (options: { agent?: string; lines: number }) => {
        const query = new URLSearchParams({ limit: String(Math.min(options.lines, 1000)) });
        if (options.agent) query.set('agent', options.agent);
        const status = await MeshClient.connect(projectDir()).requestJson(
          'GET',
          `/api/heartbeat?${query.toString()}`,
          HeartbeatStatusSchema,
        );
        const settings = formatTable([
          ['AGENT', 'EVERY', 'PROBES', 'SOURCE', 'NEXT BEAT'],
          ...status.settings.map((s) => [
            s.agent,
            s.every ?? 'off',
            s.every === null ? '-' : JSON.stringify(s.probes),
            s.source,
            orDash(s.next_beat),
          ]),
        ]);
        process.stdout.write(`${settings}\n\n${formatBeats(status.beats)}\n`);
      }),
    );
}
