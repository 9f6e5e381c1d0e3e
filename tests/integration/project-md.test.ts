// PROJECT.md alignment through the real mesh and a real agent process: the brief is in
// the agent's system prompt; an edit reaches the running agent at its next session
// (/reset in the REPL), not in the middle of the current one, and without restarting
// it; /project shows the file as agents will read it, or says how to create it.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRepl } from '../../src/cli/repl.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';

const FIRST = 'We are testing legion end to end.';
const EDITED = 'Current priority: ship the invoice exporter by Friday. Hard constraint: never email customers.';

describe('PROJECT.md alignment', () => {
  let h: Harness;
  let projectMd: string;

  beforeAll(async () => {
    h = await startHarness({ agentsYaml: 'agents:\n  scribe:\n    role: keeps notes\n' });
    projectMd = join(h.project.dir, 'PROJECT.md');
  });
  afterAll(async () => h?.close());

  const systemPromptOfLastCall = (): string =>
    h.fake.calls.at(-1)?.messages.find((m) => m.role === 'system')?.content ?? '';
  const agentToken = () => h.runtime.launches.get('scribe')?.secrets.mesh_token;

  /** Types `lines` into a REPL attached to scribe; returns what it printed. */
  async function repl(lines: string[]): Promise<string> {
    const input = new PassThrough();
    const output = new PassThrough();
    let screen = '';
    output.on('data', (chunk: Buffer) => (screen += chunk.toString()));
    const done = runRepl({
      client: h.client,
      mode: 'attach',
      agent: 'scribe',
      input,
      output,
      projectDir: h.project.dir,
    });
    for (const line of [...lines, '/quit']) input.write(`${line}\n`);
    await done;
    return screen;
  }

  it('puts PROJECT.md in the system prompt', async () => {
    await h.say('scribe', 'hello');
    expect(systemPromptOfLastCall()).toContain(
      `## The project you are part of (PROJECT.md)\n\n# Test project\n${FIRST}`,
    );
  });

  it('reaches the running agent at its next session after an edit, without a restart', async () => {
    const tokenBefore = agentToken();
    writeFileSync(projectMd, `# Test project\n${EDITED}\n`);

    // The running session keeps the prompt it started with.
    await h.say('scribe', 'still the same session');
    expect(systemPromptOfLastCall()).toContain(FIRST);
    expect(systemPromptOfLastCall()).not.toContain(EDITED);

    const screen = await repl(['/reset', 'what is the priority?']);
    expect(screen).toContain('new session with scribe');
    expect(screen).toContain('echo: what is the priority?');
    const prompt = systemPromptOfLastCall();
    expect(prompt).toContain(`## The project you are part of (PROJECT.md)\n\n# Test project\n${EDITED}`);
    expect(prompt).not.toContain(FIRST);
    expect(agentToken()).toBe(tokenBefore); // same agent process: tokens are minted at each start
  });

  it('/project shows PROJECT.md as agents will read it', async () => {
    const screen = await repl(['/project']);
    expect(screen).toContain(
      `${projectMd} (agents read it at the start of each session):\n\n# Test project\n${EDITED}\n`,
    );
  });

  it('/project says how to create PROJECT.md when there is none, and the prompt then has no project section', async () => {
    rmSync(projectMd);
    const screen = await repl(['/project', '/reset', 'anything new?']);
    expect(screen).toContain(
      `no PROJECT.md in ${h.project.dir}: create it with what the project is building, its current priority and its hard constraints; every agent reads it at the start of its next session (/reset starts one now)`,
    );
    expect(systemPromptOfLastCall()).not.toContain('PROJECT.md');
    writeFileSync(projectMd, '  \n');
    expect(await repl(['/project'])).toContain(`${projectMd} is empty: write in it what the project is building`);
  });
});
