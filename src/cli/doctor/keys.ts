// Doctor check of provider keys: every provider the project uses (llm.default_model,
// each agent's model, llm.embedding_model) must have a key, except an OpenAI-compatible
// server at a base URL of its own (Ollama, vLLM), which needs none. Keys are looked up
// exactly as the mesh does (providers.ts over the project's .env and environment).
// Invariant: a key is never put into a result, not even a prefix; only the name of
// its variable and where it was set.
import { agentModel, ConfigError, type Project } from '../../shared/config/project.js';
import { apiKeyVariable, isKeylessServer, resolveProviders } from '../../shared/config/providers.js';
import { errorMessage, fail, ok, type CheckResult } from './types.js';

/** provider name -> what uses it, in config order. */
export function providersInUse(project: Project): Map<string, string[]> {
  const users = new Map<string, string[]>();
  const use = (model: string, user: string) => {
    const provider = model.split('/')[0] ?? '';
    users.set(provider, [...(users.get(provider) ?? []), user]);
  };
  use(project.mesh.llm.default_model, 'llm.default_model');
  for (const agent of Object.keys(project.agents)) use(agentModel(project, agent), `agent ${agent}`);
  if (project.mesh.llm.embedding_model !== undefined) use(project.mesh.llm.embedding_model, 'llm.embedding_model');
  return users;
}

/** A base URL without any user:password part, for display. */
function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`.replace(/\/+$/, '');
  } catch {
    return '(not a URL)';
  }
}

export function checkKeys(project: Project, processEnv: NodeJS.ProcessEnv): CheckResult[] {
  let registry: ReturnType<typeof resolveProviders>;
  try {
    registry = resolveProviders(project);
  } catch (err) {
    const detail = err instanceof ConfigError ? err.lines.join('; ') : errorMessage(err);
    return [fail('keys', detail, 'fix the variable named above in .env or the environment')];
  }
  const results: CheckResult[] = [];
  for (const [name, users] of providersInUse(project)) {
    const check = `key ${name}`;
    const provider = registry.get(name);
    // loadProject rejects a model naming an unknown provider, so this is only a guard.
    if (!provider) continue;
    const variable = apiKeyVariable(name);
    const usedBy = `used by ${users.join(', ')}`;
    if (provider.apiKey !== null) {
      const where = processEnv[variable]?.trim() ? 'the environment' : '.env';
      results.push(ok(check, `${variable} is set in ${where} (${usedBy})`));
    } else if (isKeylessServer(provider)) {
      results.push(
        ok(
          check,
          `no key needed: ${displayUrl(provider.baseUrl)} is an OpenAI-compatible server of its own (${usedBy})`,
        ),
      );
    } else {
      results.push(
        fail(
          check,
          `no API key for provider ${name} (${usedBy})`,
          `set ${variable} in .env (keep it mode 0600) or the environment`,
        ),
      );
    }
  }
  return results;
}
