// Edits a YAML file's text in place, so that every byte the edit does not concern stays
// as the user wrote it: comments, their columns, blank lines, quoting. (Re-printing a
// parsed Document moves comments after a map's last item into that map and squeezes
// their spacing, which is how a commented `# budget:` block once ended up indented
// under llm.providers.) Each edit locates its node by the offsets the parser records
// and splices text there; the result is parsed again and must hold exactly the data the
// same edit makes on the parsed document, else the edit throws rather than write
// something else.
import { isDeepStrictEqual } from 'node:util';
import { isMap, isScalar, parseDocument, stringify, type Document, type Node, type YAMLMap } from 'yaml';
import { LegionError } from '../errors.js';

export type YamlPath = readonly string[];

function parse(text: string): Document {
  const doc = parseDocument(text);
  if (doc.errors.length > 0)
    throw new LegionError(
      'yaml_edit_failed',
      `cannot edit YAML that does not parse: ${doc.errors[0]?.message.split('\n')[0] ?? ''}`,
    );
  return doc;
}

/** A value as YAML on one line: scalars plain or quoted as needed, maps and lists in flow style. */
export function inlineYaml(value: unknown): string {
  return stringify(value, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd();
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

function lineEnd(text: string, offset: number): number {
  const end = text.indexOf('\n', offset);
  return end === -1 ? text.length : end + 1;
}

function column(text: string, offset: number): number {
  return offset - lineStart(text, offset);
}

function rangeOf(node: Node): [number, number, number] {
  if (!node.range) throw new LegionError('internal', 'a YAML node without its position in the text');
  return node.range;
}

/** Replaces a node's text (its value, not a comment after it) with `replacement`. */
function replaceNode(text: string, node: Node, replacement: string): string {
  const [start, valueEnd] = rangeOf(node);
  return text.slice(0, start) + replacement + text.slice(valueEnd);
}

function mapAt(doc: Document, path: YamlPath): YAMLMap | null {
  const node: unknown = path.length === 0 ? doc.contents : doc.getIn(path, true);
  return isMap(node) ? node : null;
}

function jsEquals(text: string, expected: Document): void {
  if (!isDeepStrictEqual(parse(text).toJS(), expected.toJS())) {
    throw new LegionError('internal', 'an edit of the YAML text did not give the data it should; nothing was changed');
  }
}

/** Adds `key: value` to the map at `path` (which must exist), after its last entry. */
function insertPair(text: string, doc: Document, path: YamlPath, key: string, value: unknown): string {
  const map = mapAt(doc, path);
  if (map === null)
    throw new LegionError('yaml_edit_failed', `no map at ${path.join('.') || 'the top level'} to add ${key} to`);
  const data: unknown = map.toJSON();
  if (map.flow || map.items.length === 0) {
    return replaceNode(text, map, inlineYaml({ ...(data as Record<string, unknown>), [key]: value }));
  }
  const first = map.items[0];
  const last = map.items[map.items.length - 1];
  const firstKey = first?.key as Node | undefined;
  const lastEnd = last?.value ? rangeOf(last.value as Node)[1] : last?.key ? rangeOf(last.key as Node)[1] : text.length;
  const indent = firstKey ? ' '.repeat(column(text, rangeOf(firstKey)[0])) : '';
  const at = lineEnd(text, Math.max(lastEnd - 1, 0));
  const head = text.slice(0, at);
  return `${head}${head.endsWith('\n') || head === '' ? '' : '\n'}${indent}${key}: ${inlineYaml(value)}\n${text.slice(at)}`;
}

/** The text with the value at `path` set; missing maps on the way are created. */
export function setYamlValue(text: string, path: YamlPath, value: unknown): string {
  const doc = parse(text);
  const expected = parse(text);
  expected.setIn(path, value);
  const next = setIn(text, doc, path, value);
  jsEquals(next, expected);
  return next;
}

function setIn(text: string, doc: Document, path: YamlPath, value: unknown): string {
  const parentPath = path.slice(0, -1);
  const parent = mapAt(doc, parentPath);
  const key = path[path.length - 1] ?? '';
  const pair = parent?.items.find((item) => isScalar(item.key) && item.key.value === key);
  if (parent !== null && pair !== undefined) {
    // Inside a flow map the whole map is written again, on one line as it was.
    if (parent.flow)
      return replaceNode(text, parent, inlineYaml({ ...(parent.toJSON() as Record<string, unknown>), [key]: value }));
    const current = pair.value as Node | null;
    if (current !== null && !(isScalar(current) && current.value === null))
      return replaceNode(text, current, inlineYaml(value));
    // `key:` with nothing after it: the value goes after the colon.
    const colon = text.indexOf(':', rangeOf(pair.key as Node)[1]);
    return `${text.slice(0, colon + 1)} ${inlineYaml(value)}${text.slice(colon + 1).replace(/^[ \t]*(?=\n|$)/, '')}`;
  }
  // Missing: add the outermost missing key with the rest nested in it.
  for (let depth = path.length - 1; depth >= 0; depth -= 1) {
    const outer = path.slice(0, depth);
    if (mapAt(doc, outer) === null) continue;
    const nested = path.slice(depth + 1).reduceRight<unknown>((inner, k) => ({ [k]: inner }), value);
    return insertPair(text, doc, outer, path[depth] ?? '', nested);
  }
  throw new LegionError('yaml_edit_failed', `cannot set ${path.join('.')}: the file's top level is not a map`);
}

/** The text without the entry at `path` (its lines, with a comment on them); unchanged when absent. */
export function deleteYamlValue(text: string, path: YamlPath): string {
  const doc = parse(text);
  if (!doc.hasIn(path)) return text;
  const expected = parse(text);
  expected.deleteIn(path);
  const parent = mapAt(doc, path.slice(0, -1));
  const key = path[path.length - 1];
  const pair = parent?.items.find((item) => isScalar(item.key) && item.key.value === key);
  if (parent === null || pair === undefined)
    throw new LegionError('yaml_edit_failed', `cannot remove ${path.join('.')}`);
  let next: string;
  if (parent.flow) {
    const data = { ...(parent.toJSON() as Record<string, unknown>) };
    delete data[key ?? ''];
    next = replaceNode(text, parent, inlineYaml(data));
  } else {
    const start = lineStart(text, rangeOf(pair.key as Node)[0]);
    const valueEnd = pair.value ? rangeOf(pair.value as Node)[1] : rangeOf(pair.key as Node)[1];
    next = text.slice(0, start) + text.slice(lineEnd(text, Math.max(valueEnd - 1, start)));
  }
  jsEquals(next, expected);
  return next;
}

/** The 1-based line where the value at `path` is written, or null when it is absent. */
export function yamlLine(text: string, path: YamlPath): number | null {
  const doc = parseDocument(text);
  const parent = mapAt(doc, path.slice(0, -1));
  const pair = parent?.items.find((item) => isScalar(item.key) && item.key.value === path[path.length - 1]);
  if (!pair) return null;
  const offset = rangeOf(pair.key as Node)[0];
  return text.slice(0, offset).split('\n').length;
}
