// The events page: the mesh's event log (what `legion logs` prints), newest first,
// filtered by agent, type and trace id, with a live tail that can be paused. It holds
// the newest KEEP events: the first screen is fetched, the rest arrives live.
import { getJson } from './api.js';
import { clock, el, fill } from './dom.js';
import type { EventEntry } from './types.js';

const KEEP = 1000;
const SHOWN = 300;

export class EventsPage {
  readonly root = el('section', { 'aria-labelledby': 'events-title' });
  private events: EventEntry[] = [];
  private readonly agent = el('input', {
    id: 'filter-agent',
    type: 'search',
    placeholder: 'any agent',
    autocomplete: 'off',
  });
  private readonly kind = el('input', {
    id: 'filter-kind',
    type: 'search',
    placeholder: 'any type',
    autocomplete: 'off',
  });
  private readonly trace = el('input', {
    id: 'filter-trace',
    type: 'search',
    placeholder: 'any trace',
    autocomplete: 'off',
  });
  private readonly live = el('input', { id: 'filter-live', type: 'checkbox', checked: true });
  private readonly body = el('tbody');
  private readonly count = el('p', { class: 'muted', role: 'status' });
  private paused: EventEntry[] = [];

  constructor() {
    const field = (label: string, input: HTMLInputElement) => el('label', {}, label, input);
    const filters = el(
      'form',
      { class: 'filters', role: 'search' },
      field('Agent', this.agent),
      field('Type', this.kind),
      field('Trace id', this.trace),
      el('label', { class: 'inline' }, this.live, 'Live tail'),
    );
    filters.addEventListener('submit', (event) => event.preventDefault());
    for (const input of [this.agent, this.kind, this.trace]) input.addEventListener('input', () => this.render());
    this.live.addEventListener('change', () => {
      if (this.live.checked) this.add(this.paused.splice(0));
    });
    const head = el(
      'tr',
      {},
      ...['Time', 'Agent', 'Type', 'Subject', 'Detail', 'Trace'].map((t) => el('th', { scope: 'col' }, t)),
    );
    fill(
      this.root,
      el('h1', { id: 'events-title' }, 'Events'),
      filters,
      this.count,
      el('table', { class: 'events cards' }, el('thead', {}, head), this.body),
    );
  }

  /** The first screen: the newest events before the live stream's. */
  async load(): Promise<void> {
    const { events } = await getJson<{ events: EventEntry[] }>(`/events?limit=${KEEP}`);
    const known = new Set(this.events.map((e) => e.id));
    this.events = [...events.filter((e) => !known.has(e.id)), ...this.events].sort((a, b) => a.id - b.id).slice(-KEEP);
    this.render();
  }

  add(events: EventEntry[]): void {
    if (!this.live.checked) {
      this.paused.push(...events);
      this.count.textContent = `Live tail paused: ${this.paused.length} new event(s) waiting.`;
      return;
    }
    this.events = [...this.events, ...events].slice(-KEEP);
    this.render();
  }

  private render(): void {
    const agent = this.agent.value.trim();
    const kind = this.kind.value.trim();
    const trace = this.trace.value.trim();
    const matching = this.events.filter(
      (e) =>
        (!agent || e.agent === agent) &&
        (!kind || e.kind.includes(kind)) &&
        (!trace || (e.trace ?? '').includes(trace)),
    );
    const shown = matching.slice(-SHOWN).reverse();
    this.count.textContent = `${matching.length} of the newest ${this.events.length} events match${matching.length > SHOWN ? `; the newest ${SHOWN} are shown` : ''}.`;
    fill(
      this.body,
      ...shown.map((e) =>
        el(
          'tr',
          { 'data-kind': e.kind },
          el('td', { 'data-label': 'Time' }, el('time', { datetime: e.at }, clock(e.at))),
          el('td', { 'data-label': 'Agent' }, e.agent ?? '-'),
          el('td', { 'data-label': 'Type' }, e.kind),
          el('td', { 'data-label': 'Subject' }, e.subject),
          el('td', { 'data-label': 'Detail', class: 'detail' }, e.detail === null ? '' : JSON.stringify(e.detail)),
          el('td', { 'data-label': 'Trace' }, e.trace ?? ''),
        ),
      ),
    );
  }
}
