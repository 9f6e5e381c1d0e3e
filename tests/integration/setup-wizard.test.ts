// The `legion setup` wizard driven through a pseudo-terminal as a person would: arrow
// keys, typed answers, Enter for defaults, a hidden key, Ctrl-C. It must write exactly
// the files the --yes flags write for the same answers.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { createServer } from 'node:net';
import { loadProject } from '../../src/shared/config/project.js';
import { CLI, freePort, legion } from '../helpers/project.js';

const KEY = 'sk-wizard-test-0123456789';
const DOWN = '\x1b[B';
const UP = '\x1b[A';
const RIGHT = '\x1b[C';
const ENTER = '\r';

/** A terminal running the CLI: what it printed, and answers typed once a question shows. */
class Terminal {
  screen = '';
  private seen = 0;
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<number>;

  constructor(args: string, cwd: string, env: Record<string, string> = {}) {
    // util-linux `script` gives the command a real pty (our pipe is its keyboard), sized
    // as a terminal window is; a 0x0 pty would wrap every line after each character.
    this.child = spawn(
      'script',
      ['-qfec', `stty cols 160 rows 50; exec ${process.execPath} ${CLI} ${args}`, '/dev/null'],
      { cwd, env: { ...process.env, TERM: 'dumb', ...env } },
    );
    this.child.stdout.on('data', (d: Buffer) => (this.screen += d.toString()));
    this.child.stderr.on('data', (d: Buffer) => (this.screen += d.toString()));
    this.exited = new Promise((r) => this.child.on('close', (code) => r(code ?? 1)));
  }

  /** Waits for `question` to appear after the previous one, then types `keys`. */
  async answer(question: RegExp, keys: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const match = question.exec(this.screen.slice(this.seen));
      if (match) {
        this.seen += match.index + match[0].length;
        break;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${question}; screen:\n${this.screen}`);
      await new Promise((r) => setTimeout(r, 30));
    }
    // Let the prompt finish drawing and start reading keys.
    await new Promise((r) => setTimeout(r, 150));
    this.child.stdin.write(keys);
  }
}

/** Every file under dir, relative, with its text. */
function tree(dir: string, under = ''): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(join(dir, under), { withFileTypes: true })) {
    const path = under ? `${under}/${entry.name}` : entry.name;
    if (entry.isDirectory()) Object.assign(files, tree(dir, path));
    else files[path] = readFileSync(join(dir, path), 'utf8');
  }
  return files;
}

describe('the legion setup wizard in a terminal', () => {
  let fake: FakeProvider;
  let dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'legion-wizard-'));
    dirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    fake = await startFakeProvider({ apiKey: KEY });
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(() => {
    dirs = [];
  });
  afterEach(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('writes what the --yes flags write: an OpenAI-compatible server, picked with arrow keys, and a team', async () => {
    // A server on this machine that wants no key, as Ollama.
    const local = await startFakeProvider();
    const wizardDir = tempDir();
    const terminal = new Terminal('setup --skip-image', wizardDir);
    await terminal.answer(/Which LLM provider\?/, `${DOWN}${DOWN}${ENTER}`);
    await terminal.answer(/Base URL of the server/, `${local.openaiBaseUrl}${ENTER}`);
    // A server on this machine: no key question.
    await terminal.answer(/Default model \(Enter for llama3\.1\)/, ENTER);
    await terminal.answer(/What is this project building\?/, `Find leads${ENTER}`);
    await terminal.answer(/Its current priority/, `Ten qualified leads a week${ENTER}`);
    await terminal.answer(/Its hard constraints/, `Never email anyone without approval${ENTER}`);
    // Templates are listed by name (content, devteam, sales, starter) with starter chosen.
    await terminal.answer(/Which team should the project start with\?/, `${UP}${ENTER}`);
    const port = await freePort();
    await terminal.answer(/Mesh port \(Enter for \d+; the egress proxy takes the next one\)/, `${port}${ENTER}`);
    expect(await terminal.exited).toBe(0);
    expect(terminal.screen).toContain('local answered and offers llama3.1');

    const flagsDir = tempDir();
    const flags = await legion(
      [
        'setup',
        '--yes',
        '--skip-image',
        '--port',
        String(port),
        '--provider',
        'openai-compatible',
        '--base-url',
        local.openaiBaseUrl,
        '--template',
        'sales',
        '--project',
        'Find leads',
        '--priority',
        'Ten qualified leads a week',
        '--constraints',
        'Never email anyone without approval',
      ],
      flagsDir,
    );
    await local.close();
    expect(flags.stderr).toBe('');
    expect(flags.code).toBe(0);
    const written = tree(wizardDir);
    expect(Object.keys(written)).toContain('config/workflows/prospect_pipeline.yaml');
    expect(written).toEqual(tree(flagsDir));
  });

  it('asks for the key hidden, and writes what --api-key writes', async () => {
    const env = { LEGION_ANTHROPIC_BASE_URL: fake.anthropicBaseUrl };
    const wizardDir = tempDir();
    const terminal = new Terminal('setup --skip-image', wizardDir, env);
    await terminal.answer(/Which LLM provider\?/, `${DOWN}${ENTER}`);
    await terminal.answer(/API key \(hidden; stored in \.env as LEGION_CRED_ANTHROPIC_API_KEY\)/, `${KEY}${ENTER}`);
    await terminal.answer(/Default model \(Enter for claude-haiku-4-5\)/, ENTER);
    await terminal.answer(/What is this project building\?/, `A CRM for bakers${ENTER}`);
    await terminal.answer(/Its current priority/, ENTER);
    await terminal.answer(/Its hard constraints/, ENTER);
    await terminal.answer(/Which team should the project start with\?/, ENTER);
    const port = await freePort();
    await terminal.answer(/Mesh port/, `${port}${ENTER}`);
    expect(await terminal.exited).toBe(0);
    expect(terminal.screen).toContain('anthropic knows claude-haiku-4-5');
    expect(terminal.screen).not.toContain(KEY);

    const flagsDir = tempDir();
    const flags = await legion(
      [
        'setup',
        '--yes',
        '--skip-image',
        '--port',
        String(port),
        '--provider',
        'anthropic',
        '--api-key',
        KEY,
        '--project',
        'A CRM for bakers',
      ],
      flagsDir,
      env,
    );
    expect(flags.code).toBe(0);
    const written = tree(wizardDir);
    expect(written['.env']).toContain(`LEGION_CRED_ANTHROPIC_API_KEY=${KEY}\n`);
    expect(written).toEqual(tree(flagsDir));
  });

  it('writes nothing when Ctrl-C ends it, or when the check fails', async () => {
    const cancelled = tempDir();
    const terminal = new Terminal('setup --skip-image', cancelled);
    await terminal.answer(/Which LLM provider\?/, `${DOWN}${DOWN}${ENTER}`);
    await terminal.answer(/Base URL of the server/, `${fake.openaiBaseUrl}${ENTER}`);
    await terminal.answer(/Default model/, ENTER);
    await terminal.answer(/What is this project building\?/, 'Find le\x03');
    expect(await terminal.exited).toBe(1);
    expect(terminal.screen).toContain('setup cancelled: nothing was written');
    expect(readdirSync(cancelled)).toEqual([]);

    const rejected = tempDir();
    const wrongKey = new Terminal('setup --skip-image', rejected, { LEGION_OPENAI_BASE_URL: fake.openaiBaseUrl });
    await wrongKey.answer(/Which LLM provider\?/, ENTER);
    await wrongKey.answer(/API key \(hidden/, `sk-not-the-key-000${ENTER}`);
    await wrongKey.answer(/Default model \(Enter for gpt-4o-mini\)/, ENTER);
    await wrongKey.answer(/What is this project building\?/, `x${ENTER}`);
    await wrongKey.answer(/Its current priority/, ENTER);
    await wrongKey.answer(/Its hard constraints/, ENTER);
    await wrongKey.answer(/Which team/, ENTER);
    await wrongKey.answer(/Mesh port/, ENTER);
    expect(await wrongKey.exited).toBe(1);
    expect(wrongKey.screen).toContain('answered 401, the API key was rejected');
    expect(wrongKey.screen).toContain('Nothing was written.');
    expect(readdirSync(rejected)).toEqual([]);
  });

  it('asks the mesh port (a busy one again) and, for a model the server lacks, offers its models, keeping the other answers', async () => {
    const dir = tempDir();
    const busy = createServer();
    const busyPort = await freePort();
    await new Promise<void>((r) => busy.listen(busyPort, '127.0.0.1', () => r()));
    const freeOne = await freePort();
    // A server on this machine that wants no key, as Ollama.
    const local = await startFakeProvider();
    const terminal = new Terminal('setup --skip-image', dir);
    await terminal.answer(/Which LLM provider\?/, `${DOWN}${DOWN}${ENTER}`);
    await terminal.answer(/Base URL of the server/, `${local.openaiBaseUrl}${ENTER}`);
    await terminal.answer(/Default model/, `gpt-9${ENTER}`);
    await terminal.answer(/What is this project building\?/, `Find leads${ENTER}`);
    await terminal.answer(/Its current priority/, ENTER);
    await terminal.answer(/Its hard constraints/, ENTER);
    await terminal.answer(/Which team should the project start with\?/, ENTER);
    await terminal.answer(/Mesh port \(Enter for \d+/, `${busyPort}${ENTER}`);
    await terminal.answer(
      new RegExp(`port ${busyPort} or ${busyPort + 1} is in use[\\s\\S]*Mesh port`),
      `${freeOne}${ENTER}`,
    );
    // The model check fails: the offered models are listed, the first one chosen.
    await terminal.answer(
      /has no model "gpt-9": it offers gpt-4o-mini, gpt-4o[\s\S]*Which of the models the server offers\?/,
      ENTER,
    );
    expect(await terminal.exited).toBe(0);
    busy.close();
    await local.close();
    const project = loadProject(dir, {});
    expect(project.mesh.llm.default_model).toBe('local/gpt-4o-mini');
    expect(project.mesh.mesh.port).toBe(freeOne);
    expect(project.projectMd).toContain('Find leads');
  });

  it('on an existing project asks what to change and changes only that', async () => {
    const dir = tempDir();
    const env = { LEGION_OPENAI_BASE_URL: fake.openaiBaseUrl };
    expect(
      (
        await legion(
          ['setup', '--yes', '--skip-image', '--provider', 'openai', '--api-key', KEY, '--project', 'Find leads'],
          dir,
          env,
        )
      ).code,
    ).toBe(0);
    const before = tree(dir);

    const keep = new Terminal('setup --skip-image', dir, env);
    await keep.answer(/What should setup change\?/, ENTER);
    expect(await keep.exited).toBe(0);
    expect(tree(dir)).toEqual(before);

    const brief = new Terminal('setup --skip-image', dir, env);
    // The options: the API key, the provider and model, PROJECT.md's brief, a template.
    await brief.answer(/What should setup change\?/, `${DOWN}${DOWN} ${ENTER}`);
    await brief.answer(/What is this project building\?/, `, in Europe${ENTER}`);
    await brief.answer(/Its current priority/, `Bakeries first${ENTER}`);
    await brief.answer(/Its hard constraints/, ENTER);
    await brief.answer(/update PROJECT\.md[\s\S]*Write these changes\?/, ENTER);
    expect(await brief.exited).toBe(0);
    const after = tree(dir);
    expect(after['PROJECT.md']).toBe(
      '# Project\n\n## What we are building\n\nFind leads, in Europe\n\n## Current priority\n\nBakeries first\n',
    );
    expect({ ...after, 'PROJECT.md': before['PROJECT.md'] }).toEqual(before);
  });

  it('`legion start` in an empty directory offers the wizard, and says what to run when declined', async () => {
    const dir = tempDir();
    const terminal = new Terminal('start', dir);
    await terminal.answer(/No legion project here \(no config\/mesh\.yaml\)\. Set one up now\?/, `${RIGHT}${ENTER}`);
    expect(await terminal.exited).toBe(1);
    expect(terminal.screen).toContain('run `legion setup` here');
    expect(readdirSync(dir)).toEqual([]);
  });
});
