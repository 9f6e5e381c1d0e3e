// Learnings through the real mesh and a real agent process: a correction typed in the
// REPL (`/correct`) or noted by the model (`note_correction`) lands in
// learnings/corrections.md, a failing tool call in learnings/errors.md, and both reach
// the system prompt of the next session (not the current one); bad corrections are
// refused with the field named, by the mesh and by the agent.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRepl } from '../../src/cli/repl.js';
import type { FakeCall } from '../fakes/fake-provider.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';

describe('learnings', () => {
  let h: Harness;
  let learningsDir: string;

  beforeAll(async () => {
    h = await startHarness({ agentsYaml: 'agents:\n  keeper:\n    role: remembers things\n' });
    learningsDir = join(h.runtime.dataDir('keeper'), 'workspace', 'learnings');
  });
  afterAll(async () => h?.close());

  const systemPromptOfLastCall = (): string => {
    const call: FakeCall | undefined = h.fake.calls.at(-1);
    return call?.messages.find((m) => m.role === 'system')?.content ?? '';
  };

  it('gets the shipped window of its model when agents.yaml sets none', async () => {
    const token = h.runtime.launches.get('keeper')?.secrets.mesh_token ?? '';
    const response = await fetch(`${h.mesh.agentApiUrl}/mesh/agent/config`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await response.json()).toMatchObject({ model: 'openai/gpt-4o-mini', context_window: 128_000 });
  });

  it('records /correct from the REPL and shows it from the next session on', async () => {
    await h.say('keeper', 'hello');
    const input = new PassThrough();
    const output = new PassThrough();
    let screen = '';
    output.on('data', (chunk: Buffer) => (screen += chunk.toString()));
    const repl = runRepl({ client: h.client, mode: 'attach', agent: 'keeper', input, output });
    input.write('/correct Always give distances in kilometres, never miles.\n');
    input.write('/quit\n');
    await repl;
    expect(screen).toContain('noted for keeper in learnings/corrections.md (1 on file)');
    const file = readFileSync(join(learningsDir, 'corrections.md'), 'utf8');
    expect(file).toMatch(
      /^## \S+ · from the user \(\/correct\)\n> Always give distances in kilometres, never miles\.$/m,
    );

    // The running session keeps the prompt it started with.
    await h.say('keeper', 'same session');
    expect(systemPromptOfLastCall()).not.toContain('kilometres');

    await h.client.reset('keeper');
    await h.say('keeper', 'new session');
    const prompt = systemPromptOfLastCall();
    expect(prompt).toContain('## Corrections you have been given (learnings/corrections.md, newest first)');
    expect(prompt).toContain('> Always give distances in kilometres, never miles.');
  });

  it('records a correction the model notes itself, newest first in the next prompt', async () => {
    const reply = await h.say(
      'keeper',
      'call note_correction {"text":"The user\'s name is spelled Zoë, with the diaeresis."}',
    );
    expect(reply).toBe(
      'tool note_correction returned: noted in learnings/corrections.md (2 corrections on file); later sessions will see it',
    );
    await h.client.reset('keeper');
    await h.say('keeper', 'who am I?');
    const prompt = systemPromptOfLastCall();
    expect(prompt).toContain(
      "noted by the agent (note_correction)\n> The user's name is spelled Zoë, with the diaeresis.",
    );
    expect(prompt.indexOf('spelled Zoë')).toBeLessThan(prompt.indexOf('kilometres'));
  });

  it('records a failing tool call in errors.md and shows it in the next session', async () => {
    const reply = await h.say('keeper', 'call read_file {"path":"no/such/file.txt"}');
    expect(reply).toMatch(/^tool read_file returned: /);
    const file = readFileSync(join(learningsDir, 'errors.md'), 'utf8');
    expect(file.startsWith('# Tool errors\n')).toBe(true);
    expect(file).toMatch(
      /^## \S+ · read_file failed\nArguments:\n {4}\{"path":"no\/such\/file\.txt"\}\nError:\n {4}\S/m,
    );

    await h.client.reset('keeper');
    await h.say('keeper', 'try again');
    const prompt = systemPromptOfLastCall();
    expect(prompt).toContain('## Your recent tool errors (learnings/errors.md, newest first)');
    expect(prompt).toMatch(/### \S+ · read_file failed\nArguments:\n {4}\{"path":"no\/such\/file\.txt"\}/);
  });

  it('refuses a bad correction with the field named, at the mesh and at the agent', async () => {
    const admin = (name: string, body: unknown) =>
      fetch(`${h.client.baseUrl}/api/agents/${name}/correct`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${readFileSync(join(h.project.dir, '.legion', 'admin.token'), 'utf8').trim()}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      });
    const blank = await admin('keeper', { text: '   ' });
    expect(blank.status).toBe(400);
    expect(await blank.json()).toMatchObject({
      error: {
        code: 'invalid_request',
        path: 'text',
        message: expect.stringContaining('body: text: expected a non-empty correction'),
      },
    });
    const extra = await admin('keeper', { text: 'ok', urgent: true });
    expect(extra.status).toBe(400);
    expect((await admin('ghost', { text: 'ok' })).status).toBe(404);

    const endpoint = h.mesh.fleet.endpoint('keeper');
    const direct = await fetch(`${endpoint.url}/correct`, {
      method: 'POST',
      headers: { authorization: `Bearer ${endpoint.serverToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'x'.repeat(2_001) }),
    });
    expect(direct.status).toBe(400);
    expect(await direct.json()).toMatchObject({
      error: {
        code: 'invalid_request',
        path: 'text',
        message: expect.stringContaining('correction: text: expected a correction of at most 2000 characters'),
      },
    });
    const entries = readFileSync(join(learningsDir, 'corrections.md'), 'utf8').match(/^## /gm) ?? [];
    expect(entries).toHaveLength(2);
  });
});
