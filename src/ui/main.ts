// The dashboard page: routes by the URL's hash (#/fleet, #/chat, #/workflows, #/blackboard,
// #/events, #/costs, #/triggers), keeps one live stream from the mesh and hands each
// message to the pages, which keep their state while hidden so switching pages needs no reload.
// The workflows, blackboard and triggers pages read their data when first shown, so the
// first screen (the fleet) loads no more than it shows; from then on they follow the stream.
import { getJson, openLive, SESSION_ENDED, ApiError } from './api.js';
import { fill } from './dom.js';
import { BlackboardPage } from './blackboard.js';
import { ChatPage } from './chat.js';
import { CostsPage } from './costs.js';
import { EventsPage } from './events.js';
import { FleetPage } from './fleet.js';
import { TriggersPage } from './triggers.js';
import { WorkflowsPage } from './workflows.js';

const fleet = new FleetPage();
const chat = new ChatPage();
const workflows = new WorkflowsPage();
const blackboard = new BlackboardPage();
const events = new EventsPage();
const costs = new CostsPage();
const triggers = new TriggersPage();
const pages: Record<string, { root: HTMLElement; title: string }> = {
  fleet: { root: fleet.root, title: 'Fleet' },
  chat: { root: chat.root, title: 'Chat' },
  workflows: { root: workflows.root, title: 'Workflows' },
  blackboard: { root: blackboard.root, title: 'Blackboard' },
  events: { root: events.root, title: 'Events' },
  costs: { root: costs.root, title: 'Costs' },
  triggers: { root: triggers.root, title: 'Triggers' },
};

/** Pages that read their data on first visit; until then live events pass them by. */
const firstVisit: Record<string, () => Promise<void>> = {
  workflows: () => workflows.load(),
  blackboard: () => blackboard.load(),
  triggers: () => triggers.load(),
};
const visited = new Set<string>();

const main = document.getElementById('page');
const liveState = document.getElementById('live');

function route(): void {
  const name = location.hash.replace(/^#\//, '') || 'fleet';
  const page = pages[name] ?? pages.fleet;
  if (!main || !page) return;
  if (!visited.has(name)) {
    visited.add(name);
    void firstVisit[name]?.();
  }
  fill(main, page.root);
  document.title = `${page.title} · legion`;
  for (const link of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
    if (link.getAttribute('href') === `#/${name}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function showLive(text: string, ok: boolean): void {
  if (!liveState) return;
  liveState.textContent = text;
  liveState.className = ok ? 'ok' : 'down';
}

/** After the stream closed for good, find out why: an ended session gets its own message. */
async function explainClosed(): Promise<void> {
  try {
    await getJson('/status');
    showLive('live updates stopped; reload the page', false);
  } catch (err) {
    showLive(err instanceof ApiError && err.status === 401 ? SESSION_ENDED : 'the mesh is not answering', false);
  }
}

window.addEventListener('hashchange', route);
route();
events.load().catch((err: unknown) => showLive(err instanceof Error ? err.message : String(err), false));
void costs.load();
const source = openLive(
  (message) => {
    if (message.type === 'fleet') {
      fleet.show(message.fleet);
      costs.onFleet(message.fleet);
      chat.onFleet(message.fleet);
    } else {
      events.add(message.events);
      chat.onEvents(message.events);
      if (visited.has('workflows')) workflows.onEvents(message.events);
      if (visited.has('blackboard')) blackboard.onEvents(message.events);
      if (visited.has('triggers')) triggers.onEvents(message.events);
    }
  },
  (connected) => {
    if (connected) showLive('live', true);
    else if (source.readyState === EventSource.CLOSED) void explainClosed();
    else showLive('reconnecting…', false);
  },
);
