// Adds and removes agents in config/agents.yaml, keeping the user's comments and
// layout. Validates the whole file after the edit and writes nothing if it fails.
import { formatYamlError } from './yaml-error.js';
import { existsSync, readFileSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isCollection, isMap, isScalar, parseDocument, type Document } from 'yaml';
import { LegionError } from '../errors.js';
import { checkAgentName } from '../names.js';
import { formatZodIssues } from '../zod-format.js';
import type { HeartbeatConfig } from '../wire/heartbeat.js';
import { AgentsFileSchema, type Budget } from './schema.js';
import { ConfigError, PROJECT_FILES } from './project.js';
import { yamlLine } from './yaml-edit.js';

export interface NewAgent {
  name: string;
  role: string;
  model?: string | undefined;
  system_prompt?: string | undefined;
  budget?: Budget | undefined;
  subscriptions?: string[] | undefined;
  heartbeat?: HeartbeatConfig | undefined;
}

function load(dir: string): Document {
  const path = join(dir, PROJECT_FILES.agents);
  const text = existsSync(path) ? readFileSync(path, 'utf8') : 'agents: {}\n';
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0)
    throw new ConfigError(doc.errors.map((e) => formatYamlError(PROJECT_FILES.agents, text, e)));
  if (!doc.has('agents') || doc.get('agents') === null) doc.set('agents', doc.createNode({}));
  // `agents: {}` is a flow map, which would put every agent added to it on one line.
  const agents: unknown = doc.get('agents', true);
  if (isMap(agents) && agents.items.length === 0) agents.flow = false;
  return doc;
}

/** The document's text once it passed the schema; ConfigError otherwise. */
function validated(doc: Document): string {
  const result = AgentsFileSchema.safeParse(doc.toJS());
  if (!result.success) throw new ConfigError(formatZodIssues(PROJECT_FILES.agents, result.error));
  return doc.toString();
}

function save(dir: string, text: string): void {
  const path = join(dir, PROJECT_FILES.agents);
  mkdirSync(dirname(path), { recursive: true });
  // Write then rename, so a crash never leaves a half-written config.
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** config/agents.yaml's text with `agents` added (comments kept), validated; writes nothing. */
export function agentsFileWithAdded(dir: string, agents: readonly NewAgent[]): string {
  const doc = load(dir);
  for (const agent of agents) {
    const problem = checkAgentName(agent.name);
    if (problem) throw new LegionError('invalid_name', problem);
    if (doc.hasIn(['agents', agent.name])) {
      throw new LegionError('agent_exists', `an agent named "${agent.name}" already exists in ${PROJECT_FILES.agents}`);
    }
    const entry: Record<string, unknown> = { role: agent.role };
    if (agent.model) entry.model = agent.model;
    if (agent.system_prompt) entry.system_prompt = agent.system_prompt;
    if (agent.budget) entry.budget = agent.budget;
    if (agent.subscriptions?.length) entry.subscriptions = agent.subscriptions;
    if (agent.heartbeat) entry.heartbeat = agent.heartbeat;
    const node = doc.createNode(entry);
    // Short structures read best on one line, as in the shipped example.
    for (const key of ['budget', 'subscriptions', 'heartbeat']) {
      const value: unknown = node.get(key, true);
      if (isCollection(value)) value.flow = true;
    }
    // A prompt of several lines stays as written (a literal block), not folded.
    const prompt: unknown = node.get('system_prompt', true);
    if (isScalar(prompt) && typeof prompt.value === 'string' && prompt.value.includes('\n'))
      prompt.type = 'BLOCK_LITERAL';
    doc.setIn(['agents', agent.name], node);
  }
  return validated(doc);
}

export function addAgentToConfig(dir: string, agent: NewAgent): void {
  save(dir, agentsFileWithAdded(dir, [agent]));
}

export function removeAgentFromConfig(dir: string, name: string): void {
  const doc = load(dir);
  if (!doc.hasIn(['agents', name])) {
    throw new LegionError('unknown_agent', `no agent named "${name}" in ${PROJECT_FILES.agents}`);
  }
  doc.deleteIn(['agents', name]);
  save(dir, validated(doc));
}

/** The line of config/agents.yaml where `agents.<name>.model` is written, or null. */
export function agentModelLine(dir: string, name: string): number | null {
  const path = join(dir, PROJECT_FILES.agents);
  return existsSync(path) ? yamlLine(readFileSync(path, 'utf8'), ['agents', name, 'model']) : null;
}
