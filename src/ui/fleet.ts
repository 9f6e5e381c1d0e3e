// The fleet page: one row per agent (health, container state, restarts in the last
// hour, lane depth, model, spend today against its daily budget) with Restart and
// Reset chat buttons. Rows are updated in place from the live stream, so a button
// keeps keyboard focus while the numbers around it change.
import { ApiError, post } from './api.js';
import { el, fill } from './dom.js';
import { usd } from './money.js';
import type { AgentStatus, FleetSnapshot } from './types.js';

const COLUMNS = [
  'Agent',
  'Health',
  'Container',
  'Restarts (1 h)',
  'Lane',
  'Model',
  'Spent today',
  'Daily budget',
  'Actions',
] as const;

interface Row {
  tr: HTMLTableRowElement;
  cells: HTMLTableCellElement[];
}

export class FleetPage {
  readonly root = el('section', { 'aria-labelledby': 'fleet-title' });
  private readonly body = el('tbody');
  private readonly note = el('p', { role: 'status', class: 'note' });
  private readonly rows = new Map<string, Row>();
  private readonly summary = el('p', { class: 'muted' });

  constructor() {
    const head = el('tr', {}, ...COLUMNS.map((title) => el('th', { scope: 'col' }, title)));
    fill(
      this.root,
      el('h1', { id: 'fleet-title' }, 'Fleet'),
      this.summary,
      this.note,
      el('table', { class: 'fleet cards' }, el('thead', {}, head), this.body),
    );
    this.summary.textContent = 'Waiting for the mesh…';
  }

  show(snapshot: FleetSnapshot): void {
    const { agents, costs } = snapshot;
    const healthy = agents.filter((a) => a.health === 'healthy').length;
    this.summary.textContent = `${agents.length} agent${agents.length === 1 ? '' : 's'}, ${healthy} healthy · spent today ${usd(costs.totals.cost_usd)} (${costs.timezone})`;
    const seen = new Set<string>();
    for (const agent of agents) {
      seen.add(agent.name);
      const row = this.rows.get(agent.name) ?? this.addRow(agent.name);
      const spent = costs.rows.filter((r) => r.agent === agent.name).reduce((total, r) => total + r.cost_usd, 0);
      const budget = costs.budgets.find((b) => b.agent === agent.name && b.window === 'daily');
      row.tr.dataset.health = agent.health;
      const texts = [
        null,
        null,
        containerText(agent),
        String(agent.restarts),
        laneText(agent),
        agent.model,
        usd(spent),
        budget ? `${usd(budget.limit_usd)} (${usd(budget.remaining_usd)} left)` : 'none',
      ];
      texts.forEach((text, i) => {
        const cell = row.cells[i];
        if (text !== null && cell && cell.textContent !== text) cell.textContent = text;
      });
      const [nameCell, healthCell] = row.cells;
      if (nameCell) fill(nameCell, el('strong', {}, agent.name), el('br'), el('span', { class: 'muted' }, agent.role));
      if (healthCell)
        fill(
          healthCell,
          el('span', { class: `badge ${agent.health}` }, agent.health),
          agent.last_error ? el('div', { class: 'muted small' }, agent.last_error) : null,
        );
    }
    for (const [name, row] of this.rows) {
      if (!seen.has(name)) {
        row.tr.remove();
        this.rows.delete(name);
      }
    }
  }

  private addRow(name: string): Row {
    const cells = COLUMNS.map((title) => el('td', { 'data-label': title }));
    const actions = cells[cells.length - 1];
    if (actions) {
      fill(
        actions,
        this.button(
          `Restart`,
          `Restart ${name}? Its container is replaced; its memory and files are kept.`,
          `/agents/${encodeURIComponent(name)}/restart`,
          `${name} restarted`,
        ),
        this.button(
          `Reset chat`,
          `Reset ${name}'s chat session? The conversation so far is forgotten (memory files stay).`,
          `/agents/${encodeURIComponent(name)}/reset`,
          `${name}'s chat was reset`,
        ),
      );
    }
    const tr = el('tr', { 'data-agent': name }, ...cells);
    this.body.appendChild(tr);
    const row = { tr, cells };
    this.rows.set(name, row);
    return row;
  }

  private button(label: string, question: string, path: string, done: string): HTMLButtonElement {
    const button = el('button', { type: 'button' }, label);
    button.addEventListener('click', () => {
      if (!window.confirm(question)) return;
      button.disabled = true;
      this.note.textContent = `${label}…`;
      post(path)
        .then(() => (this.note.textContent = done))
        .catch((err: unknown) => (this.note.textContent = err instanceof ApiError ? err.message : String(err)))
        .finally(() => (button.disabled = false));
    });
    return button;
  }
}

function containerText(agent: AgentStatus): string {
  if (!agent.container) return 'none';
  return `${agent.container.state}${agent.busy ? ', busy' : ''}${agent.container.sandboxed ? '' : ' (shared kernel)'}`;
}

function laneText(agent: AgentStatus): string {
  const { queued, cap, running } = agent.lane;
  return `${queued} queued (cap ${cap})${running ? `, running ${running.kind}` : ''}`;
}
