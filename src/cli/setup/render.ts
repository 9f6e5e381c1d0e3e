// The text of each file `legion setup` writes, computed from its request and the file's
// current text: pure functions, nothing is read or written here. Edits keep what the
// user wrote: mesh.yaml is edited in place (every comment and other key stays byte for byte),
// PROJECT.md section by section, .env and .gitignore line by line.
import { parseDocument } from 'yaml';
import { apiKeyVariable } from '../../shared/config/providers.js';
import { MeshFileSchema } from '../../shared/config/schema.js';
import { ConfigError, PROJECT_FILES } from '../../shared/config/project.js';
import { formatZodIssues } from '../../shared/zod-format.js';
import { setYamlValue } from '../../shared/config/yaml-edit.js';
import { DEFAULT_MESH_PORT, type LlmChoice, type ProjectBrief } from './answers.js';

function providerEntry(llm: LlmChoice): Record<string, string> {
  if (llm.choice === 'openai-compatible') return { kind: 'openai', base_url: llm.baseUrl ?? '' };
  return llm.baseUrl === null ? {} : { base_url: llm.baseUrl };
}

/** A scalar as YAML, quoted only when it holds characters YAML would read otherwise. */
function scalar(value: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9._~:/?=&%+@-]*$/.test(value) && !/:(\s|$)/.test(value) ? value : JSON.stringify(value);
}

function flowMap(entry: Record<string, string>): string {
  const pairs = Object.entries(entry).map(([key, value]) => `${key}: ${scalar(value)}`);
  return pairs.length === 0 ? '{}' : `{ ${pairs.join(', ')} }`;
}

/** config/mesh.yaml of a new project. */
export function renderMeshYaml(llm: LlmChoice, port: number | null): string {
  const meshPort = port ?? DEFAULT_MESH_PORT;
  const keyNote =
    llm.choice === 'openai-compatible'
      ? `key, if the server wants one: ${apiKeyVariable(llm.name)} in .env`
      : `key: ${apiKeyVariable(llm.name)} in .env`;
  return [
    '# legion mesh configuration (written by `legion setup`; edit freely). Unknown keys are errors,',
    '# so a typo never silently does nothing.',
    'mesh:',
    "  host: 127.0.0.1      # admin API (CLI, REPL); agents reach the mesh on the legion network's gateway",
    `  port: ${meshPort}`,
    `  # egress_port: ${meshPort + 1}  # the egress proxy agents use as HTTP(S)_PROXY; default port + 1`,
    'llm:',
    `  default_model: ${scalar(`${llm.name}/${llm.model}`)}   # provider/model; agents without a model use this`,
    '  providers:',
    `    ${llm.name}: ${flowMap(providerEntry(llm))}   # ${keyNote}`,
    '# budget: { daily_usd: 20, monthly_usd: 300 }   # fleet-wide LLM spending limits; per agent: agents.<name>.budget',
    '# timezone: Europe/Berlin                        # where budget days and months begin (UTC without it)',
    "# runtime: auto                                 # agents' OCI runtime: auto (gVisor/runsc when Docker has it, else runc), runc, runsc, or another registered with Docker; per agent: agents.<name>.runtime",
    '# image:',
    '#   base_image: node:20-bookworm-slim     # Debian with node 20 and npm',
    '#   extra_ca_cert: /etc/ssl/certs/ca-certificates.crt   # trusted by npm while the agent image builds',
    '',
  ].join('\n');
}

/** config/mesh.yaml of an existing project with only the requested settings changed;
 *  every other byte (comments, their columns, blank lines) stays as it was.
 *  Throws ConfigError when the file does not parse or the result is not a valid mesh.yaml. */
export function updateMeshYaml(text: string, change: { llm: LlmChoice | null; port: number | null }): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0)
    throw new ConfigError(doc.errors.map((e) => `${PROJECT_FILES.mesh}: ${e.message.split('\n')[0]}`));
  let next = text;
  if (change.port !== null) next = setYamlValue(next, ['mesh', 'port'], change.port);
  const llm = change.llm;
  if (llm !== null) {
    next = setYamlValue(next, ['llm', 'default_model'], `${llm.name}/${llm.model}`);
    const path = ['llm', 'providers', llm.name];
    if (!doc.hasIn(path) || doc.getIn(path) === null) {
      next = setYamlValue(next, path, providerEntry(llm));
    } else {
      if (llm.choice === 'openai-compatible') next = setYamlValue(next, [...path, 'kind'], 'openai');
      if (llm.baseUrl !== null) next = setYamlValue(next, [...path, 'base_url'], llm.baseUrl);
    }
  }
  const result = MeshFileSchema.safeParse(parseDocument(next).toJS() ?? {});
  if (!result.success) throw new ConfigError(formatZodIssues(PROJECT_FILES.mesh, result.error));
  return next;
}

const SECTIONS: ReadonlyArray<{ field: keyof ProjectBrief; heading: string }> = [
  { field: 'building', heading: 'What we are building' },
  { field: 'priority', heading: 'Current priority' },
  { field: 'constraints', heading: 'Hard constraints' },
];

const EMPTY_BRIEF_NOTE =
  '<!-- What this project is building, its current priority and its hard constraints. Every agent reads this file at the start of each session. -->';

/** PROJECT.md of a new project: one section per answer given. */
export function renderProjectMd(brief: ProjectBrief): string {
  const sections = SECTIONS.filter(({ field }) => (brief[field] ?? '') !== '').map(
    ({ field, heading }) => `## ${heading}\n\n${brief[field] ?? ''}\n`,
  );
  return ['# Project\n', ...(sections.length > 0 ? sections : [`${EMPTY_BRIEF_NOTE}\n`])].join('\n');
}

function isHeading(line: string): boolean {
  return /^#{1,2}\s/.test(line);
}

/** The body of one `## <heading>` section, or null when PROJECT.md has none. */
export function projectSection(text: string, heading: string): string | null {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.trim().toLowerCase() === `## ${heading.toLowerCase()}`);
  if (start === -1) return null;
  const end = lines.findIndex((line, i) => i > start && isHeading(line));
  return lines
    .slice(start + 1, end === -1 ? lines.length : end)
    .join('\n')
    .trim();
}

function replaceSection(text: string, heading: string, body: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.trim().toLowerCase() === `## ${heading.toLowerCase()}`);
  const section = body === '' ? [] : [`## ${heading}`, '', body, ''];
  if (start === -1) {
    if (section.length === 0) return text;
    const head = text.replace(/\n*$/, '');
    return `${head}\n\n${section.join('\n')}`;
  }
  const found = lines.findIndex((line, i) => i > start && isHeading(line));
  const end = found === -1 ? lines.length : found;
  const rest = lines.slice(end);
  return [...lines.slice(0, start), ...section, ...rest]
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/\n*$/, '\n');
}

/** PROJECT.md with the given sections set (a new file when there is none); the rest of
 *  the user's text is kept as written. */
export function updateProjectMd(text: string | null, brief: ProjectBrief): string {
  if (text === null) return renderProjectMd(brief);
  let next = text;
  for (const { field, heading } of SECTIONS) {
    const body = brief[field];
    if (body !== undefined) next = replaceSection(next, heading, body);
  }
  return next;
}

const ENV_HEADER = [
  '# Secrets of this legion project, read only by the mesh: provider keys',
  '# (LEGION_CRED_<PROVIDER>_API_KEY) and service credentials (LEGION_CRED_<NAME>).',
  '# Keep this file mode 0600 and out of git.',
];

/** .env with `variable` set to `value` (replacing every earlier line that sets it);
 *  a new file when there is none. Every other line is kept. */
export function updateEnv(text: string | null, variable: string, value: string | null): string {
  const lines = text === null ? [...ENV_HEADER] : text.replace(/\n*$/, '').split('\n');
  if (value === null) return `${lines.join('\n')}\n`;
  const setsVariable = (line: string) => new RegExp(`^\\s*(export\\s+)?${variable}\\s*=`).test(line);
  const index = lines.findIndex(setsVariable);
  const kept = lines.filter((line, i) => i === index || !setsVariable(line));
  const entry = `${variable}=${value}`;
  const keptIndex = kept.findIndex(setsVariable);
  if (keptIndex === -1) kept.push(entry);
  else kept[keptIndex] = entry;
  return `${kept.join('\n')}\n`;
}

const IGNORED: ReadonlyArray<{ line: string; covers: RegExp }> = [
  { line: '.env', covers: /^\/?\.env$/ },
  { line: '.legion/', covers: /^\/?\.legion\/?$/ },
];

/** .gitignore covering .env and .legion/ (appended to what is there), or null when it
 *  already does. */
export function updateGitignore(text: string | null): string | null {
  const present = (text ?? '').split('\n').map((line) => line.trim());
  const missing = IGNORED.filter(({ covers }) => !present.some((line) => covers.test(line))).map(({ line }) => line);
  if (missing.length === 0) return null;
  const head = text === null || text.trim() === '' ? '' : `${text.replace(/\n*$/, '')}\n`;
  return `${head}${missing.join('\n')}\n`;
}
