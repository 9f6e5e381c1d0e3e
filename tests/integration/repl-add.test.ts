// The REPL's /add, driven the way a person types: the questions of `legion agent add`
// answered one at a time, then the new agent is in config/agents.yaml and running in the
// fleet without a mesh restart (the agents already running keep their containers), and
// answers at once. Ctrl-C at a question writes nothing and leaves the REPL working.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runRepl } from '../../src/cli/repl.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';

const ENTER = '\r';
const CTRL_C = '\x03';

describe('REPL /add', () => {
  let h: Harness;
  let input: PassThrough;
  let screen = '';
  let repl: Promise<void>;

  /** What was printed since `from`, without colours and cursor movements. */
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences start with ESC
  const plain = (from = 0) => screen.slice(from).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  const waitFor = async (pattern: RegExp, from = 0, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(plain(from))) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; screen:\n${plain(from)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const agentsFile = () => readFileSync(join(h.project.dir, 'config', 'agents.yaml'), 'utf8');

  beforeAll(async () => {
    h = await startHarness({ agentsYaml: 'agents:\n  assistant:\n    role: general assistant\n' });
    input = new PassThrough();
    const output = new PassThrough();
    output.on('data', (d: Buffer) => (screen += d.toString()));
    repl = runRepl({ client: h.client, mode: 'attach', agent: 'assistant', input, output });
    await waitFor(/assistant> /);
  });
  afterAll(async () => {
    input?.write('/quit\n');
    await repl;
    await h?.close();
  });

  it('asks the wizard questions, writes the agent to config and starts it in the running fleet', async () => {
    const before = (await h.mesh.status()).agents.find((a) => a.name === 'assistant')?.container?.id;
    expect(before).toBeDefined();
    const from = screen.length;
    input.write('/add scout\n');
    await waitFor(/Name \(lowercase letters, digits and dashes\)/, from);
    input.write(ENTER);
    await waitFor(/Role: what is scout for\?/, from);
    input.write(`scouting ahead${ENTER}`);
    await waitFor(/Model/, from);
    input.write(ENTER);
    await waitFor(/System prompt/, from);
    input.write(`You look ahead.${ENTER}`);
    await waitFor(/Daily budget in USD/, from);
    input.write(`2.5${ENTER}`);
    await waitFor(/added scout \(scouting ahead\); its container is running/, from);

    expect(parse(agentsFile()).agents.scout).toEqual({
      role: 'scouting ahead',
      system_prompt: 'You look ahead.',
      budget: { daily_usd: 2.5 },
    });
    const status = (await h.mesh.status()).agents;
    expect(status.find((a) => a.name === 'scout')?.health).toBe('healthy');
    expect(status.find((a) => a.name === 'assistant')?.container?.id).toBe(before);

    const chatFrom = screen.length;
    input.write('@scout hello there\n');
    await waitFor(/\[scout\] echo: hello there/, chatFrom);
    const call = await h.waitForCall('scout', /hello there/);
    expect(call.messages.find((m) => m.role === 'system')?.content).toContain('You look ahead.');
  });

  it('writes nothing when the wizard is cancelled, and the REPL keeps going', async () => {
    const file = agentsFile();
    const from = screen.length;
    input.write('/add\n');
    await waitFor(/Name \(lowercase letters, digits and dashes\)/, from);
    input.write(`late${CTRL_C}`);
    await waitFor(/agent add cancelled: nothing was written/, from);
    expect(agentsFile()).toBe(file);
    const agentsFrom = screen.length;
    input.write('/agents\n');
    await waitFor(/scout/, agentsFrom);
    const afterFrom = screen.length;
    input.write('hi again\n');
    await waitFor(/echo: hi again/, afterFrom);
    // What was typed into the wizard never reached the REPL as a line of its own.
    expect(plain(from)).not.toContain('echo: late');
  });

  it('refuses a name already taken in the wizard, as legion agent add does', async () => {
    const from = screen.length;
    input.write('/add assistant\n');
    await waitFor(/Name \(lowercase letters, digits and dashes\)/, from);
    input.write(ENTER);
    await waitFor(/an agent named "assistant" already exists; choose another name/, from);
    input.write(CTRL_C);
    await waitFor(/agent add cancelled: nothing was written/, from);
  });
});
