// Agents that name their own `model:` in config/agents.yaml, when setup moves the
// project to another provider: an agent pinned to the old provider would keep calling it
// (and `legion start` would then want its key). Pure, apart from reading the line numbers
// to show; the edit itself removes each chosen agent's `model:` line and nothing else,
// so the agent follows llm.default_model and every comment stays as written.
import { agentModelLine } from '../../shared/config/agents-edit.js';
import type { Project } from '../../shared/config/project.js';
import { deleteYamlValue } from '../../shared/config/yaml-edit.js';

export interface PinnedAgent {
  name: string;
  model: string;
  /** 1-based line of its `model:` in config/agents.yaml, when found. */
  line: number | null;
}

/** The agents whose own model names `provider`. */
export function agentsPinnedTo(project: Project, provider: string): PinnedAgent[] {
  return Object.entries(project.agents)
    .filter(([, agent]) => agent.model?.split('/')[0] === provider)
    .map(([name, agent]) => ({ name, model: agent.model ?? '', line: agentModelLine(project.dir, name) }));
}

export function describePinned(agent: PinnedAgent): string {
  return `${agent.name}: model ${agent.model}${agent.line === null ? '' : ` (config/agents.yaml line ${agent.line})`}`;
}

/** config/agents.yaml's text without the `model:` of each named agent. */
export function unpinAgents(agentsYaml: string, names: readonly string[]): string {
  return names.reduce((text, name) => deleteYamlValue(text, ['agents', name, 'model']), agentsYaml);
}
