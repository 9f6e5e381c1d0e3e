// Budget check latency: one reserve + settle through the real CostMeter over a mesh.db
// in a temp dir (WAL, opened as the mesh opens it), with agent daily/monthly and fleet
// daily/monthly limits all in force. Measured on an empty ledger and again with 1,000,000
// usage rows already in it (10 agents over the past 30 days): the running totals keep
// the check at four primary-key lookups, so the two figures should match. The first
// BOOKED_ROWS calls are booked through the meter (ledger and running totals); the rest
// of the ledger is copies of them made in SQL, because booking a million calls one by
// one takes minutes. The check never reads the ledger; settlement inserts into it, so
// its size (and its indexes' depth) is what the second row exercises.
import { performance } from 'node:perf_hooks';
import type { CostConfig } from '../src/mesh/costs/meter.js';
import { bookCall, openTestMeter, type TestMeter } from '../tests/helpers/cost-meter.js';
import { median, percentile, type BenchRow } from './table.js';

const LEDGER_ROWS = 1_000_000;
const BOOKED_ROWS = 20_000;
const SAMPLES = 5_000;
const WARMUP = 500;
const DAY_MS = 86_400_000;
const AGENTS = Array.from({ length: 10 }, (_, i) => `agent-${i}`);

const config: CostConfig = {
  mesh: { timezone: 'Europe/Berlin', budget: { daily_usd: 1_000_000, monthly_usd: 1_000_000 } },
  agents: Object.fromEntries(
    AGENTS.map((name) => [name, { budget: { daily_usd: 1_000_000, monthly_usd: 1_000_000 } }]),
  ),
};

const request = {
  model: 'openai/gpt-4o-mini',
  messages: [
    { role: 'system' as const, content: 'You are agent-0, a researcher.' },
    { role: 'user' as const, content: 'Find three leads in logistics and write them to the blackboard.' },
  ],
};

const LEDGER_COLUMNS =
  'at, agent, kind, provider, model, prompt_tokens, completion_tokens, cost_nano, latency_ms, outcome, trace';

function fill(costs: TestMeter, clock: { now: number }, rows: number): void {
  const end = clock.now;
  const booked = Math.min(rows, BOOKED_ROWS);
  for (let i = 0; i < booked; i++) {
    clock.now = end - 30 * DAY_MS + Math.floor((i / rows) * 30 * DAY_MS);
    bookCall(costs.meter, {
      agent: AGENTS[i % AGENTS.length] ?? 'agent-0',
      model: 'openai/gpt-4o-mini',
      prompt_tokens: 1200 + (i % 500),
      completion_tokens: 300 + (i % 200),
      trace: `trace-${i}`,
    });
  }
  clock.now = end;
  const copy = costs.db.prepare<[number]>(
    `INSERT INTO cost_usage (${LEDGER_COLUMNS}) SELECT ${LEDGER_COLUMNS} FROM cost_usage ORDER BY id LIMIT ?`,
  );
  for (let have = booked; have < rows; have += Math.min(have, rows - have)) copy.run(Math.min(have, rows - have));
}

function reserveAndSettle(costs: TestMeter): number {
  const begin = performance.now();
  const reservation = costs.meter.reserve({ agent: 'agent-0', trace: 'bench', request });
  costs.meter.settle(reservation, { status: 'ok', usage: { prompt_tokens: 40, completion_tokens: 120 } }, 900, 'bench');
  return performance.now() - begin;
}

function openLedger(ledgerRows: number): TestMeter {
  const clock = { now: Date.parse('2025-06-30T12:00:00Z') };
  const costs = openTestMeter({ config: () => config, now: () => clock.now });
  costs.db.transaction(() => fill(costs, clock, ledgerRows))();
  const counted = costs.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM cost_usage').get()?.n ?? 0;
  if (counted !== ledgerRows) throw new Error(`expected ${ledgerRows} ledger rows, found ${counted}`);
  return costs;
}

/** Samples of both ledgers alternate, so drift on the machine hits both alike. */
function measure(empty: TestMeter, full: TestMeter): { empty: number[]; full: number[] } {
  const samples = { empty: [] as number[], full: [] as number[] };
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    const a = reserveAndSettle(empty);
    const b = reserveAndSettle(full);
    if (i < WARMUP) continue;
    samples.empty.push(a);
    samples.full.push(b);
  }
  return samples;
}

export async function budgetBench(): Promise<BenchRow[]> {
  const ledgers = [openLedger(0), openLedger(LEDGER_ROWS)] as const;
  let samples: { empty: number[]; full: number[] };
  try {
    samples = measure(...ledgers);
  } finally {
    for (const ledger of ledgers) ledger.close();
  }
  const { empty, full } = samples;
  const emptyMedian = median(empty);
  const fullMedian = median(full);
  // Flat: within 1.5x of the empty ledger. Summing a million rows instead would take
  // tens of milliseconds or more; what is left is the B-tree depth of the ledger insert at settlement.
  const flat = fullMedian <= emptyMedian * 1.5;
  const figure = (xs: number[]) => `${median(xs).toFixed(4)} ms (p99 ${percentile(xs, 99).toFixed(4)})`;
  return [
    ['budget reserve + settle, empty ledger, median', figure(empty), '<= 0.1 ms', emptyMedian <= 0.1],
    [
      `budget reserve + settle, ${LEDGER_ROWS.toLocaleString('en-US')} ledger rows, median`,
      figure(full),
      '<= 0.1 ms, flat',
      fullMedian <= 0.1 && flat,
    ],
  ];
}
