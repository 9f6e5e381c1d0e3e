// Finds and reads the shipped team templates (templates/*.yaml). Invariants: the folder
// is found relative to this module, three levels below the package root both as
// src/cli/templates/load.ts and as dist/cli/templates/load.js; a template that does not
// parse or fit the format is a ConfigError naming the file and key, never a template
// with parts silently missing; a template's name is its file's name.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Document, isNode, parseDocument, type Node } from 'yaml';
import { LegionError } from '../../shared/errors.js';
import { ConfigError } from '../../shared/config/project.js';
import type { NewAgent } from '../../shared/config/agents-edit.js';
import type { WorkspaceSeeds } from '../../shared/config/workspace-seeds.js';
import { WorkflowFileSchema } from '../../shared/config/workflow.js';
import { formatZodIssues } from '../../shared/zod-format.js';
import { TemplateFileSchema } from '../../shared/config/templates.js';

export const TEMPLATES_DIR = fileURLToPath(new URL('../../../templates/', import.meta.url));

export interface TemplateSummary {
  name: string;
  description: string;
  agents: string[];
}

/** One agent: its config/agents.yaml entry and the workspace files it starts with. */
export interface TemplateAgent extends NewAgent {
  seeds: WorkspaceSeeds;
}

export interface TemplateWorkflow {
  name: string;
  /** config/workflows/<name>.yaml as the template writes it (its comments and layout kept). */
  text: string;
  /** Agents its steps name, and roles its steps ask for (capability). */
  agents: string[];
  capabilities: string[];
}

export interface Template {
  name: string;
  description: string;
  /** templates/<name>.yaml, for messages. */
  file: string;
  agents: TemplateAgent[];
  /** config/permissions.yaml `agents` entries, as the template writes them. */
  permissions: Record<string, TemplatePermissions>;
  workflows: TemplateWorkflow[];
}

/** One agent's permission entry: its rules, and the YAML node (with the template's
 *  comments) that goes into a YAML permission file. */
export interface TemplatePermissions {
  rules: Record<string, unknown>;
  node: Node;
}

function withNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** Parses one template file; `label` names it in errors (templates/sales.yaml). */
export function parseTemplate(label: string, text: string): Template {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) throw new ConfigError(doc.errors.map((e) => `${label}: ${e.message.split('\n')[0]}`));
  const result = TemplateFileSchema.safeParse(doc.toJS() ?? {});
  if (!result.success) throw new ConfigError(formatZodIssues(label, result.error));
  const file = result.data;
  const stem = basename(label).replace(/\.ya?ml$/, '');
  if (file.name !== stem)
    throw new ConfigError([
      `${label}: name: the template is named "${file.name}" but its file is ${basename(label)}; they must match`,
    ]);
  return {
    name: file.name,
    description: file.description.trim(),
    file: label,
    agents: Object.entries(file.agents).map(([name, spec]) => ({
      name,
      role: spec.role,
      model: spec.model,
      system_prompt: withNewline(spec.system_prompt.trim()),
      budget: spec.budget,
      subscriptions: spec.subscriptions,
      heartbeat: spec.heartbeat,
      seeds: { 'SOUL.md': withNewline(spec.soul_md), 'HEARTBEAT.md': withNewline(spec.heartbeat_md) },
    })),
    permissions: Object.fromEntries(
      Object.entries(file.permissions?.agents ?? {}).map(([agent, rules]) => [
        agent,
        { rules, node: nodeAt(doc, ['permissions', 'agents', agent]) },
      ]),
    ),
    workflows: Object.entries(file.workflows ?? {}).map(([name, content]) => {
      // Checked by the schema's refinement already; parsed again for the references.
      const steps = WorkflowFileSchema.parse(content).steps;
      const workflow = new Document();
      workflow.contents = nodeAt(doc, ['workflows', name]);
      workflow.commentBefore = ` From the ${file.name} team template (legion templates); edit freely.`;
      return {
        name,
        text: workflow.toString({ lineWidth: 0, flowCollectionPadding: false }),
        agents: [...new Set(steps.flatMap((step) => (step.agent === undefined ? [] : [step.agent])))],
        capabilities: [...new Set(steps.flatMap((step) => (step.capability === undefined ? [] : [step.capability])))],
      };
    }),
  };
}

function nodeAt(doc: Document, path: string[]): Node {
  const node: unknown = doc.getIn(path, true);
  if (!isNode(node)) throw new Error(`template document has no node at ${path.join('.')}`);
  return node;
}

function templateFiles(): string[] {
  return readdirSync(TEMPLATES_DIR)
    .filter((entry) => /^[a-z][a-z0-9-]*\.ya?ml$/.test(entry))
    .sort();
}

function readTemplate(entry: string): Template {
  return parseTemplate(`templates/${entry}`, readFileSync(join(TEMPLATES_DIR, entry), 'utf8'));
}

/** Every shipped template, by name. */
export function listTemplates(): TemplateSummary[] {
  return templateFiles().map((entry) => {
    const template = readTemplate(entry);
    return {
      name: template.name,
      description: template.description,
      agents: template.agents.map((agent) => agent.name),
    };
  });
}

export function loadTemplate(name: string): Template {
  const files = templateFiles();
  const entry = files.find((file) => file.replace(/\.ya?ml$/, '') === name);
  if (entry === undefined) {
    const known = files.map((file) => file.replace(/\.ya?ml$/, ''));
    throw new LegionError(
      'unknown_template',
      `unknown template "${name}" (templates: ${known.join(', ')}; legion templates lists them)`,
    );
  }
  return readTemplate(entry);
}
