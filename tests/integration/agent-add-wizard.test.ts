// The `legion agent add` wizard driven through a pseudo-terminal as a person would:
// typing answers, correcting a refused name, choosing a model with the arrow keys, and
// Ctrl-C, which leaves config/agents.yaml as it was. No fleet runs (the file is edited
// directly), so no Docker is needed.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CLI, freePort, makeProject, type TestProject } from '../helpers/project.js';

const ENTER = '\r';
const DOWN = '\x1b[B';
const BACKSPACE = '\x7f';
const CTRL_C = '\x03';

/** A command in a real pty (util-linux `script`); our pipe is its keyboard. */
class Terminal {
  private output = '';
  private readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<number>;

  constructor(command: string, cwd: string) {
    // A pty made by `script` from a pipe has no size; prompts would wrap at every character.
    this.child = spawn('script', ['-qfec', `stty cols 120 rows 40; ${command}`, '/dev/null'], {
      cwd,
      env: { ...process.env, TERM: 'xterm-256color', NO_COLOR: '1' },
    });
    this.child.stdout.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code ?? 1)));
  }

  /** What was printed, without colours and cursor movements. */
  get screen(): string {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences start with ESC
    return this.output.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  }

  type(keys: string): void {
    this.child.stdin.write(keys);
  }

  /** Waits until `pattern` appears in what was printed. */
  async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.screen)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; screen:\n${this.screen}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

const AGENTS =
  'agents:\n  assistant:\n    role: general assistant\n    model: anthropic/claude-sonnet-4-5   # a second model to pick with the arrows\n';

describe('legion agent add wizard in a terminal', () => {
  let p: TestProject;
  const terminals: Terminal[] = [];
  const start = (args: string): Terminal => {
    const terminal = new Terminal(`${process.execPath} ${CLI} agent add ${args}`.trim(), p.dir);
    terminals.push(terminal);
    return terminal;
  };
  const agents = () =>
    parse(readFileSync(join(p.dir, 'config', 'agents.yaml'), 'utf8')).agents as Record<string, unknown>;

  beforeAll(async () => {
    p = makeProject({ port: await freePort(), agentsYaml: AGENTS });
  });

  afterAll(() => {
    for (const terminal of terminals) terminal.kill();
    p?.cleanup();
  });

  it('asks for name, role, model, system prompt and budget, and writes the agent', async () => {
    const t = start('');
    await t.waitFor(/Name \(lowercase letters, digits and dashes\)/);
    t.type(`assistant${ENTER}`);
    await t.waitFor(/an agent named "assistant" already exists; choose another name/);
    t.type(`${BACKSPACE.repeat('assistant'.length)}Bad_Name${ENTER}`);
    await t.waitFor(/invalid agent name "Bad_Name"/);
    t.type(`${BACKSPACE.repeat('Bad_Name'.length)}scribe${ENTER}`);
    await t.waitFor(/Role: what is scribe for\?/);
    t.type(`takes notes${ENTER}`);
    await t.waitFor(/Model[\s\S]*another model/);
    t.type(DOWN);
    t.type(ENTER);
    await t.waitFor(/System prompt/);
    t.type(`Be brief.${ENTER}`);
    await t.waitFor(/Daily budget in USD/);
    t.type(`lots${ENTER}`);
    await t.waitFor(/expected a number of US dollars/);
    t.type(`${BACKSPACE.repeat(4)}4${ENTER}`);
    expect(await t.exited).toBe(0);
    expect(t.screen).toContain('added scribe to config/agents.yaml');
    expect(agents().scribe).toEqual({
      role: 'takes notes',
      model: 'anthropic/claude-sonnet-4-5',
      system_prompt: 'Be brief.',
      budget: { daily_usd: 4 },
    });
    // The rest of the file, comment included, is as it was.
    expect(readFileSync(join(p.dir, 'config', 'agents.yaml'), 'utf8')).toContain(
      '# a second model to pick with the arrows',
    );
  });

  it('takes the name from the command line and the defaults on Enter', async () => {
    const t = start('watcher');
    await t.waitFor(/Name \(lowercase/);
    t.type(ENTER);
    await t.waitFor(/Role: what is watcher for\?/);
    t.type(ENTER);
    await t.waitFor(/Model[\s\S]*another model/);
    t.type(ENTER);
    await t.waitFor(/System prompt/);
    t.type(ENTER);
    await t.waitFor(/Daily budget in USD/);
    t.type(ENTER);
    expect(await t.exited).toBe(0);
    expect(agents().watcher).toEqual({ role: 'watcher' });
  });

  it('types another model, checks its provider, and writes nothing on Ctrl-C', async () => {
    const before = readFileSync(join(p.dir, 'config', 'agents.yaml'), 'utf8');
    const t = start('');
    await t.waitFor(/Name \(lowercase/);
    t.type(`drafter${ENTER}`);
    await t.waitFor(/Role: what is drafter for\?/);
    t.type(ENTER);
    await t.waitFor(/Model[\s\S]*another model/);
    t.type(DOWN + DOWN);
    t.type(ENTER);
    await t.waitFor(/Model \(provider\/model\)/);
    t.type(`mystery/x${ENTER}`);
    await t.waitFor(/unknown provider "mystery" \(known: openai, anthropic/);
    t.type(`${BACKSPACE.repeat('mystery/x'.length)}openai/gpt-4o${ENTER}`);
    await t.waitFor(/System prompt/);
    t.type(CTRL_C);
    expect(await t.exited).toBe(1);
    expect(t.screen).toContain('agent add cancelled: nothing was written');
    expect(readFileSync(join(p.dir, 'config', 'agents.yaml'), 'utf8')).toBe(before);
  });
});
