// Adds a template's permission entries to the project's permission file: YAML with the
// user's comments, layout and rules kept, or JSON when that is the file the project uses;
// without either, the starter policy (commented) is written out first, so the agents
// already in the project keep exactly the rules they had. Invariants: writes nothing
// (the caller does); an agent the file already lists keeps its entry when the template's
// means the same, and is an error otherwise, never silently replaced; the result is
// validated against the permissions schema.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isNode, parseDocument, type Document } from 'yaml';
import { LegionError } from '../../shared/errors.js';
import { ConfigError } from '../../shared/config/project.js';
import { formatZodIssues } from '../../shared/zod-format.js';
import { readPermissionRules } from '../../shared/config/permissions/file.js';
import {
  PERMISSIONS_FILES,
  PermissionEntrySchema,
  PermissionsFileSchema,
} from '../../shared/config/permissions/schema.js';
import { renderStarterPolicyYaml } from '../../shared/config/permissions/starter.js';
import type { TemplatePermissions } from './load.js';

export interface PermissionsEdit {
  /** config/permissions.yaml or config/permissions.json */
  path: string;
  text: string;
}

type Entries = Record<string, TemplatePermissions>;

function sameRules(a: unknown, b: unknown): boolean {
  const left = PermissionEntrySchema.safeParse(a);
  const right = PermissionEntrySchema.safeParse(b);
  return left.success && right.success && JSON.stringify(left.data) === JSON.stringify(right.data);
}

function conflict(path: string, agent: string): LegionError {
  return new LegionError(
    'permissions_conflict',
    `${path} already has rules for agent "${agent}" that differ from the template's; remove them (or rename the agent there) and try again`,
  );
}

function checked(path: string, value: unknown): void {
  const result = PermissionsFileSchema.safeParse(value ?? {});
  if (!result.success) throw new ConfigError(formatZodIssues(path, result.error));
}

/** `starter`: the text is the rendered starter policy, whose closing comment (a commented
 *  example of `agents`) then introduces the real `agents` map rather than trailing it. */
function mergeYaml(path: string, text: string, entries: Entries, starter: boolean): string | null {
  const doc: Document = parseDocument(text);
  if (doc.errors.length > 0) throw new ConfigError(doc.errors.map((e) => `${path}: ${e.message.split('\n')[0]}`));
  if (!isMap(doc.get('agents'))) {
    const key = doc.createNode('agents');
    if (starter && doc.comment) {
      key.commentBefore = doc.comment;
      key.spaceBefore = true;
      doc.comment = null;
    }
    doc.add(doc.createPair(key, doc.createNode({})));
  }
  let changed = false;
  for (const [agent, entry] of Object.entries(entries)) {
    if (doc.hasIn(['agents', agent])) {
      const node: unknown = doc.getIn(['agents', agent], true);
      if (!sameRules(isNode(node) ? node.toJSON() : node, entry.rules)) throw conflict(path, agent);
      continue;
    }
    // The template's own node: its comments and list styles come along.
    doc.setIn(['agents', agent], entry.node.clone());
    changed = true;
  }
  if (!changed) return null;
  checked(path, doc.toJS());
  return doc.toString({ flowCollectionPadding: false });
}

function mergeJson(path: string, text: string, entries: Entries): string | null {
  let file: unknown;
  try {
    file = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`${path}: ${err instanceof Error ? err.message : String(err)}`]);
  }
  if (typeof file !== 'object' || file === null || Array.isArray(file))
    throw new ConfigError([`${path}: expected an object`]);
  const root = file as Record<string, unknown>;
  const current = root.agents;
  const agents: Record<string, unknown> =
    typeof current === 'object' && current !== null && !Array.isArray(current)
      ? { ...(current as Record<string, unknown>) }
      : {};
  let changed = false;
  for (const [agent, entry] of Object.entries(entries)) {
    if (Object.hasOwn(agents, agent)) {
      if (!sameRules(agents[agent], entry.rules)) throw conflict(path, agent);
      continue;
    }
    agents[agent] = entry.rules;
    changed = true;
  }
  if (!changed) return null;
  const merged = { ...root, agents };
  checked(path, merged);
  return `${JSON.stringify(merged, null, 2)}\n`;
}

/** The permission file's new text with `entries` added under `agents`; null when the
 *  file would not change (nothing to add, or every entry is there already). */
export function permissionsWithAdded(projectDir: string, entries: Entries): PermissionsEdit | null {
  if (Object.keys(entries).length === 0) return null;
  // The file as it stands must be valid: merging into a broken one would hide the break.
  const current = readPermissionRules(projectDir);
  if (current.source.kind === 'starter') {
    const text = mergeYaml(PERMISSIONS_FILES.yaml, renderStarterPolicyYaml(), entries, true);
    return text === null ? null : { path: PERMISSIONS_FILES.yaml, text };
  }
  const path = current.source.path;
  const existing = readFileSync(join(projectDir, path), 'utf8');
  const text =
    path === PERMISSIONS_FILES.json ? mergeJson(path, existing, entries) : mergeYaml(path, existing, entries, false);
  return text === null ? null : { path, text };
}
