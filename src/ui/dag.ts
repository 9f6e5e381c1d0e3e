// A workflow run drawn as its DAG in SVG (no graph library): each step in the column
// of its longest chain of dependencies, an arrow from each dependency, the step's
// status as its colour and its words. Nodes are drawn once and then only their status
// changes (setStatus), so a step's transitions show in place; each node is a button
// (Tab, Enter or Space, or a click) that asks for the step's detail. Transitions that
// arrive together (a step queued and dispatched in the same instant come in one batch of
// events) are shown one after another, each for at least MIN_SHOWN_MS, so every state a
// step passes through is painted and none is overwritten before it could be seen.
import { svg } from './dom.js';
import type { RunGraph, StepStatus } from './types.js';

const NODE_W = 168;
const NODE_H = 46;
const GAP_X = 56;
const GAP_Y = 18;
const PAD = 8;
const MIN_SHOWN_MS = 120;

interface DagNode {
  g: SVGElement;
  label: SVGElement;
  /** Statuses waiting for the one on screen to have been shown long enough, oldest first. */
  waiting: { status: StepStatus; attempt: number }[];
  shownAt: number;
  timer: number | undefined;
}

export class DagView {
  readonly element: SVGElement;
  private readonly nodes = new Map<string, DagNode>();

  constructor(graph: RunGraph, onPick: (step: string) => void) {
    const column = columnsOf(graph);
    const rows = new Map<number, number>();
    const at = new Map<string, { x: number; y: number }>();
    for (const step of graph.steps) {
      const col = column.get(step.id) ?? 0;
      const row = rows.get(col) ?? 0;
      rows.set(col, row + 1);
      at.set(step.id, { x: PAD + col * (NODE_W + GAP_X), y: PAD + row * (NODE_H + GAP_Y) });
    }
    const width = PAD * 2 + (Math.max(0, ...column.values()) + 1) * (NODE_W + GAP_X) - GAP_X;
    const height = PAD * 2 + Math.max(1, ...rows.values()) * (NODE_H + GAP_Y) - GAP_Y;
    this.element = svg('svg', {
      class: 'dag',
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: 'group',
      'aria-label': `steps of run ${graph.run_id}`,
    });
    const arrow = svg('marker', {
      id: 'arrow',
      viewBox: '0 0 10 10',
      refX: 10,
      refY: 5,
      markerWidth: 7,
      markerHeight: 7,
      orient: 'auto',
    });
    arrow.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }));
    this.element.append(svg('defs', {}, arrow));
    for (const step of graph.steps) {
      const to = at.get(step.id);
      for (const dep of step.depends_on) {
        const from = at.get(dep);
        if (!from || !to) continue;
        const x1 = from.x + NODE_W;
        const y1 = from.y + NODE_H / 2;
        const y2 = to.y + NODE_H / 2;
        const mid = (x1 + to.x) / 2;
        this.element.append(
          svg('path', {
            class: 'edge',
            d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${to.x},${y2}`,
            'marker-end': 'url(#arrow)',
          }),
        );
      }
    }
    for (const step of graph.steps) {
      const { x, y } = at.get(step.id) ?? { x: 0, y: 0 };
      const label = svg('text', { x: x + 10, y: y + 36, class: 'status' }, 'pending');
      const g = svg(
        'g',
        {
          class: 'node',
          'data-step': step.id,
          'data-status': 'pending',
          tabindex: 0,
          role: 'button',
          'aria-label': `step ${step.id}: pending`,
        },
        svg('title', {}, `${step.id} on ${step.target}${step.condition ? `, when ${step.condition}` : ''}`),
        svg('rect', { x, y, width: NODE_W, height: NODE_H, rx: 6 }),
        svg('text', { x: x + 10, y: y + 18, class: 'name' }, step.condition ? `${step.id} ◇` : step.id),
        label,
      );
      g.addEventListener('click', () => onPick(step.id));
      g.addEventListener('keydown', (event) => {
        if (!(event instanceof KeyboardEvent) || (event.key !== 'Enter' && event.key !== ' ')) return;
        event.preventDefault();
        onPick(step.id);
      });
      this.nodes.set(step.id, { g, label, waiting: [], shownAt: 0, timer: undefined });
      this.element.append(g);
    }
  }

  setStatus(step: string, status: StepStatus, attempt = 0): void {
    const node = this.nodes.get(step);
    if (!node) return;
    const latest = node.waiting.at(-1)?.status ?? node.g.getAttribute('data-status');
    if (latest === status) return;
    node.waiting.push({ status, attempt });
    this.showNext(step, node);
  }

  private showNext(step: string, node: DagNode): void {
    if (node.timer !== undefined) return;
    const wait = node.shownAt + MIN_SHOWN_MS - performance.now();
    if (wait > 0) {
      node.timer = window.setTimeout(() => {
        node.timer = undefined;
        this.showNext(step, node);
      }, wait);
      return;
    }
    const next = node.waiting.shift();
    if (!next) return;
    node.g.setAttribute('data-status', next.status);
    node.g.setAttribute('aria-label', `step ${step}: ${next.status}`);
    node.label.textContent = next.attempt > 1 ? `${next.status} (attempt ${next.attempt})` : next.status;
    node.shownAt = performance.now();
    if (node.waiting.length > 0) this.showNext(step, node);
  }
}

/** Each step's column: one past the furthest of its dependencies (definitions have no cycles). */
function columnsOf(graph: RunGraph): Map<string, number> {
  const byId = new Map(graph.steps.map((s) => [s.id, s]));
  const column = new Map<string, number>();
  const visit = (id: string, depth: number): number => {
    const known = column.get(id);
    if (known !== undefined) return known;
    const deps = depth > graph.steps.length ? [] : (byId.get(id)?.depends_on ?? []);
    const col = deps.length === 0 ? 0 : 1 + Math.max(...deps.map((d) => visit(d, depth + 1)));
    column.set(id, col);
    return col;
  };
  for (const step of graph.steps) visit(step.id, 0);
  return column;
}
