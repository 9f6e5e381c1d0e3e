// Loads a legion project directory: config/mesh.yaml, config/agents.yaml, PROJECT.md
// and .env. Never throws anything but ConfigError; its lines name the file, the key
// path and what was expected.
import { formatYamlError } from './yaml-error.js';
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError, PROJECT_FILES } from './project-files.js';
import { formatZodIssues } from '../zod-format.js';
import { checkAgentSkills } from './skills.js';
import { AgentsFileSchema, MeshFileSchema, type AgentEntry, type MeshFile } from './schema.js';

// The light part (no YAML, no schemas) lives in project-files.ts so that the CLI's
// mesh-talking commands can name a project without loading the config loaders.
export { ConfigError, isProjectDir, PROJECT_FILES } from './project-files.js';

export interface Project {
  dir: string;
  mesh: MeshFile;
  agents: Record<string, AgentEntry>;
  projectMd: string;
  /** process.env over .env; only the mesh ever reads it. */
  env: Record<string, string>;
}

/** Parses a YAML (or JSON) file with a schema; errors are prefixed with `label`. */
export function readConfigFile<S extends z.ZodType>(path: string, label: string, schema: S): z.output<S> {
  const text = readFileSync(path, 'utf8');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, lineCounter });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => formatYamlError(label, text, e)),
      doc.errors.map((e) => `${label}:${e.linePos?.[0].line ?? 1}: ${e.message.split('\n')[0]}`),
    );
  }
  const result = schema.safeParse(doc.toJS() ?? {});
  if (!result.success) {
    const lines = formatZodIssues(label, result.error);
    const located = result.error.issues.map((issue, i) => {
      const line = issueLine(doc, lineCounter, issue);
      const text = lines[i] ?? '';
      return line === null ? text : `${label}:${line}${text.slice(label.length)}`;
    });
    throw new ConfigError(lines, located);
  }
  return result.data;
}

/** The line of the node an issue is about: an unknown key's own line, else the deepest
 *  node of its path that the file has (a missing key is reported at its parent). */
function issueLine(doc: Document, lineCounter: LineCounter, issue: z.core.$ZodIssue): number | null {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  const candidates =
    issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined ? [[...path, issue.keys[0]], path] : [path];
  for (let depth = path.length; depth >= 0; depth -= 1) candidates.push(path.slice(0, depth));
  for (const candidate of candidates) {
    const node = candidate.length === 0 ? doc.contents : doc.getIn(candidate, true);
    if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
  }
  return null;
}

export function readEnvFile(dir: string): Record<string, string> {
  const path = join(dir, PROJECT_FILES.env);
  if (!existsSync(path)) return {};
  return Object.fromEntries(
    Object.entries(parseEnv(readFileSync(path, 'utf8'))).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}

export function loadProject(dirInput: string, processEnv: NodeJS.ProcessEnv = process.env): Project {
  const dir = resolve(dirInput);
  const meshPath = join(dir, PROJECT_FILES.mesh);
  if (!existsSync(meshPath)) {
    throw new ConfigError([`${PROJECT_FILES.mesh}: not found in ${dir} (is this a legion project directory?)`]);
  }
  const mesh = readConfigFile(meshPath, PROJECT_FILES.mesh, MeshFileSchema);
  const agentsPath = join(dir, PROJECT_FILES.agents);
  const agents = existsSync(agentsPath)
    ? readConfigFile(agentsPath, PROJECT_FILES.agents, AgentsFileSchema).agents
    : {};
  const projectPath = join(dir, PROJECT_FILES.project);
  const projectMd = existsSync(projectPath) ? readFileSync(projectPath, 'utf8') : '';
  const env: Record<string, string> = { ...readEnvFile(dir) };
  for (const [key, value] of Object.entries(processEnv)) {
    if (key.startsWith('LEGION_') && value !== undefined) env[key] = value;
  }
  const problems = [...checkModels(mesh, agents), ...checkAgentSkills(dir, agents)];
  if (problems.length > 0) throw new ConfigError(problems);
  return { dir, mesh, agents, projectMd, env };
}

/** Why `model` (provider/model) names a provider the mesh does not know, or null. */
export function unknownProviderProblem(mesh: MeshFile, label: string, model: string): string | null {
  const known = new Set(['openai', 'anthropic', ...Object.keys(mesh.llm.providers)]);
  const provider = model.split('/')[0] ?? '';
  if (known.has(provider)) return null;
  return `${label}: unknown provider "${provider}" (known: ${[...known].join(', ')}; add it under llm.providers in ${PROJECT_FILES.mesh})`;
}

/** Every model must name a provider the mesh knows; the embedding model one that has an
 *  embeddings API. */
function checkModels(mesh: MeshFile, agents: Record<string, AgentEntry>): string[] {
  const problems: string[] = [];
  const check = (label: string, model: string) => {
    const problem = unknownProviderProblem(mesh, label, model);
    if (problem !== null) problems.push(problem);
  };
  check(`${PROJECT_FILES.mesh}: llm.default_model`, mesh.llm.default_model);
  const embeddingModel = mesh.llm.embedding_model;
  if (embeddingModel !== undefined) {
    const label = `${PROJECT_FILES.mesh}: llm.embedding_model`;
    const provider = embeddingModel.split('/')[0] ?? '';
    const unknown = unknownProviderProblem(mesh, label, embeddingModel);
    if (unknown !== null) problems.push(unknown);
    else if (providerKind(mesh, provider) === 'anthropic') {
      problems.push(
        `${label}: provider "${provider}" is an Anthropic provider, which has no embeddings API; name a model of an OpenAI-compatible provider (kind: openai), for example openai/text-embedding-3-small`,
      );
    }
  }
  for (const [name, entry] of Object.entries(agents)) {
    if (entry.model) check(`${PROJECT_FILES.agents}: agents.${name}.model`, entry.model);
  }
  for (const [name, provider] of Object.entries(mesh.llm.providers)) {
    if (!provider.kind && name !== 'openai' && name !== 'anthropic') {
      problems.push(
        `${PROJECT_FILES.mesh}: llm.providers.${name}.kind: expected "openai" (OpenAI-compatible) or "anthropic" for a provider named other than openai or anthropic`,
      );
    }
  }
  return problems;
}

/** The wire format a provider speaks: its `kind`, else its name when that is a format's. */
export function providerKind(mesh: MeshFile, provider: string): 'openai' | 'anthropic' {
  return mesh.llm.providers[provider]?.kind ?? (provider === 'anthropic' ? 'anthropic' : 'openai');
}

export function agentModel(project: Project, name: string): string {
  return project.agents[name]?.model ?? project.mesh.llm.default_model;
}

/** The OCI runtime the agent asks for (auto unless configured). */
export function agentRuntime(project: Project, name: string): string {
  return project.agents[name]?.runtime ?? project.mesh.runtime;
}

/** The answer limit and temperature of the agent's calls: its agents.yaml entry, else mesh.yaml llm.*; absent when neither sets it. */
export function agentLlmSettings(project: Project, name: string): { max_tokens?: number; temperature?: number } {
  const entry = project.agents[name];
  const maxTokens = entry?.max_tokens ?? project.mesh.llm.max_tokens;
  const temperature = entry?.temperature ?? project.mesh.llm.temperature;
  return {
    ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }),
    ...(temperature === undefined ? {} : { temperature }),
  };
}
