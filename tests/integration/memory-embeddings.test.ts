// Hybrid memory search as a user gets it, through the real mesh and agent processes with
// llm.embedding_model set: the agent learns the model from its runtime config, its
// memory is embedded through POST /mesh/llm/embeddings with the mesh's key (never the
// agent's token), the calls are booked as embeddings in the cost ledger, and an
// embedding outage leaves search in BM25 mode until a later index run succeeds. Also:
// the route is behind allowed_apis 'llm', and an Anthropic embedding model is a config
// error that names the key.
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CostReportSchema } from '../../src/shared/wire/costs.js';
import { freePort, legion } from '../helpers/project.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';

const meshYaml = (port: number) => `mesh: { host: 127.0.0.1, port: ${port} }
llm:
  default_model: openai/gpt-4o-mini
  embedding_model: openai/text-embedding-3-small
  providers:
    openai: {}
memory: { vector_weight: 0.4, recency_half_life_days: 30 }
`;

const PERMISSIONS = `default:
  allowed_apis: [llm]
agents:
  walled:
    allowed_apis: []
`;

describe('agent memory with an embedding model', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      meshYaml,
      permissionsYaml: PERMISSIONS,
      agentsYaml:
        'agents:\n  keeper:\n    role: remembers things\n  scribe:\n    role: writes things down\n  walled:\n    role: may not use the LLM\n',
    });
  });
  afterAll(async () => h?.close());

  const tokenOf = (agent: string): string => h.runtime.launches.get(agent)?.secrets.mesh_token ?? '';

  it('hands the agent the embedding model and the memory settings with its runtime config', async () => {
    const response = await fetch(`${h.mesh.agentApiUrl}/mesh/agent/config`, {
      headers: { authorization: `Bearer ${tokenOf('keeper')}` },
    });
    expect(await response.json()).toMatchObject({
      embedding_model: 'openai/text-embedding-3-small',
      memory: { vector_weight: 0.4, recency_half_life_days: 30 },
    });
  });

  it('does not call the embeddings API before a session starts (start-up needs no mesh)', () => {
    expect(h.fake.embeddings).toEqual([]);
  });

  it('saves a fact and finds it with hybrid search', async () => {
    const saved = await h.say('keeper', `call memory_save {"text":"My cat's name is Whiskerino"}`);
    expect(saved).toMatch(/saved to memory\/\d{4}-\d{2}-\d{2}\.md/);
    const found = await h.say('keeper', 'call memory_search {"query":"cat name"}');
    expect(found).toContain('hybrid search (keywords + vectors)');
    expect(found).toContain("My cat's name is Whiskerino");
  });

  it("embeds through the mesh with the configured model and the mesh's key, never the agent's token", () => {
    expect(h.fake.embeddings.length).toBeGreaterThan(0);
    expect(h.fake.embeddings.every((call) => call.model === 'text-embedding-3-small')).toBe(true);
    expect(h.fake.embeddings.some((call) => call.input.some((text) => text.includes('Whiskerino')))).toBe(true);
    // The query of the search above was embedded too.
    expect(h.fake.embeddings.some((call) => call.input.length === 1 && call.input[0] === 'cat name')).toBe(true);
    const headers = h.fake.embeddings.map((call) => call.headers.authorization);
    expect(new Set(headers)).toEqual(new Set([`Bearer ${h.project.secret}`]));
    const agentToken = tokenOf('keeper');
    expect(agentToken).not.toBe('');
    expect(JSON.stringify(h.fake.embeddings.map((call) => call.headers))).not.toContain(agentToken);
  });

  it('books the embedding calls for the agent in the cost ledger and in legion costs', async () => {
    const report = await h.client.requestJson('GET', '/api/costs?agent=keeper&period=today', CostReportSchema);
    const row = report.rows.find((r) => r.model === 'openai/text-embedding-3-small');
    expect(row).toMatchObject({ agent: 'keeper', failed: 0, completion_tokens: 0 });
    expect(row?.calls).toBeGreaterThan(0);
    expect(row?.prompt_tokens).toBeGreaterThan(0);
    expect(row?.cost_usd).toBeGreaterThan(0);

    const db = new Database(join(h.project.dir, '.legion', 'mesh.db'), { readonly: true });
    const kinds = db
      .prepare<[], { kind: string; model: string }>(
        "SELECT DISTINCT kind, model FROM cost_usage WHERE agent = 'keeper' ORDER BY kind",
      )
      .all();
    db.close();
    expect(kinds).toEqual([
      { kind: 'chat', model: 'gpt-4o-mini' },
      { kind: 'embedding', model: 'text-embedding-3-small' },
    ]);

    const cli = await legion(['costs', '--agent', 'keeper'], h.project.dir);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain('openai/text-embedding-3-small');
  });

  it('stays in BM25 mode with the reason while the provider fails, then turns hybrid at a later index run', async () => {
    h.fake.failEmbeddings({ status: 400, message: 'embeddings are down' });
    await h.say('scribe', 'call memory_save {"text":"The staging database lives on port 5433"}');
    const during = await h.say('scribe', 'call memory_search {"query":"staging database port"}');
    expect(during).toContain('keyword search (BM25; no chunk has a vector yet (embedding has not succeeded))');
    expect(during).toContain('port 5433');

    h.fake.failEmbeddings(null);
    // Each turn is appended to the day's log and indexed, which embeds what is pending.
    await h.say('scribe', 'hello again');
    const after = await h.say('scribe', 'call memory_search {"query":"staging database port"}');
    expect(after).toContain('hybrid search (keywords + vectors)');
    expect(after).toContain('port 5433');
  });

  it('refuses the embeddings route to an agent without allowed_apis: llm', async () => {
    const before = h.fake.embeddings.length;
    const response = await fetch(`${h.mesh.agentApiUrl}/mesh/llm/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokenOf('walled')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ input: ['anything'] }),
    });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain(
      'walled may not use the API llm',
    );
    expect(h.fake.embeddings.length).toBe(before);
  });
});

describe('agent memory without an embedding model', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ agentsYaml: 'agents:\n  keeper:\n    role: remembers things\n' });
  });
  afterAll(async () => h?.close());

  it('searches with BM25 and says why, calling no embeddings API', async () => {
    await h.say('keeper', 'call memory_save {"text":"The office plant is a ficus"}');
    const found = await h.say('keeper', 'call memory_search {"query":"office plant"}');
    expect(found).toContain('keyword search (BM25; no embedding model is configured)');
    expect(found).toContain('ficus');
    expect(h.fake.embeddings).toEqual([]);
  });
});

describe('an Anthropic embedding model', () => {
  it('stops legion start with a config error naming llm.embedding_model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'legion-embed-config-'));
    try {
      mkdirSync(join(dir, 'config'));
      const port = await freePort();
      writeFileSync(
        join(dir, 'config', 'mesh.yaml'),
        `mesh: { port: ${port} }\nllm:\n  default_model: anthropic/claude-sonnet-4-5\n  embedding_model: anthropic/claude-sonnet-4-5\n`,
      );
      const result = await legion(['start', '-d'], dir, {}, 30_000);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('invalid configuration:');
      expect(result.stderr).toContain(
        'config/mesh.yaml: llm.embedding_model: provider "anthropic" is an Anthropic provider, which has no embeddings API',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
