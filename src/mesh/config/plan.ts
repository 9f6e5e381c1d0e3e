// What a valid config edit changes, decided as pure functions of the config in force
// and the file's new content. Invariants: an agent is added, removed, restarted or
// updated live, never two of these; a mesh.yaml setting read only at start keeps its
// running value until the next `legion start` (the plan says which ones wait).
import { isDeepStrictEqual } from 'node:util';
import type { AgentEntry, MeshFile } from '../../shared/config/schema.js';

/** Agent settings the mesh reads each time it uses them: changing them needs no restart. */
const LIVE_AGENT_KEYS: ReadonlySet<string> = new Set([
  'budget',
  'subscriptions',
  'heartbeat',
  'max_tokens',
  'temperature',
]);

/** mesh.yaml settings read once at start (listeners, providers, image, webhook listener, agents' default OCI runtime). */
const RESTART_MESH_KEYS = [
  'mesh.host',
  'mesh.port',
  'mesh.egress_port',
  'llm.providers',
  'llm.embedding_model',
  'image',
  'webhooks',
  'runtime',
] as const;

export interface AgentChange {
  name: string;
  /** Top-level keys of the agent's entry that differ ("model" also when the default model changed it). */
  keys: string[];
  /** false: every changed key is read live, so the agent keeps running. */
  restart: boolean;
}

export interface AgentsPlan {
  added: string[];
  removed: string[];
  changed: AgentChange[];
}

export interface MeshPlan {
  /** The mesh settings to hold now: the new file, but the running value of each restart-only key. */
  effective: MeshFile;
  /** Live settings that differ from the ones in force (dotted key paths). */
  applied: string[];
  /** Restart-only settings whose file value differs from the running one. */
  waiting: string[];
}

type Entries = Record<string, AgentEntry>;

function changedKeys(before: object, after: object): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys]
    .filter(
      (key) => !isDeepStrictEqual((before as Record<string, unknown>)[key], (after as Record<string, unknown>)[key]),
    )
    .sort();
}

export function planAgents(
  before: Entries,
  after: Entries,
  modelOf: { before: (name: string) => string; after: (name: string) => string },
): AgentsPlan {
  const added = Object.keys(after)
    .filter((name) => !(name in before))
    .sort();
  const removed = Object.keys(before)
    .filter((name) => !(name in after))
    .sort();
  const changed: AgentChange[] = [];
  for (const name of Object.keys(after).sort()) {
    const old = before[name];
    const next = after[name];
    if (!old || !next) continue;
    const keys = changedKeys(old, next);
    // An agent without its own model follows llm.default_model.
    if (!keys.includes('model') && modelOf.before(name) !== modelOf.after(name)) keys.push('model');
    if (keys.length === 0) continue;
    changed.push({ name, keys: keys.sort(), restart: keys.some((key) => !LIVE_AGENT_KEYS.has(key)) });
  }
  return { added, removed, changed };
}

function getPath(file: MeshFile, path: string): unknown {
  let node: unknown = file;
  for (const part of path.split('.'))
    node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[part] : undefined;
  return node;
}

function setPath(file: MeshFile, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = file as unknown as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) node = node[part] as Record<string, unknown>;
  const last = parts.at(-1) ?? '';
  if (value === undefined) delete node[last];
  else node[last] = value;
}

/** Every dotted path below the top level that differs, down to the restart-only keys. */
function meshDifferences(before: MeshFile, after: MeshFile): string[] {
  const paths: string[] = [];
  for (const top of changedKeys(before, after)) {
    const a = (before as Record<string, unknown>)[top];
    const b = (after as Record<string, unknown>)[top];
    if (top === 'mesh' || top === 'llm')
      paths.push(...changedKeys(a as object, b as object).map((key) => `${top}.${key}`));
    else paths.push(top);
  }
  return paths;
}

/** `started` is mesh.yaml as the mesh started with it, `current` the settings in force now. */
export function planMesh(started: MeshFile, current: MeshFile, next: MeshFile): MeshPlan {
  const effective = structuredClone(next);
  const waiting: string[] = [];
  for (const key of RESTART_MESH_KEYS) {
    const running = getPath(started, key);
    if (!isDeepStrictEqual(running, getPath(next, key))) waiting.push(key);
    setPath(effective, key, structuredClone(running));
  }
  const applied = meshDifferences(current, effective);
  return { effective, applied, waiting };
}
