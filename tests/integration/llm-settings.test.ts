// mesh.yaml llm.max_tokens and llm.temperature, and their per-agent overrides in
// agents.yaml, in the request the provider receives: through the real mesh, real agent
// processes and the real SDKs of both formats (the fake records each raw body).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FakeCall } from '../fakes/fake-provider.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';

const AGENTS = `agents:
  writer:
    role: writes with the fleet's settings
  editor:
    role: writes with its own settings
    max_tokens: 555
    temperature: 1.5
  critic:
    role: answers through the Anthropic format
    model: anthropic/claude-test
    max_tokens: 777
`;

describe('llm.max_tokens and llm.temperature', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      agentsYaml: AGENTS,
      meshYaml: (port) =>
        `mesh: { host: 127.0.0.1, port: ${port} }\nllm:\n  default_model: openai/gpt-test\n  max_tokens: 321\n  temperature: 0.25\n  providers:\n    openai: {}\n    anthropic: {}\n`,
      env: (fake) => ({
        LEGION_CRED_ANTHROPIC_API_KEY: 'sk-ant-test-settings',
        LEGION_ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
      }),
    });
  });
  afterAll(async () => h?.close());

  const lastCallOf = (agent: string): FakeCall => {
    const call = h.fake.calls.findLast((c) =>
      c.messages.some((m) => m.role === 'system' && m.content.startsWith(`You are ${agent},`)),
    );
    if (!call) throw new Error(`no provider call from ${agent}`);
    return call;
  };

  it("sends mesh.yaml's values to an OpenAI-format provider", async () => {
    await h.say('writer', 'hello');
    const call = lastCallOf('writer');
    expect(call.provider).toBe('openai');
    expect(call.body).toMatchObject({ model: 'gpt-test', max_tokens: 321, temperature: 0.25 });
  });

  it("lets the agent's agents.yaml entry override both", async () => {
    await h.say('editor', 'hello');
    expect(lastCallOf('editor').body).toMatchObject({ max_tokens: 555, temperature: 1.5 });
  });

  it("sends the agent's max_tokens to an Anthropic-format provider instead of the adapter's default", async () => {
    await h.say('critic', 'hello');
    const call = lastCallOf('critic');
    expect(call.provider).toBe('anthropic');
    expect(call.body).toMatchObject({ model: 'claude-test', max_tokens: 777 });
  });

  it('applies an edit of the settings to the next call without restarting the agent', async () => {
    const containerOf = async () => (await h.mesh.status()).agents.find((a) => a.name === 'writer')?.container?.id;
    const before = await containerOf();
    writeFileSync(
      join(h.project.dir, 'config', 'agents.yaml'),
      AGENTS.replace(
        "    role: writes with the fleet's settings\n",
        "    role: writes with the fleet's settings\n    temperature: 0.75\n",
      ),
    );
    const deadline = Date.now() + 20_000;
    while (!h.meshLog().includes('changed agent writer (temperature): applied without a restart')) {
      if (Date.now() > deadline) throw new Error('the edit was not applied in time');
      await new Promise((r) => setTimeout(r, 50));
    }
    await h.say('writer', 'again');
    expect(lastCallOf('writer').body).toMatchObject({ max_tokens: 321, temperature: 0.75 });
    expect(await containerOf()).toBe(before);
  });
});
