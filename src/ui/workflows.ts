// The workflows page: the definitions in config/workflows, a form that starts a run with
// a JSON payload (checked here first, so a typo is named before anything is sent), the
// recent runs, and the chosen run drawn as its DAG. The mesh's `workflow` events carry
// each transition (run id as subject, step and status in detail): the DAG applies them
// as they arrive and then re-reads the run. Clicking a step (or Enter on it) shows its
// input, result, attempts, errors and transitions.
import { ApiError, getJson, post } from './api.js';
import { DagView } from './dag.js';
import { clock, el, fill } from './dom.js';
import type { EventEntry, RunGraph, RunView, StepDetail, StepStatus, WorkflowSummary } from './types.js';

/** A step transition's word (workflow_transitions.status) as the step status it leaves behind. */
const STEP_STATUS: Record<string, StepStatus> = {
  queued: 'queued',
  running: 'running',
  retried: 'retrying',
  done: 'done',
  failed: 'failed',
  skipped: 'skipped',
  cancelled: 'cancelled',
};

export class WorkflowsPage {
  readonly root = el('section', { 'aria-labelledby': 'workflows-title' });
  private readonly definitions = el('tbody');
  private readonly runs = el('tbody');
  private readonly workflow = el('select', { id: 'run-workflow' });
  private readonly payload = el('textarea', {
    id: 'run-payload',
    rows: 4,
    placeholder: '{"topic": "…"} (optional)',
    'aria-describedby': 'run-payload-error',
  });
  private readonly payloadError = el('p', { id: 'run-payload-error', class: 'error', role: 'alert' });
  private readonly note = el('p', { class: 'note', role: 'status' });
  private readonly runBox = el('div', { class: 'run' });
  private readonly detail = el('div', { class: 'step-detail', 'aria-live': 'polite' });
  private current: { id: string; dag: DagView; step: string | null } | null = null;
  private reread: number | undefined;

  constructor() {
    const form = el(
      'form',
      { class: 'start-run' },
      el('label', {}, 'Workflow', this.workflow),
      el('label', {}, 'Payload (JSON)', this.payload),
      this.payloadError,
      el('button', { type: 'submit' }, 'Start run'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.start();
    });
    const head = (...titles: string[]) => el('tr', {}, ...titles.map((t) => el('th', { scope: 'col' }, t)));
    fill(
      this.root,
      el('h1', { id: 'workflows-title' }, 'Workflows'),
      this.note,
      el('table', { class: 'cards' }, el('thead', {}, head('Workflow', 'Trigger', 'Steps', 'File')), this.definitions),
      el('h2', {}, 'Start a run'),
      form,
      el('h2', {}, 'Recent runs'),
      el('table', { class: 'cards runs' }, el('thead', {}, head('Run', 'Workflow', 'Status', 'Started')), this.runs),
      this.runBox,
      this.detail,
    );
  }

  async load(): Promise<void> {
    try {
      const { workflows } = await getJson<{ workflows: WorkflowSummary[] }>('/workflows');
      fill(
        this.definitions,
        ...workflows.map((w) =>
          el(
            'tr',
            { 'data-workflow': w.name },
            el(
              'td',
              { 'data-label': 'Workflow' },
              el('strong', {}, w.name),
              w.description ? el('div', { class: 'muted' }, w.description) : null,
            ),
            el('td', { 'data-label': 'Trigger' }, w.trigger),
            el('td', { 'data-label': 'Steps' }, w.steps.join(', ')),
            el('td', { 'data-label': 'File' }, w.file),
          ),
        ),
      );
      const chosen = this.workflow.value;
      fill(this.workflow, ...workflows.map((w) => el('option', { value: w.name }, w.name)));
      if (workflows.some((w) => w.name === chosen)) this.workflow.value = chosen;
      await this.loadRuns();
    } catch (err) {
      this.note.textContent = message(err);
    }
  }

  /** Live events: apply each transition of the shown run at once, then re-read the run and the list. */
  onEvents(events: EventEntry[]): void {
    const flows = events.filter((e) => e.kind === 'workflow');
    if (flows.length === 0) return;
    for (const event of flows) {
      if (event.subject !== this.current?.id) continue;
      const detail = event.detail as { step?: string; status?: string; attempt?: number } | null;
      const status = detail?.step ? STEP_STATUS[detail.status ?? ''] : undefined;
      if (detail?.step && status) this.current.dag.setStatus(detail.step, status, detail.attempt);
    }
    window.clearTimeout(this.reread);
    this.reread = window.setTimeout(() => void this.refresh(), 200);
  }

  private async refresh(): Promise<void> {
    await this.loadRuns();
    const current = this.current;
    if (!current) return;
    const run = await getJson<RunView>(`/workflow-runs/${encodeURIComponent(current.id)}`);
    this.showStatus(run);
    if (current.step) await this.showStep(current.step);
  }

  private async loadRuns(): Promise<void> {
    const { runs } = await getJson<{ runs: RunView[] }>('/workflow-runs?limit=20');
    fill(
      this.runs,
      ...runs.map((run) => {
        const open = el('button', { type: 'button', class: 'link' }, run.id);
        open.addEventListener('click', () => void this.showRun(run.id));
        return el(
          'tr',
          {
            'data-run': run.id,
            'data-status': run.status,
            ...(run.id === this.current?.id ? { 'aria-current': 'true' } : {}),
          },
          el('td', { 'data-label': 'Run' }, open),
          el('td', { 'data-label': 'Workflow' }, run.workflow),
          el('td', { 'data-label': 'Status' }, el('span', { class: `badge run-${run.status}` }, run.status)),
          el('td', { 'data-label': 'Started' }, clock(run.created_at)),
        );
      }),
    );
  }

  private async start(): Promise<void> {
    this.payloadError.textContent = '';
    this.payload.removeAttribute('aria-invalid');
    const text = this.payload.value.trim();
    let input: unknown;
    if (text) {
      try {
        input = JSON.parse(text);
      } catch (err) {
        this.payload.setAttribute('aria-invalid', 'true');
        this.payloadError.textContent = `The payload is not JSON: ${err instanceof Error ? err.message : String(err)}. Nothing was started.`;
        this.payload.focus();
        return;
      }
    }
    try {
      const run = await post<RunView>(
        `/workflows/${encodeURIComponent(this.workflow.value)}/runs`,
        input === undefined ? {} : { input },
      );
      this.note.textContent = `Started ${run.workflow} run ${run.id}.`;
      await this.showRun(run.id, run);
      await this.loadRuns();
    } catch (err) {
      this.payloadError.textContent = message(err);
    }
  }

  private async showRun(id: string, known?: RunView): Promise<void> {
    const graph = await getJson<RunGraph>(`/workflow-runs/${encodeURIComponent(id)}/graph`);
    const dag = new DagView(graph, (step) => void this.pick(step));
    this.current = { id, dag, step: null };
    fill(
      this.runBox,
      el('h2', { id: 'run-title' }, `Run ${id}`),
      el('p', { class: 'run-status muted' }),
      el('div', { class: 'scroll' }, dag.element),
    );
    this.detail.replaceChildren();
    this.showStatus(known ?? (await getJson<RunView>(`/workflow-runs/${encodeURIComponent(id)}`)));
    for (const row of this.runs.querySelectorAll('tr'))
      if (row.dataset.run === id) row.setAttribute('aria-current', 'true');
      else row.removeAttribute('aria-current');
  }

  private showStatus(run: RunView): void {
    if (run.id !== this.current?.id) return;
    for (const step of run.steps ?? []) this.current.dag.setStatus(step.id, step.status, step.attempt);
    const status = this.runBox.querySelector('.run-status');
    if (status)
      status.textContent = `${run.workflow}: ${run.status}${run.error ? ` (${run.error})` : ''} · started ${clock(run.created_at)}${run.finished_at ? ` · finished ${clock(run.finished_at)}` : ''}`;
  }

  private async pick(step: string): Promise<void> {
    if (!this.current) return;
    this.current.step = step;
    await this.showStep(step);
  }

  private async showStep(stepId: string): Promise<void> {
    if (!this.current) return;
    try {
      const { step, input, transitions } = await getJson<StepDetail>(
        `/workflow-runs/${encodeURIComponent(this.current.id)}/steps/${encodeURIComponent(stepId)}`,
      );
      const row = (term: string, value: Node | string) => [el('dt', {}, term), el('dd', {}, value)];
      fill(
        this.detail,
        el('h3', {}, `Step ${step.id}`),
        el(
          'dl',
          { 'data-step': step.id },
          ...row('Status', step.status),
          ...row('Agent', step.agent ?? '-'),
          ...row('Attempts', String(step.attempt)),
          ...row('Input', el('pre', {}, json(input))),
          ...row('Result', el('pre', {}, json(step.result))),
          ...(step.error ? row('Error', el('span', { class: 'error' }, step.error)) : []),
          ...(step.reason ? row('Reason', step.reason) : []),
        ),
        el(
          'ol',
          { class: 'transitions' },
          ...transitions.map((t) =>
            el(
              'li',
              {},
              `${clock(t.at)} ${t.status}${t.attempt > 0 ? ` (attempt ${t.attempt})` : ''}${t.detail ? `: ${t.detail}` : ''}`,
            ),
          ),
        ),
      );
    } catch (err) {
      fill(this.detail, el('p', { class: 'error' }, message(err)));
    }
  }
}

function json(value: unknown): string {
  return value === null || value === undefined
    ? '-'
    : typeof value === 'string'
      ? value
      : JSON.stringify(value, null, 2);
}

function message(err: unknown): string {
  return err instanceof ApiError ? err.message : String(err);
}
