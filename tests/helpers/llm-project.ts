// A legion project on disk for LLM proxy tests: config/mesh.yaml plus a .env, read back
// with the real loader, so provider settings come through the same path as in the mesh.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProject, type Project } from '../../src/shared/config/project.js';

export interface LlmProjectFiles {
  /** The `llm.providers` block as YAML lines under it, e.g. `openai: { base_url: ... }`. */
  providers?: string[];
  defaultModel?: string;
  /** llm.embedding_model. */
  embeddingModel?: string;
  /** Top-level mesh.yaml lines after the llm block, e.g. `budget: { daily_usd: 0 }`. */
  meshLines?: string[];
  /** agents.yaml entries: name -> model. */
  agents?: Record<string, string>;
  dotEnv?: Record<string, string>;
  /** The process environment loadProject sees (only LEGION_* is taken). */
  processEnv?: Record<string, string>;
}

export function loadLlmProject(files: LlmProjectFiles): { project: Project; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'legion-llm-'));
  mkdirSync(join(dir, 'config'));
  const providers = files.providers ?? [];
  writeFileSync(
    join(dir, 'config', 'mesh.yaml'),
    [
      'llm:',
      `  default_model: ${files.defaultModel ?? 'openai/gpt-test'}`,
      ...(files.embeddingModel === undefined ? [] : [`  embedding_model: ${files.embeddingModel}`]),
      ...(providers.length > 0 ? ['  providers:', ...providers.map((line) => `    ${line}`)] : []),
      ...(files.meshLines ?? []),
      '',
    ].join('\n'),
  );
  if (files.agents) {
    const entries = Object.entries(files.agents).map(([name, model]) => `  ${name}: { role: tester, model: ${model} }`);
    writeFileSync(join(dir, 'config', 'agents.yaml'), ['agents:', ...entries, ''].join('\n'));
  }
  const dotEnv = Object.entries(files.dotEnv ?? {}).map(([key, value]) => `${key}=${value}`);
  writeFileSync(join(dir, '.env'), `${dotEnv.join('\n')}\n`, { mode: 0o600 });
  const project = loadProject(dir, files.processEnv ?? {});
  return { project, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
