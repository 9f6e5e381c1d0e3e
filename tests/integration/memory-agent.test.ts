// Memory as a user relies on it, through the real mesh and agent process: a fact saved
// with memory_save is found again in a new session (recall puts it in the model's
// context), memory_search finds it with its place, and every turn lands in the log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { legion } from '../helpers/project.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';

const today = () => new Date().toISOString().slice(0, 10);

describe('agent memory', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ agentsYaml: 'agents:\n  keeper:\n    role: remembers things\n' });
  });
  afterAll(async () => h?.close());

  it('saves a fact and recalls it in a new session', async () => {
    const saved = await h.say('keeper', `call memory_save {"text":"My cat's name is Whiskerino"}`);
    expect(saved).toContain(`saved to memory/${today()}.md`);
    await h.client.reset('keeper');
    await h.say('keeper', "What is my cat's name?");
    const call = await h.waitForCall('keeper', /What is my cat's name\?/);
    const system = call.messages.find((m) => m.role === 'system')?.content ?? '';
    expect(system).toContain("From your memory (searched for this session's first message)");
    expect(system).toContain("My cat's name is Whiskerino");
  });

  it('finds it with memory_search, with its path and lines, in BM25 mode without embeddings', async () => {
    const found = await h.say('keeper', 'call memory_search {"query":"cat name"}');
    expect(found).toContain('keyword search (BM25');
    expect(found).toMatch(new RegExp(`memory/${today()}\\.md:\\d+-\\d+ score`));
    expect(found).toContain('Whiskerino');
  });

  it("appends every chat turn to the day's log", async () => {
    const log = readFileSync(join(h.runtime.dataDir('keeper'), 'workspace', 'memory', `${today()}.md`), 'utf8');
    expect(log).toMatch(/\*\*user:\*\* What is my cat's name\?\n\n\*\*agent:\*\* echo: What is my cat's name\?/);
  });

  it('starts a new session from a script with legion chat --reset', async () => {
    const before = (await h.client.status()).agents.length;
    const result = await legion(['chat', 'keeper', '--reset', '-m', 'fresh start'], h.project.dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('echo: fresh start');
    const call = await h.waitForCall('keeper', /^fresh start$/);
    expect(call.messages.filter((m) => m.role === 'user')).toHaveLength(1);
    expect((await h.client.status()).agents.length).toBe(before);
  });
});
