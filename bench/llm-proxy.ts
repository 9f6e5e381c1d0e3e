// LLM proxy overhead: a chat call through the mesh's agent API minus the same call made
// directly to the fake provider with the openai SDK, as median and p99 of 1000 calls
// each, non-streaming (whole answer) and streaming (time to the first token). The
// mesh side is the agent API as server.ts builds it (agent token, allowed_apis check,
// llm routes, real proxy, budget reserve + settle in a real mesh.db with budgets set);
// the fake provider runs in its own process, so both paths cross the same sockets.
// Samples of the two paths alternate, so drift on the machine hits both alike.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import Fastify, { type FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import { AgentTokens, requireAgentToken } from '../src/mesh/http/agent-auth.js';
import { installErrorHandler } from '../src/mesh/http/errors.js';
import { createLlmProxy } from '../src/mesh/llm/proxy.js';
import { resolveProviders } from '../src/shared/config/providers.js';
import { llmRoutes } from '../src/mesh/llm/routes.js';
import { PermissionMatrix } from '../src/mesh/permissions/matrix.js';
import { assertAllowed } from '../src/mesh/permissions/types.js';
import { agentModel } from '../src/shared/config/project.js';
import { createLogger } from '../src/shared/logging.js';
import { readSse } from '../src/shared/sse.js';
import { openTestMeter } from '../tests/helpers/cost-meter.js';
import { loadLlmProject } from '../tests/helpers/llm-project.js';
import { REPO_ROOT } from '../tests/helpers/project.js';
import { median, percentile, type BenchRow } from './table.js';

const SAMPLES = 1000;
const WARMUP = 200;
const KEY = 'sk-bench-proxy';
const MESSAGES = [
  { role: 'system' as const, content: 'You are bench, a benchmark agent.' },
  { role: 'user' as const, content: 'Summarize the quarterly report in three bullet points, please.' },
];

async function startFakeProcess(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'tests', 'fakes', 'fake-provider-main.ts')],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, FAKE_PROVIDER_API_KEY: KEY },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  if (!child.stdout) throw new Error('the fake provider has no stdout');
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  return { url: (JSON.parse(line) as { url: string }).url, child };
}

interface MeshSide {
  url: string;
  token: string;
  close: () => Promise<void>;
}

async function startMeshSide(fakeUrl: string): Promise<MeshSide> {
  const { project, cleanup } = loadLlmProject({
    providers: [`openai: { base_url: "${fakeUrl}/v1" }`],
    agents: { bench: 'openai/gpt-4o-mini' },
    dotEnv: { LEGION_CRED_OPENAI_API_KEY: KEY },
  });
  // Budgets on every scope, so each call checks all four limits as a budgeted fleet does.
  writeFileSync(join(project.dir, 'config', 'permissions.yaml'), 'default:\n  allowed_apis: [llm]\n');
  const config = {
    mesh: { ...project.mesh, budget: { daily_usd: 1_000_000, monthly_usd: 1_000_000 } },
    agents: { bench: { budget: { daily_usd: 1_000_000, monthly_usd: 1_000_000 } } },
  };
  const costs = openTestMeter({ config: () => config, projectDir: project.dir });
  const logger = createLogger({}, { write: () => undefined });
  const permissions = new PermissionMatrix({ projectDir: project.dir, events: costs.events, logger });
  permissions.load();
  const proxy = createLlmProxy(resolveProviders(project), logger);
  const tokens = new AgentTokens();
  const token = tokens.mint('bench');
  const app: FastifyInstance = Fastify({ forceCloseConnections: true });
  installErrorHandler(app);
  await app.register(async (scope) => {
    requireAgentToken(scope, tokens);
    scope.addHook('preHandler', async (request) =>
      assertAllowed(
        permissions,
        costs.events,
        { agent: request.agentName, trace: request.trace },
        'allowed_apis',
        'llm',
      ),
    );
    await scope.register(llmRoutes, {
      proxy,
      metering: costs.meter,
      defaultModelFor: (agent) => agentModel(project, agent),
      settingsFor: () => ({}),
    });
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    token,
    close: async () => {
      await app.close();
      permissions.close();
      costs.close();
      cleanup();
    },
  };
}

async function viaMesh(mesh: MeshSide, stream: boolean): Promise<number> {
  const begin = performance.now();
  const response = await fetch(`${mesh.url}/mesh/llm/chat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${mesh.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: MESSAGES, stream }),
  });
  if (!response.ok || !response.body) throw new Error(`mesh answered ${response.status}: ${await response.text()}`);
  if (!stream) {
    await response.json();
    return performance.now() - begin;
  }
  let firstToken = NaN;
  for await (const event of readSse(response.body)) {
    if (Number.isNaN(firstToken) && (event as { type?: string }).type === 'delta')
      firstToken = performance.now() - begin;
  }
  return firstToken;
}

async function direct(client: OpenAI, stream: boolean): Promise<number> {
  const begin = performance.now();
  if (!stream) {
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES });
    return performance.now() - begin;
  }
  let firstToken = NaN;
  const chunks = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: MESSAGES,
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const chunk of chunks) {
    if (Number.isNaN(firstToken) && chunk.choices[0]?.delta.content) firstToken = performance.now() - begin;
  }
  return firstToken;
}

async function overhead(
  mesh: MeshSide,
  client: OpenAI,
  stream: boolean,
): Promise<{ meshMs: number[]; directMs: number[] }> {
  for (let i = 0; i < WARMUP; i++) {
    await viaMesh(mesh, stream);
    await direct(client, stream);
  }
  const meshMs: number[] = [];
  const directMs: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    meshMs.push(await viaMesh(mesh, stream));
    directMs.push(await direct(client, stream));
  }
  return { meshMs, directMs };
}

function rows(label: string, { meshMs, directMs }: { meshMs: number[]; directMs: number[] }): BenchRow[] {
  const medianOverhead = median(meshMs) - median(directMs);
  const p99Overhead = percentile(meshMs, 99) - percentile(directMs, 99);
  const detail = `(mesh ${median(meshMs).toFixed(2)} / direct ${median(directMs).toFixed(2)} ms median)`;
  return [
    [
      `LLM proxy overhead, ${label}, median ${detail}`,
      `${medianOverhead.toFixed(2)} ms`,
      '<= 3 ms',
      medianOverhead <= 3,
    ],
    [`LLM proxy overhead, ${label}, p99`, `${p99Overhead.toFixed(2)} ms`, 'reported', true],
  ];
}

export async function llmProxyBench(): Promise<BenchRow[]> {
  const fake = await startFakeProcess();
  const mesh = await startMeshSide(fake.url);
  const client = new OpenAI({
    apiKey: KEY,
    baseURL: `${fake.url}/v1`,
    organization: null,
    project: null,
    maxRetries: 0,
  });
  try {
    return [
      ...rows('non-streaming call', await overhead(mesh, client, false)),
      ...rows('time to first streamed token', await overhead(mesh, client, true)),
    ];
  } finally {
    await mesh.close();
    fake.child.kill('SIGTERM');
  }
}
