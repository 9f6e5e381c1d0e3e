// Pure graph helpers for a workflow's steps. A graph is the steps in file order and, per
// step, the steps it waits for (only known ones). Invariants: results are deterministic
// (file order decides among equals) and nothing here throws, cycles included.

export interface StepGraph {
  /** Step ids in file order. */
  nodes: readonly string[];
  /** What each step waits for. */
  waitsFor: ReadonlyMap<string, readonly string[]>;
}

/** Every step `id` waits for, directly or through other steps (never `id` itself unless
 *  it is on a cycle). */
export function ancestors(graph: StepGraph, id: string): Set<string> {
  const seen = new Set<string>();
  const stack = [...(graph.waitsFor.get(id) ?? [])];
  while (stack.length > 0) {
    const next = stack.pop() as string;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(graph.waitsFor.get(next) ?? []));
  }
  return seen;
}

/** Reversed edges: for each step, the steps that wait for it directly. */
export function dependents(graph: StepGraph): Map<string, string[]> {
  const out = new Map<string, string[]>(graph.nodes.map((id) => [id, []]));
  for (const id of graph.nodes) {
    for (const dep of graph.waitsFor.get(id) ?? []) out.get(dep)?.push(id);
  }
  return out;
}

/** Each cycle once, in the order steps would run ("a -> b -> a": b waits for a, a for b). */
function findCycles(graph: StepGraph, stuck: ReadonlySet<string>): string[][] {
  const cycles: string[][] = [];
  const seen = new Set<string>();
  for (const start of graph.nodes) {
    if (!stuck.has(start)) continue;
    // Every stuck step waits for a stuck step, so walking back always meets a step again.
    const walk: string[] = [];
    let current = start;
    while (!walk.includes(current)) {
      walk.push(current);
      current = (graph.waitsFor.get(current) ?? []).find((dep) => stuck.has(dep)) as string;
    }
    const loop = walk.slice(walk.indexOf(current)).reverse();
    // Start each cycle at its earliest step in file order so one cycle is reported once.
    const first = loop.reduce((a, b) => (graph.nodes.indexOf(a) <= graph.nodes.indexOf(b) ? a : b));
    const at = loop.indexOf(first);
    const rotated = [...loop.slice(at), ...loop.slice(0, at)];
    const key = rotated.join('\u0000');
    if (!seen.has(key)) {
      seen.add(key);
      cycles.push([...rotated, first]);
    }
  }
  return cycles;
}

/** A topological order (at each point the earliest ready step in file order), or the
 *  cycles that prevent one, each closed ("a -> b -> a" is ['a', 'b', 'a']). */
export function topologicalOrder(graph: StepGraph): { order: string[] } | { cycles: string[][] } {
  const order: string[] = [];
  const placed = new Set<string>();
  while (order.length < graph.nodes.length) {
    const ready = graph.nodes.find(
      (id) => !placed.has(id) && (graph.waitsFor.get(id) ?? []).every((dep) => placed.has(dep)),
    );
    if (ready === undefined) {
      return { cycles: findCycles(graph, new Set(graph.nodes.filter((id) => !placed.has(id)))) };
    }
    order.push(ready);
    placed.add(ready);
  }
  return { order };
}
