// npm run bench: every benchmark, one table. Needs Docker and the agent image.
// `npm run bench -- fleet cli` runs only the benchmarks named.
import { cliBench } from './cli.js';
import { fleetBench } from './fleet.js';
import { skeletonBench } from './skeleton.js';
import { coordinationBench } from './coordination.js';
import { llmProxyBench } from './llm-proxy.js';
import { budgetBench } from './budget.js';
import { memoryBench } from './memory.js';
import { workflowsBench } from './workflows.js';
import { stateBench } from './state.js';
import { gvisorBench } from './gvisor.js';
import { browserBench } from './browser.js';
import { dashboardBench } from './dashboard.js';
import { mcpBench } from './mcp.js';
import { skillsBench } from './skills.js';
import { subagentsBench } from './subagents.js';
import { formatTable, type BenchRow } from './table.js';

const benches: Record<string, () => Promise<BenchRow[]>> = {
  cli: cliBench,
  fleet: fleetBench,
  skeleton: skeletonBench,
  coordination: coordinationBench,
  'llm-proxy': llmProxyBench,
  budget: budgetBench,
  memory: memoryBench,
  workflows: workflowsBench,
  state: stateBench,
  gvisor: gvisorBench,
  browser: browserBench,
  dashboard: dashboardBench,
  mcp: mcpBench,
  skills: skillsBench,
  subagents: subagentsBench,
};
const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in benches));
if (unknown.length > 0)
  throw new Error(`unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}`);
const rows: BenchRow[] = [];
for (const [name, bench] of Object.entries(benches)) {
  if (wanted.length === 0 || wanted.includes(name)) rows.push(...(await bench()));
}
process.stdout.write(`${formatTable(rows)}\n`);
