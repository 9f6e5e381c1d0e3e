// The LLM routes as the mesh mounts them: the error handler, an agent-API scope with the
// real agent-token check, llmRoutes and embeddingsRoutes inside it, a project loaded from
// files on disk, and two fake providers (one per format) that each accept only their own key.
import { createServer } from 'node:net';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { createLlmProxy } from '../../../../src/mesh/llm/proxy.js';
import { resolveProviders } from '../../../../src/shared/config/providers.js';
import { llmRoutes } from '../../../../src/mesh/llm/routes.js';
import { createEmbeddingsProxy } from '../../../../src/mesh/llm/embeddings.js';
import { embeddingsRoutes } from '../../../../src/mesh/llm/embeddings-routes.js';
import { AgentTokens, requireAgentToken } from '../../../../src/mesh/http/agent-auth.js';
import { installErrorHandler } from '../../../../src/mesh/http/errors.js';
import { agentLlmSettings, agentModel, type Project } from '../../../../src/shared/config/project.js';
import { createLogger } from '../../../../src/shared/logging.js';
import { readSse } from '../../../../src/shared/sse.js';
import { startFakeProvider, type FakeProvider, type FakeProviderOptions } from '../../../fakes/fake-provider.js';
import { loadLlmProject } from '../../../helpers/llm-project.js';
import { openTestMeter, type TestMeter } from '../../../helpers/cost-meter.js';

export const OPENAI_KEY = 'sk-openai-test-4f9a1c2b8e';
export const ANTHROPIC_KEY = 'sk-ant-test-77b2e0d1c9';

export interface LlmHarness {
  app: FastifyInstance;
  token: string;
  openai: FakeProvider;
  anthropic: FakeProvider;
  project: Project;
  costs: TestMeter;
  /** Every line the proxy logged, parsed. */
  logs: Record<string, unknown>[];
  chat(body: unknown, token?: string): Promise<LightMyRequestResponse>;
  embed(body: unknown, token?: string): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Extra `llm.providers` lines; openai and anthropic always point at their fakes. */
  providers?: (fakes: { openai: FakeProvider; anthropic: FakeProvider }) => string[];
  /** Replaces the .env holding both right keys. */
  dotEnv?: Record<string, string>;
  processEnv?: (fakes: { openai: FakeProvider; anthropic: FakeProvider }) => Record<string, string>;
  /** Whether the config's openai entry names the fake (else the env must). */
  openaiBaseUrlInConfig?: boolean;
  fake?: Omit<FakeProviderOptions, 'apiKey'>;
  /** llm.embedding_model. */
  embeddingModel?: string;
  /** Top-level mesh.yaml lines, e.g. a fleet budget. */
  meshLines?: string[];
}

export async function startLlmHarness(options: HarnessOptions = {}): Promise<LlmHarness> {
  const openai = await startFakeProvider({ ...options.fake, apiKey: OPENAI_KEY });
  const anthropic = await startFakeProvider({ ...options.fake, apiKey: ANTHROPIC_KEY });
  const { project, cleanup } = loadLlmProject({
    providers: [
      options.openaiBaseUrlInConfig === false ? 'openai: {}' : `openai: { base_url: "${openai.openaiBaseUrl}" }`,
      `anthropic: { base_url: "${anthropic.anthropicBaseUrl}" }`,
      ...(options.providers?.({ openai, anthropic }) ?? []),
    ],
    agents: { tester: 'openai/gpt-test' },
    dotEnv: options.dotEnv ?? { LEGION_CRED_OPENAI_API_KEY: OPENAI_KEY, LEGION_CRED_ANTHROPIC_API_KEY: ANTHROPIC_KEY },
    processEnv: options.processEnv?.({ openai, anthropic }) ?? {},
    ...(options.embeddingModel === undefined ? {} : { embeddingModel: options.embeddingModel }),
    ...(options.meshLines === undefined ? {} : { meshLines: options.meshLines }),
  });
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger(
    {},
    { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const providers = resolveProviders(project);
  const proxy = createLlmProxy(providers, logger);
  const embeddings = createEmbeddingsProxy(providers, logger);
  const costs = openTestMeter({ config: () => project, projectDir: project.dir });
  const tokens = new AgentTokens();
  const token = tokens.mint('tester');
  // fetch keeps idle sockets open for seconds; a test's close should not wait for them.
  const app = Fastify({ forceCloseConnections: true });
  installErrorHandler(app);
  await app.register(async (scope) => {
    requireAgentToken(scope, tokens);
    await scope.register(llmRoutes, {
      proxy,
      metering: costs.meter,
      defaultModelFor: (agent) => agentModel(project, agent),
      settingsFor: (agent) => agentLlmSettings(project, agent),
    });
    await scope.register(embeddingsRoutes, {
      embeddings,
      metering: costs.meter,
      embeddingModel: () => project.mesh.llm.embedding_model,
    });
  });
  await app.ready();
  return {
    app,
    token,
    openai,
    anthropic,
    project,
    costs,
    logs,
    chat: (body, callerToken = token) =>
      app.inject({
        method: 'POST',
        url: '/mesh/llm/chat',
        headers: { authorization: `Bearer ${callerToken}` },
        payload: body as object,
      }),
    embed: (body, callerToken = token) =>
      app.inject({
        method: 'POST',
        url: '/mesh/llm/embeddings',
        headers: { authorization: `Bearer ${callerToken}` },
        payload: body as object,
      }),
    close: async () => {
      await app.close();
      await openai.close();
      await anthropic.close();
      costs.close();
      cleanup();
    },
  };
}

/** The parsed events of an SSE payload. */
export async function sseEvents(payload: string): Promise<unknown[]> {
  const events: unknown[] = [];
  for await (const event of readSse(chunksOf(payload))) events.push(event);
  return events;
}

async function* chunksOf(payload: string): AsyncGenerator<string> {
  yield payload;
}

/** A port nothing listens on: bound, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
