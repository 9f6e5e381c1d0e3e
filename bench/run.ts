// npm run bench: every benchmark, one table. Needs Docker and the agent image.
import { skeletonBench } from './skeleton.js';
import { coordinationBench } from './coordination.js';
import { formatTable } from './table.js';

const rows = [...(await skeletonBench()), ...(await coordinationBench())];
process.stdout.write(`${formatTable(rows)}\n`);
