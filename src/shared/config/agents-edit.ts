// Adds and removes agents in config/agents.yaml, keeping the user's comments and
// layout. Validates the whole file after the edit and writes nothing if it fails.
import { existsSync, readFileSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseDocument, type Document } from 'yaml';
import { LegionError } from '../errors.js';
import { checkAgentName } from '../names.js';
import { formatZodIssues } from '../zod-format.js';
import { AgentsFileSchema } from './schema.js';
import { ConfigError, PROJECT_FILES } from './project.js';

export interface NewAgent {
  name: string;
  role: string;
  model?: string | undefined;
  system_prompt?: string | undefined;
}

function load(dir: string): Document {
  const path = join(dir, PROJECT_FILES.agents);
  const doc = parseDocument(existsSync(path) ? readFileSync(path, 'utf8') : 'agents: {}\n');
  if (doc.errors.length > 0) throw new ConfigError(doc.errors.map((e) => `${PROJECT_FILES.agents}: ${e.message.split('\n')[0]}`));
  if (!doc.has('agents') || doc.get('agents') === null) doc.set('agents', doc.createNode({}));
  return doc;
}

function save(dir: string, doc: Document): void {
  const result = AgentsFileSchema.safeParse(doc.toJS());
  if (!result.success) throw new ConfigError(formatZodIssues(PROJECT_FILES.agents, result.error));
  const path = join(dir, PROJECT_FILES.agents);
  mkdirSync(dirname(path), { recursive: true });
  // Write then rename, so a crash never leaves a half-written config.
  writeFileSync(`${path}.tmp`, doc.toString());
  renameSync(`${path}.tmp`, path);
}

export function addAgentToConfig(dir: string, agent: NewAgent): void {
  const problem = checkAgentName(agent.name);
  if (problem) throw new LegionError('invalid_name', problem, 400);
  const doc = load(dir);
  if (doc.hasIn(['agents', agent.name])) {
    throw new LegionError('agent_exists', `an agent named "${agent.name}" already exists in ${PROJECT_FILES.agents}`, 409);
  }
  const entry: Record<string, string> = { role: agent.role };
  if (agent.model) entry.model = agent.model;
  if (agent.system_prompt) entry.system_prompt = agent.system_prompt;
  doc.setIn(['agents', agent.name], doc.createNode(entry));
  save(dir, doc);
}

export function removeAgentFromConfig(dir: string, name: string): void {
  const doc = load(dir);
  if (!doc.hasIn(['agents', name])) {
    throw new LegionError('unknown_agent', `no agent named "${name}" in ${PROJECT_FILES.agents}`, 404);
  }
  doc.deleteIn(['agents', name]);
  save(dir, doc);
}
