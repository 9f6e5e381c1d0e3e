// The chat page: talk to an agent in the session `legion chat <agent>` uses (the same
// admin route, the same lane). The reply is drawn as its tokens arrive; each tool call
// is a <details> that opens on its arguments and result. Earlier turns, of any origin
// (chat, cron, webhooks…), come from the agent's history and are kept in step with the
// live events while no reply of this page is streaming. Enter sends, Shift+Enter is a new line.
import { ApiError, getJson, postStream } from './api.js';
import { clock, el, fill } from './dom.js';
import type { ChatEvent, EventEntry, FleetSnapshot, HistoryTurn } from './types.js';

const HISTORY = 30;

export class ChatPage {
  readonly root = el('section', { 'aria-labelledby': 'chat-title' });
  private readonly agent = el('select', { id: 'chat-agent' });
  private readonly log = el('ol', { class: 'chat-log', 'aria-live': 'polite', 'aria-label': 'conversation' });
  private readonly message = el('textarea', { id: 'chat-message', rows: 3, required: true });
  private readonly send = el('button', { type: 'submit' }, 'Send');
  private readonly note = el('p', { class: 'note', role: 'status' });
  /** The history turns shown, by lane item id, with the state they were drawn in. */
  private readonly shown = new Map<string, { li: HTMLLIElement; state: string }>();
  private streaming = false;
  private refresh: number | undefined;

  constructor() {
    const form = el(
      'form',
      { class: 'chat-form' },
      el('label', {}, 'Message', this.message),
      el('div', {}, this.send, el('span', { class: 'muted small' }, 'Enter sends · Shift+Enter: new line')),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.say();
    });
    this.message.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    this.agent.addEventListener('change', () => void this.loadHistory(true));
    fill(
      this.root,
      el('h1', { id: 'chat-title' }, 'Chat'),
      el('div', { class: 'filters' }, el('label', {}, 'Agent', this.agent)),
      this.note,
      this.log,
      form,
    );
  }

  /** The agents to pick from, kept in step with the fleet. */
  onFleet(snapshot: FleetSnapshot): void {
    const names = snapshot.agents.map((a) => a.name);
    const current = [...this.agent.options].map((o) => o.value);
    if (names.join('\n') === current.join('\n')) return;
    const chosen = this.agent.value;
    fill(this.agent, ...names.map((name) => el('option', { value: name }, name)));
    if (names.includes(chosen)) this.agent.value = chosen;
    else void this.loadHistory(true);
  }

  /** Something happened to the chosen agent: its history may have grown. */
  onEvents(events: EventEntry[]): void {
    if (!events.some((e) => e.agent === this.agent.value)) return;
    window.clearTimeout(this.refresh);
    this.refresh = window.setTimeout(() => void this.loadHistory(false), 250);
  }

  private async loadHistory(reset: boolean): Promise<void> {
    const name = this.agent.value;
    if (!name || (this.streaming && !reset)) return;
    try {
      const { turns } = await getJson<{ turns: HistoryTurn[] }>(
        `/agents/${encodeURIComponent(name)}/history?limit=${HISTORY}`,
      );
      if (name !== this.agent.value) return;
      if (reset) {
        this.log.replaceChildren();
        this.shown.clear();
      }
      for (const turn of [...turns].reverse()) this.showTurn(turn);
    } catch (err) {
      this.note.textContent = err instanceof ApiError ? err.message : String(err);
    }
  }

  private showTurn(turn: HistoryTurn): void {
    const known = this.shown.get(turn.id);
    if (known?.state === turn.state) return;
    const from =
      turn.origin.kind === 'chat' ? 'you' : `${turn.origin.kind}${turn.origin.source ? ` ${turn.origin.source}` : ''}`;
    const li = el(
      'li',
      { class: 'turn', 'data-turn': turn.id, 'data-state': turn.state },
      el(
        'div',
        { class: 'msg user' },
        el('span', { class: 'who' }, `${from} · ${clock(turn.created_at)}`),
        turn.input ?? '',
      ),
      el(
        'div',
        { class: 'msg agent' },
        el('span', { class: 'who' }, this.agent.value),
        turn.reply ?? (turn.error ? '' : `(${turn.state})`),
        turn.error ? el('div', { class: 'error' }, turn.error) : null,
      ),
    );
    if (known) known.li.replaceWith(li);
    else this.log.append(li);
    this.shown.set(turn.id, { li, state: turn.state });
  }

  private async say(): Promise<void> {
    const name = this.agent.value;
    const text = this.message.value.trim();
    if (!name || !text || this.streaming) return;
    this.streaming = true;
    this.send.disabled = true;
    this.note.textContent = '';
    const reply = el('span', { class: 'text' });
    const answer = el(
      'div',
      { class: 'msg agent', 'data-state': 'streaming' },
      el('span', { class: 'who' }, name),
      reply,
    );
    const tools = new Map<string, HTMLElement>();
    this.log.append(
      el(
        'li',
        { class: 'turn live' },
        el('div', { class: 'msg user' }, el('span', { class: 'who' }, 'you'), text),
        answer,
      ),
    );
    this.message.value = '';
    const onEvent = (raw: unknown) => {
      const event = raw as ChatEvent;
      if (event.type === 'token') reply.append(event.text);
      else if (event.type === 'tool_call') {
        const result = el('pre', { class: 'result muted' }, 'running…');
        const box = el(
          'details',
          { class: 'tool', 'data-tool': event.name },
          el('summary', {}, `tool ${event.name}`),
          el('div', { class: 'small muted' }, 'arguments'),
          el('pre', {}, pretty(event.arguments)),
          el('div', { class: 'small muted' }, 'result'),
          result,
        );
        tools.set(event.id, result);
        answer.insertBefore(box, reply);
      } else if (event.type === 'tool_result') {
        const result = tools.get(event.id);
        if (result) {
          result.textContent = event.output;
          result.className = event.ok ? 'result' : 'result error';
        }
      } else if (event.type === 'done') {
        reply.textContent = event.reply;
        answer.dataset.state = 'done';
      } else {
        answer.dataset.state = 'error';
        answer.append(el('div', { class: 'error' }, event.error.message));
      }
    };
    try {
      await postStream(`/agents/${encodeURIComponent(name)}/chat`, { message: text }, onEvent);
      if (answer.dataset.state === 'streaming') {
        answer.dataset.state = 'error';
        answer.append(el('div', { class: 'error' }, 'the reply stream ended early'));
      }
    } catch (err) {
      answer.dataset.state = 'error';
      answer.append(el('div', { class: 'error' }, err instanceof ApiError ? err.message : String(err)));
    } finally {
      // Still "streaming" while the turn is adopted, so no refresh draws it a second time.
      await this.adoptLiveTurn(name, text);
      this.streaming = false;
      this.send.disabled = false;
      this.message.focus();
    }
  }

  /** The streamed turn is in the history now: remember its id so a refresh keeps the drawn one (with its tool calls). */
  private async adoptLiveTurn(name: string, text: string): Promise<void> {
    try {
      const { turns } = await getJson<{ turns: HistoryTurn[] }>(`/agents/${encodeURIComponent(name)}/history?limit=5`);
      const live = this.log.querySelector<HTMLLIElement>('li.turn.live');
      const turn = turns.find((t) => t.origin.kind === 'chat' && t.input === text && !this.shown.has(t.id));
      if (!live || !turn) return;
      live.classList.remove('live');
      live.dataset.turn = turn.id;
      this.shown.set(turn.id, { li: live, state: turn.state });
    } catch {
      // The next refresh draws the turn from the history instead.
    }
  }
}

function pretty(json: string): string {
  try {
    return JSON.stringify(JSON.parse(json), null, 2);
  } catch {
    return json;
  }
}
