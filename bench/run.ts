// npm run bench: every benchmark, one table. Needs Docker and the agent image.
import { cliBench } from './cli.js';
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
import { subagentsBench } from './subagents.js';
import { formatTable } from './table.js';

const rows = [
  ...(await cliBench()),
  ...(await skeletonBench()),
  ...(await coordinationBench()),
  ...(await llmProxyBench()),
  ...(await budgetBench()),
  ...(await memoryBench()),
  ...(await workflowsBench()),
  ...(await stateBench()),
  ...(await gvisorBench()),
  ...(await browserBench()),
  ...(await dashboardBench()),
  ...(await mcpBench()),
  ...(await subagentsBench()),
];
process.stdout.write(`${formatTable(rows)}\n`);
