// legion costs [--agent A] [--period today|week|month] [--json], and the REPL's /costs:
// LLM spending by agent and model over a calendar period of the mesh's time zone, with
// totals and each budget's limit, spent and remaining. Reads GET /api/costs only; the
// period is checked here against the wire schema, so a typo fails before any request.
import { Option, type Command } from 'commander';
import { formatUsd } from '../../shared/money.js';
import {
  CostPeriodSchema,
  CostReportSchema,
  type CostPeriod,
  type CostQuery,
  type CostReport,
} from '../../shared/wire/costs.js';
import { MeshClient } from '../mesh-client.js';
import { formatTable } from '../render.js';
import { commandAction, projectDir } from '../run.js';

const REPL_USAGE = 'usage: /costs [today|week|month] [agent], for example /costs week researcher';

export async function fetchCosts(client: MeshClient, query: CostQuery): Promise<CostReport> {
  const params = new URLSearchParams({ period: query.period ?? 'today' });
  if (query.agent) params.set('agent', query.agent);
  return client.requestJson('GET', `/api/costs?${params.toString()}`, CostReportSchema);
}

function describePeriod(report: CostReport): string {
  const days = report.first_day === report.last_day ? report.first_day : `${report.first_day} to ${report.last_day}`;
  const name = report.period === 'today' ? 'today' : `this ${report.period}`;
  return `${name} (${days}, ${report.timezone})${report.agent ? ` for ${report.agent}` : ''}`;
}

export function formatCostReport(report: CostReport): string {
  const lines = [`LLM costs ${describePeriod(report)}`];
  if (report.rows.length === 0) {
    lines.push('no LLM calls in this period');
  } else {
    const counts = (r: CostReport['totals']) => [
      String(r.calls),
      String(r.failed),
      String(r.prompt_tokens),
      String(r.completion_tokens),
      formatUsd(r.cost_usd),
    ];
    lines.push(
      formatTable([
        ['AGENT', 'MODEL', 'CALLS', 'FAILED', 'PROMPT TOKENS', 'COMPLETION TOKENS', 'USD'],
        // A sub-agent's rows come right after its parent's (the mesh orders them), indented under it.
        ...report.rows.map((row) => [row.parent ? `  └ ${row.agent}` : row.agent, row.model, ...counts(row)]),
        ['total', '', ...counts(report.totals)],
      ]),
    );
  }
  lines.push('');
  if (report.budgets.length === 0) {
    lines.push('no budgets set (agents.<name>.budget in config/agents.yaml, budget in config/mesh.yaml)');
  } else {
    lines.push(
      formatTable([
        ['BUDGET', 'PERIOD', 'LIMIT', 'SPENT', 'IN FLIGHT', 'REMAINING'],
        ...report.budgets.map((b) => [
          `${b.agent ?? 'fleet'} ${b.window}`,
          b.period,
          formatUsd(b.limit_usd),
          formatUsd(b.spent_usd),
          formatUsd(b.reserved_usd),
          formatUsd(b.remaining_usd),
        ]),
      ]),
    );
  }
  return lines.join('\n');
}

/** `/costs`, `/costs week`, `/costs researcher`, `/costs month researcher`. */
export async function costsReplCommand(client: MeshClient, args: string[]): Promise<string> {
  let period: CostPeriod | undefined;
  let agent: string | undefined;
  for (const arg of args) {
    const asPeriod = CostPeriodSchema.safeParse(arg);
    if (asPeriod.success && period === undefined) period = asPeriod.data;
    else if (!asPeriod.success && agent === undefined) agent = arg;
    else return REPL_USAGE;
  }
  return formatCostReport(await fetchCosts(client, { period: period ?? 'today', agent }));
}

export function registerCosts(program: Command): void {
  program
    .command('costs')
    .description('LLM spending by agent and model, with totals and budgets')
    .option('--agent <name>', 'only this agent')
    .addOption(
      new Option('--period <period>', 'calendar period in the mesh time zone')
        .choices(CostPeriodSchema.options)
        .default('today'),
    )
    .option('--json', 'print the report as JSON')
    .action(
      commandAction(async (options: { agent?: string; period: CostPeriod; json?: boolean }) => {
        const report = await fetchCosts(MeshClient.connect(projectDir()), {
          period: options.period,
          agent: options.agent,
        });
        process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatCostReport(report)}\n`);
      }),
    );
}
