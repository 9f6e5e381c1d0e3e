// The mesh with its real admin and agent APIs, real agent servers (as local
// processes), the CLI's own client, and the fake provider behind the real SDKs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Mesh } from '../../src/mesh/server.js';
import { loadProject } from '../../src/shared/config/project.js';
import { createLogger } from '../../src/shared/logging.js';
import { MeshClient } from '../../src/cli/mesh-client.js';
import type { ChatEvent } from '../../src/shared/wire/chat.js';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { freePort, makeProject, type TestProject } from '../helpers/project.js';
import { ProcessRuntime } from '../helpers/process-runtime.js';

describe('mesh with agent processes', () => {
  let fake: FakeProvider;
  let project: TestProject;
  let runtime: ProcessRuntime;
  let mesh: Mesh;
  let client: MeshClient;
  let shutdownRequested = false;

  beforeAll(async () => {
    fake = await startFakeProvider();
    project = makeProject({
      port: await freePort(),
      openaiBaseUrl: fake.openaiBaseUrl,
      agentsYaml:
        '# the team\nagents:\n  assistant:\n    role: general assistant # keep me\n    system_prompt: Be brief.\n',
    });
    runtime = new ProcessRuntime(join(project.dir, 'agents-data'));
    const logger = createLogger({}, { write: () => undefined });
    mesh = new Mesh({
      project: loadProject(project.dir),
      runtime,
      logger,
      progress: () => undefined,
      onShutdownRequested: () => (shutdownRequested = true),
    });
    const results = await mesh.start();
    expect(results).toEqual([expect.objectContaining({ name: 'assistant', ok: true })]);
    client = MeshClient.connect(project.dir);
  });

  afterAll(async () => {
    await mesh?.stop();
    await fake?.close();
    project?.cleanup();
  });

  it('writes the admin token with mode 0600', () => {
    const token = join(project.dir, '.legion', 'admin.token');
    expect(statSync(token).mode & 0o777).toBe(0o600);
  });

  it('relays a chat with a tool round trip as a stream of events', async () => {
    const events: ChatEvent[] = [];
    const last = await client.chat('assistant', 'call write_file {"path":"a.txt","content":"relayed"}', (e) =>
      events.push(e),
    );
    expect(last.type).toBe('done');
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['tool_call', 'tool_result', 'token', 'done']));
    expect(events.find((e) => e.type === 'tool_result')).toMatchObject({ name: 'write_file', ok: true });
    expect(readFileSync(join(runtime.dataDir('assistant'), 'workspace', 'a.txt'), 'utf8')).toBe('relayed');
  });

  it('refuses admin routes without the admin token, and with an agent token', async () => {
    const agentToken = runtime.launches.get('assistant')?.secrets.mesh_token ?? '';
    expect(agentToken).not.toBe('');
    const none = await fetch(`${client.baseUrl}/api/status`);
    expect(none.status).toBe(401);
    const asAgent = await fetch(`${client.baseUrl}/api/status`, { headers: { authorization: `Bearer ${agentToken}` } });
    expect(asAgent.status).toBe(401);
  });

  it("serves the agent API only with that agent's own token", async () => {
    const agentToken = runtime.launches.get('assistant')?.secrets.mesh_token ?? '';
    const adminToken = readFileSync(join(project.dir, '.legion', 'admin.token'), 'utf8').trim();
    const url = `${mesh.agentApiUrl}/mesh/agent/config`;
    expect((await fetch(url, { headers: { authorization: `Bearer ${adminToken}` } })).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: `Bearer ${agentToken}x` } })).status).toBe(401);
    const ok = await fetch(url, { headers: { authorization: `Bearer ${agentToken}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({
      agent: 'assistant',
      role: 'general assistant',
      model: 'openai/gpt-4o-mini',
      system_prompt: 'Be brief.',
    });
  });

  it("takes an agent's word that it listens only with that agent's token", async () => {
    const agentToken = runtime.launches.get('assistant')?.secrets.mesh_token ?? '';
    const url = `${mesh.agentApiUrl}/mesh/agent/ready`;
    expect((await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${agentToken}x` } })).status).toBe(
      401,
    );
    const ok = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${agentToken}` } });
    expect(ok.status).toBe(204);
    expect((await client.status()).agents).toEqual([expect.objectContaining({ name: 'assistant', health: 'healthy' })]);
  });

  it('gives an edited PROJECT.md to the agent at its next session', async () => {
    writeFileSync(join(project.dir, 'PROJECT.md'), '# Project\nPriority: ship the zebra feature.\n');
    await client.reset('assistant');
    await client.chat('assistant', 'hello', () => undefined);
    const system = fake.calls.at(-1)?.messages.find((m) => m.role === 'system');
    expect(system?.content).toContain('ship the zebra feature');
  });

  it('turns a provider error into a clear chat error', async () => {
    fake.script({ error: { status: 401, message: 'Incorrect API key provided' } });
    const events: ChatEvent[] = [];
    const last = await client.chat('assistant', 'this will fail', (e) => events.push(e));
    expect(last.type).toBe('error');
    expect(last.type === 'error' && last.error.message).toMatch(/401.*Incorrect API key/);
  });

  it('rejects a bad chat body with the field path', async () => {
    const adminToken = readFileSync(join(project.dir, '.legion', 'admin.token'), 'utf8').trim();
    const response = await fetch(`${client.baseUrl}/api/agents/assistant/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hi' }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { message: string } };
    expect(body.error.message).toMatch(/message/);
  });

  it('names the agents when chatting with an unknown one', async () => {
    await expect(client.chat('nobody', 'hi', () => undefined)).rejects.toThrow(
      /no agent named "nobody" \(agents: assistant\)/,
    );
  });

  it('adds and removes an agent while the fleet runs, keeping comments in agents.yaml', async () => {
    await client.addAgent({ name: 'helper', role: 'second pair of hands' });
    let status = await client.status();
    expect(status.agents.find((a) => a.name === 'helper')).toMatchObject({ health: 'healthy' });
    const yaml = readFileSync(join(project.dir, 'config', 'agents.yaml'), 'utf8');
    expect(yaml).toContain('# the team');
    expect(yaml).toContain('# keep me');
    expect(yaml).toMatch(/helper:\s+role: second pair of hands/);
    const reply = await client.chat('helper', 'are you there', () => undefined);
    expect(reply).toMatchObject({ type: 'done', reply: 'echo: are you there' });

    await client.removeAgent('helper');
    status = await client.status();
    expect(status.agents.map((a) => a.name)).toEqual(['assistant']);
    expect(await runtime.state('helper')).toBeNull();
    expect(readFileSync(join(project.dir, 'config', 'agents.yaml'), 'utf8')).not.toContain('helper');
  });

  it('refuses a second agent with an existing name and an invalid name', async () => {
    await expect(client.addAgent({ name: 'assistant', role: 'x' })).rejects.toThrow(/already exists/);
    await expect(client.addAgent({ name: 'Bad Name', role: 'x' })).rejects.toThrow(/name/);
  });

  it('refuses an agent whose model names an unknown provider, leaving agents.yaml as it was', async () => {
    const before = readFileSync(join(project.dir, 'config', 'agents.yaml'), 'utf8');
    await expect(client.addAgent({ name: 'stray', role: 'x', model: 'nowhere/some-model' })).rejects.toThrow(
      /unknown provider "nowhere"/,
    );
    expect(readFileSync(join(project.dir, 'config', 'agents.yaml'), 'utf8')).toBe(before);
    expect((await client.status()).agents.map((a) => a.name)).not.toContain('stray');
  });

  it('asks its owner to stop on POST /api/shutdown', async () => {
    await client.shutdown();
    await new Promise((r) => setTimeout(r, 20));
    expect(shutdownRequested).toBe(true);
    expect(existsSync(join(project.dir, '.legion', 'mesh.json'))).toBe(true);
  });
});
