// The blackboard page: keys by prefix, a key's value and history, and an editor that
// writes with compare-and-set: the save carries the version the editor was opened at,
// so a write by anyone else in between is refused (409 version_conflict) instead of
// overwritten. On a conflict the text being edited stays in the editor, the value now
// stored is shown beside it, and "Keep mine" saves again against the new version.
// Writes by agents and workflows arrive as live events and refresh the list and the
// open key's value and history; they never touch the editor's text.
import { ApiError, getJson, post } from './api.js';
import { clock, el, fill } from './dom.js';
import type { BlackboardChange, BlackboardEntry, EventEntry } from './types.js';

const LIST_LIMIT = 200;

export class BlackboardPage {
  readonly root = el('section', { 'aria-labelledby': 'blackboard-title' });
  private readonly prefix = el('input', {
    id: 'bb-prefix',
    type: 'search',
    placeholder: 'any key',
    autocomplete: 'off',
  });
  private readonly entries = el('tbody');
  private readonly note = el('p', { class: 'note', role: 'status' });
  private readonly keyBox = el('div', { class: 'bb-key' });
  private readonly newKey = el('input', { id: 'bb-new-key', autocomplete: 'off', placeholder: 'notes/today' });
  private open: {
    key: string;
    version: number;
    editor: HTMLTextAreaElement;
    stored: HTMLElement;
    status: HTMLElement;
    history: HTMLElement;
  } | null = null;
  private reread: number | undefined;

  constructor() {
    const filter = el('form', { class: 'filters', role: 'search' }, el('label', {}, 'Key prefix', this.prefix));
    filter.addEventListener('submit', (event) => event.preventDefault());
    this.prefix.addEventListener('input', () => void this.load());
    const create = el(
      'form',
      { class: 'filters' },
      el('label', {}, 'New key', this.newKey),
      el('button', { type: 'submit' }, 'Open'),
    );
    create.addEventListener('submit', (event) => {
      event.preventDefault();
      const key = this.newKey.value.trim();
      if (key) void this.openKey(key);
    });
    const head = el(
      'tr',
      {},
      ...['Key', 'Version', 'Writer', 'Updated', 'Value'].map((t) => el('th', { scope: 'col' }, t)),
    );
    fill(
      this.root,
      el('h1', { id: 'blackboard-title' }, 'Blackboard'),
      filter,
      this.note,
      el('table', { class: 'cards bb-entries' }, el('thead', {}, head), this.entries),
      create,
      this.keyBox,
    );
  }

  async load(): Promise<void> {
    const prefix = this.prefix.value.trim();
    try {
      const page = await getJson<{ entries: BlackboardEntry[]; next_cursor: string | null }>(
        `/blackboard?limit=${LIST_LIMIT}${prefix ? `&prefix=${encodeURIComponent(prefix)}` : ''}`,
      );
      if (prefix !== this.prefix.value.trim()) return;
      this.note.textContent = `${page.entries.length}${page.next_cursor ? '+' : ''} key(s)${prefix ? ` under ${prefix}` : ''}${page.next_cursor ? `; the first ${LIST_LIMIT} are shown, narrow the prefix for more` : ''}.`;
      fill(
        this.entries,
        ...page.entries.map((entry) => {
          const open = el('button', { type: 'button', class: 'link' }, entry.key);
          open.addEventListener('click', () => void this.openKey(entry.key));
          return el(
            'tr',
            { 'data-key': entry.key },
            el('td', { 'data-label': 'Key' }, open),
            el('td', { 'data-label': 'Version' }, String(entry.version)),
            el('td', { 'data-label': 'Writer' }, entry.writer),
            el('td', { 'data-label': 'Updated' }, clock(entry.updated_at)),
            el('td', { 'data-label': 'Value', class: 'detail' }, short(entry.value)),
          );
        }),
      );
    } catch (err) {
      this.note.textContent = message(err);
    }
  }

  /** Blackboard writes (by agents, workflows or another window) refresh the list and the open key. */
  onEvents(events: EventEntry[]): void {
    if (!events.some((e) => e.kind.startsWith('blackboard_'))) return;
    window.clearTimeout(this.reread);
    this.reread = window.setTimeout(() => {
      void this.load();
      if (this.open) void this.readKey(this.open.key);
    }, 200);
  }

  private async openKey(key: string): Promise<void> {
    const editor = el('textarea', { id: 'bb-editor', rows: 8, spellcheck: false, 'aria-describedby': 'bb-status' });
    const stored = el('pre', { class: 'bb-stored' });
    const status = el('p', { id: 'bb-status', role: 'alert' });
    const history = el('ol', { class: 'bb-history' });
    const form = el(
      'form',
      {},
      el('label', {}, 'Value (JSON)', editor),
      status,
      el('button', { type: 'submit' }, 'Save'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.save();
    });
    fill(
      this.keyBox,
      el('h2', {}, key),
      el('p', { class: 'muted bb-version' }),
      el('h3', {}, 'Stored now'),
      stored,
      form,
      el('h3', {}, 'History (newest first)'),
      history,
    );
    this.open = { key, version: 0, editor, stored, status, history };
    const entry = await this.readKey(key);
    editor.value = entry ? JSON.stringify(entry.value, null, 2) : '';
    this.open.version = entry?.version ?? 0;
    this.showVersion();
    editor.focus();
  }

  /** The stored value and history of the open key; the editor is left alone. */
  private async readKey(key: string): Promise<BlackboardEntry | null> {
    let entry: BlackboardEntry | null = null;
    try {
      entry = await getJson<BlackboardEntry>(`/blackboard/entries/${encodeKey(key)}`);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
    const { history } = await getJson<{ history: BlackboardChange[] }>(
      `/blackboard/history/${encodeKey(key)}?limit=20`,
    );
    if (this.open?.key !== key) return entry;
    this.open.stored.textContent = entry ? JSON.stringify(entry.value, null, 2) : '(not set)';
    this.open.stored.dataset.version = String(entry?.version ?? 0);
    fill(
      this.open.history,
      ...history.map((change) =>
        el(
          'li',
          { 'data-version': String(change.version) },
          `v${change.version} ${change.op} by ${change.writer} at ${clock(change.at)}`,
          change.op === 'set' ? el('pre', {}, short(change.value)) : null,
        ),
      ),
    );
    return entry;
  }

  private showVersion(): void {
    const line = this.keyBox.querySelector('.bb-version');
    if (line && this.open)
      line.textContent =
        this.open.version === 0
          ? 'New key: saving creates it.'
          : `Editing version ${this.open.version}; saving replaces only that version.`;
  }

  private async save(): Promise<void> {
    const open = this.open;
    if (!open) return;
    open.status.className = '';
    let value: unknown;
    try {
      value = JSON.parse(open.editor.value);
    } catch (err) {
      open.status.className = 'error';
      open.status.textContent = `Not saved: the value is not JSON (${err instanceof Error ? err.message : String(err)}). Strings need quotes: "like this".`;
      return;
    }
    try {
      const written = await post<{ version: number }>(
        `/blackboard/entries/${encodeKey(open.key)}`,
        { value, expected_version: open.version },
        'PUT',
      );
      open.version = written.version;
      open.status.textContent = `Saved as version ${written.version}.`;
      this.showVersion();
      await this.readKey(open.key);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'version_conflict') this.conflict(open, err);
      else {
        open.status.className = 'error';
        open.status.textContent = `Not saved: ${message(err)}`;
      }
    }
  }

  /** Someone else wrote first: show what they stored, keep the edit, offer to save it over theirs. */
  private conflict(open: NonNullable<BlackboardPage['open']>, err: ApiError): void {
    const current = typeof err.body.current_version === 'number' ? err.body.current_version : null;
    open.status.className = 'error conflict';
    const keep = el('button', { type: 'button' }, 'Keep mine (save over it)');
    keep.addEventListener('click', () => {
      if (current === null) return;
      open.version = current;
      this.showVersion();
      void this.save();
    });
    fill(
      open.status,
      `Conflict: ${open.key} changed while you edited it (now version ${current ?? '?'}). Your text is still in the editor, unsaved; the value stored now is shown above. `,
      current === null ? null : keep,
    );
    void this.readKey(open.key);
  }
}

function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

function short(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function message(err: unknown): string {
  return err instanceof ApiError ? err.message : String(err);
}
