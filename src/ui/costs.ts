// The costs page: for a chosen month, spend per day as a chart per agent (with its daily
// budget line) and for the whole fleet, the month by agent and model as `legion costs
// --period month` lists it, and the budgets in force. It reloads itself when the
// fleet's spend changes while the current month is shown.
import { ApiError, getJson } from './api.js';
import { dailyChart } from './chart.js';
import { el, fill } from './dom.js';
import { usd } from './money.js';
import type { CostMonth, FleetSnapshot } from './types.js';

export class CostsPage {
  readonly root = el('section', { 'aria-labelledby': 'costs-title' });
  private readonly month = el('input', { id: 'costs-month', type: 'month' });
  private readonly content = el('div');
  private readonly note = el('p', { class: 'muted', role: 'status' });
  private current: string | null = null;
  private lastSpend: number | null = null;

  constructor() {
    const picker = el('form', { class: 'filters' }, el('label', {}, 'Month', this.month));
    picker.addEventListener('submit', (event) => event.preventDefault());
    this.month.addEventListener('change', () => void this.load(this.month.value || undefined));
    fill(this.root, el('h1', { id: 'costs-title' }, 'Costs'), picker, this.note, this.content);
  }

  async load(month?: string): Promise<void> {
    this.note.textContent = 'Loading…';
    try {
      const report = await getJson<CostMonth>(`/costs/daily${month ? `?month=${encodeURIComponent(month)}` : ''}`);
      if (!this.current) this.current = report.month;
      this.month.value = report.month;
      this.show(report);
      this.note.textContent = '';
    } catch (err) {
      this.note.textContent = err instanceof ApiError ? err.message : String(err);
    }
  }

  /** A new fleet snapshot: today's spend moved, so the current month's figures did too. */
  onFleet(snapshot: FleetSnapshot): void {
    const spend = snapshot.costs.totals.cost_usd;
    const changed = this.lastSpend !== null && spend !== this.lastSpend;
    this.lastSpend = spend;
    if (changed && this.month.value === this.current) void this.load(this.current ?? undefined);
  }

  private show(report: CostMonth): void {
    const dailyLimit = (agent: string | null) =>
      report.budgets.find((b) => b.agent === agent && b.window === 'daily')?.limit_usd ?? null;
    const fleetDaily = report.days.map((_, i) => report.agents.reduce((sum, a) => sum + (a.daily_usd[i] ?? 0), 0));
    const charts = [
      { title: 'Whole fleet', amounts: fleetDaily, budget: dailyLimit(null) },
      ...report.agents.map((a) => ({ title: a.agent, amounts: a.daily_usd, budget: dailyLimit(a.agent) })),
    ];
    const counts = (r: CostMonth['totals']) => [
      String(r.calls),
      String(r.failed),
      String(r.prompt_tokens),
      String(r.completion_tokens),
      usd(r.cost_usd),
    ];
    const row = (cells: string[], header = false) =>
      el('tr', {}, ...cells.map((text) => el(header ? 'th' : 'td', header ? { scope: 'col' } : {}, text)));
    fill(
      this.content,
      el(
        'p',
        {},
        `${usd(report.totals.cost_usd)} in ${report.month} (${report.timezone}), ${report.totals.calls} calls.`,
      ),
      el(
        'div',
        { class: 'charts' },
        ...charts.map((c) =>
          el(
            'figure',
            { 'data-chart': c.title },
            el('figcaption', {}, c.title),
            dailyChart(c.title, report.days, c.amounts, c.budget),
          ),
        ),
      ),
      el('h2', {}, 'By agent and model'),
      report.rows.length === 0
        ? el('p', { class: 'muted' }, 'No LLM calls in this month.')
        : el(
            'div',
            { class: 'scroll' },
            el(
              'table',
              { class: 'cost-rows' },
              el(
                'thead',
                {},
                row(['Agent', 'Model', 'Calls', 'Failed', 'Prompt tokens', 'Completion tokens', 'USD'], true),
              ),
              el(
                'tbody',
                {},
                ...report.rows.map((r) => row([r.agent, r.model, ...counts(r)])),
                row(['total', '', ...counts(report.totals)]),
              ),
            ),
          ),
      el('h2', {}, 'Budgets in force'),
      report.budgets.length === 0
        ? el(
            'p',
            { class: 'muted' },
            'No budgets set (agents.<name>.budget in config/agents.yaml, budget in config/mesh.yaml).',
          )
        : el(
            'div',
            { class: 'scroll' },
            el(
              'table',
              { class: 'budgets' },
              el('thead', {}, row(['Budget', 'Period', 'Limit', 'Spent', 'In flight', 'Remaining'], true)),
              el(
                'tbody',
                {},
                ...report.budgets.map((b) =>
                  row([
                    `${b.agent ?? 'fleet'} ${b.window}`,
                    b.period,
                    usd(b.limit_usd),
                    usd(b.spent_usd),
                    usd(b.reserved_usd),
                    usd(b.remaining_usd),
                  ]),
                ),
              ),
            ),
          ),
    );
  }
}
