// The triggers page: cron jobs with their next and last runs, heartbeats with their
// next beat and recent beats, webhooks with their recent deliveries and how each ended.
// Read-only (the CLI adds and removes them). It re-reads itself when the mesh records a
// trigger event (cron_*, heartbeat_*, webhook_*) or a lane item of any agent finishes,
// which is when a run, a beat or a delivery ends.
import { ApiError, getJson } from './api.js';
import { clock, el, fill } from './dom.js';
import type { CronJob, EventEntry, HeartbeatStatus, Webhook, WebhookDelivery } from './types.js';

const DELIVERIES = 5;
const BEATS = 10;

export class TriggersPage {
  readonly root = el('section', { 'aria-labelledby': 'triggers-title' });
  private readonly cron = el('tbody');
  private readonly hearts = el('tbody');
  private readonly beats = el('ul', { class: 'beats' });
  private readonly hooks = el('tbody');
  private readonly note = el('p', { class: 'note', role: 'status' });
  private reread: number | undefined;

  constructor() {
    const table = (cls: string, titles: string[], body: HTMLElement) =>
      el(
        'table',
        { class: `cards ${cls}` },
        el('thead', {}, el('tr', {}, ...titles.map((t) => el('th', { scope: 'col' }, t)))),
        body,
      );
    fill(
      this.root,
      el('h1', { id: 'triggers-title' }, 'Triggers'),
      this.note,
      el('h2', {}, 'Cron jobs'),
      table('cron-jobs', ['Job', 'Agent', 'Schedule', 'Next run', 'Last run', 'Message'], this.cron),
      el('h2', {}, 'Heartbeats'),
      table('heartbeats', ['Agent', 'Every', 'Next beat', 'From'], this.hearts),
      el('h3', {}, 'Recent beats'),
      this.beats,
      el('h2', {}, 'Webhooks'),
      table('webhooks', ['Hook', 'Target', 'Signed', 'Deliveries', 'Recent deliveries'], this.hooks),
    );
  }

  async load(): Promise<void> {
    try {
      const [{ jobs }, heartbeat, { webhooks }] = await Promise.all([
        getJson<{ jobs: CronJob[] }>('/cron/jobs'),
        getJson<HeartbeatStatus>(`/heartbeat?limit=${BEATS}`),
        getJson<{ webhooks: Webhook[] }>('/webhooks'),
      ]);
      const deliveries = await Promise.all(
        webhooks.map((hook) =>
          getJson<{ deliveries: WebhookDelivery[] }>(
            `/webhooks/${encodeURIComponent(hook.name)}/deliveries?limit=${DELIVERIES}`,
          ),
        ),
      );
      this.showCron(jobs);
      this.showHeartbeats(heartbeat);
      this.showHooks(
        webhooks,
        deliveries.map((d) => d.deliveries),
      );
      this.note.textContent = '';
    } catch (err) {
      this.note.textContent = err instanceof ApiError ? err.message : String(err);
    }
  }

  onEvents(events: EventEntry[]): void {
    if (!events.some((e) => /^(cron|heartbeat|webhook)_/.test(e.kind) || e.kind === 'delivered' || e.kind === 'reply'))
      return;
    window.clearTimeout(this.reread);
    this.reread = window.setTimeout(() => void this.load(), 300);
  }

  private showCron(jobs: CronJob[]): void {
    fill(
      this.cron,
      ...(jobs.length === 0
        ? [empty(6, 'No cron jobs (`legion cron add`, or an agent’s set_cron).')]
        : jobs.map((job) =>
            el(
              'tr',
              { 'data-job': job.id },
              el(
                'td',
                { 'data-label': 'Job' },
                job.id,
                job.enabled ? null : el('div', { class: 'muted small' }, 'done'),
              ),
              el('td', { 'data-label': 'Agent' }, job.agent),
              el('td', { 'data-label': 'Schedule' }, `${job.schedule} (${job.tz})`),
              el('td', { 'data-label': 'Next run' }, when(job.next_run)),
              el(
                'td',
                { 'data-label': 'Last run' },
                job.last_run ? when(job.last_run) : 'never',
                job.last_status ? el('span', { class: `badge run-${job.last_status}` }, job.last_status) : null,
                job.last_reason ? el('div', { class: 'muted small' }, job.last_reason) : null,
              ),
              el('td', { 'data-label': 'Message', class: 'detail' }, job.message),
            ),
          )),
    );
  }

  private showHeartbeats(status: HeartbeatStatus): void {
    fill(
      this.hearts,
      ...(status.settings.length === 0
        ? [empty(4, 'No heartbeats (agents.<name>.heartbeat in config/agents.yaml).')]
        : status.settings.map((s) =>
            el(
              'tr',
              { 'data-agent': s.agent },
              el('td', { 'data-label': 'Agent' }, s.agent),
              el('td', { 'data-label': 'Every' }, s.every ?? 'off'),
              el('td', { 'data-label': 'Next beat' }, s.next_beat ? when(s.next_beat) : '-'),
              el('td', { 'data-label': 'From' }, s.source),
            ),
          )),
    );
    fill(
      this.beats,
      status.beats.length === 0 ? el('li', { class: 'muted' }, 'No beats yet.') : null,
      ...status.beats.map((b) =>
        el(
          'li',
          {},
          `${clock(b.at)} ${b.agent}: `,
          el('span', { class: `badge run-${b.outcome}` }, b.outcome),
          b.reason ? ` ${b.reason}` : '',
        ),
      ),
    );
  }

  private showHooks(hooks: Webhook[], deliveries: WebhookDelivery[][]): void {
    fill(
      this.hooks,
      ...(hooks.length === 0
        ? [empty(5, 'No webhooks (`legion webhook add`).')]
        : hooks.map((hook, i) =>
            el(
              'tr',
              { 'data-hook': hook.name },
              el('td', { 'data-label': 'Hook' }, hook.name),
              el(
                'td',
                { 'data-label': 'Target' },
                hook.target.kind === 'agent' ? hook.target.agent : `workflow ${hook.target.workflow}`,
              ),
              el('td', { 'data-label': 'Signed' }, hook.has_secret ? hook.scheme : 'no'),
              el('td', { 'data-label': 'Deliveries' }, String(hook.deliveries)),
              el(
                'td',
                { 'data-label': 'Recent deliveries' },
                el(
                  'ul',
                  { class: 'deliveries' },
                  ...(deliveries[i] ?? []).map((d) =>
                    el(
                      'li',
                      { 'data-delivery': d.delivery_id },
                      `${clock(d.received_at)} `,
                      el('span', { class: `badge run-${d.status}` }, d.status),
                      d.attempts > 1 ? ` after ${d.attempts} attempts` : '',
                      d.error ? el('div', { class: 'error small' }, d.error) : null,
                    ),
                  ),
                ),
              ),
            ),
          )),
    );
  }
}

function empty(columns: number, text: string): HTMLTableRowElement {
  return el('tr', {}, el('td', { colspan: columns, class: 'muted' }, text));
}

/** A moment as the local date and time, with how far it is from now. */
function when(iso: string | null): HTMLElement | string {
  if (!iso) return '-';
  const at = new Date(iso);
  const seconds = Math.round((at.getTime() - Date.now()) / 1000);
  const span = Math.abs(seconds);
  const amount =
    span < 90 ? `${span} s` : span < 5400 ? `${Math.round(span / 60)} min` : `${Math.round(span / 3600)} h`;
  return el(
    'time',
    { datetime: iso, title: iso },
    `${at.toLocaleString()} (${seconds >= 0 ? `in ${amount}` : `${amount} ago`})`,
  );
}
