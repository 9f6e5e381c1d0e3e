// `legion start` in the foreground, driven through a pseudo-terminal as a person
// would: type `@assistant …`, watch the reply stream in, /quit stops the fleet.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { CLI, freePort, makeProject, type TestProject } from '../helpers/project.js';
import { dockerAvailable, projectContainers, removeProjectVolumes } from '../helpers/docker.js';
import { projectId } from '../../src/shared/state.js';

const available = await dockerAvailable();

/** A terminal session: everything the program printed, and a way to wait for text. */
class Terminal {
  screen = '';
  /** Sizes of the output chunks seen since the last mark, to observe streaming. */
  chunks: string[] = [];
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<number>;

  constructor(command: string, cwd: string) {
    // util-linux `script` gives the command a real pty; our pipe is its keyboard.
    this.child = spawn('script', ['-qfec', command, '/dev/null'], { cwd, env: { ...process.env, TERM: 'dumb' } });
    this.child.stdout.on('data', (d: Buffer) => {
      this.screen += d.toString();
      this.chunks.push(d.toString());
    });
    this.child.stderr.on('data', (d: Buffer) => (this.screen += d.toString()));
    this.exited = new Promise((r) => this.child.on('close', (code) => r(code ?? 1)));
  }

  type(text: string): void {
    this.child.stdin.write(text);
  }

  async waitFor(pattern: RegExp, timeoutMs = 240_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.screen)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; screen:\n${this.screen}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe.skipIf(!available)('legion start REPL through a pseudo-terminal', () => {
  let fake: FakeProvider;
  let project: TestProject;
  let terminal: Terminal;

  beforeAll(async () => {
    fake = await startFakeProvider({ chunkDelayMs: 40 });
    project = makeProject({ port: await freePort(), openaiBaseUrl: fake.openaiBaseUrl });
    terminal = new Terminal(`${process.execPath} ${CLI} start`, project.dir);
  });

  afterAll(async () => {
    if (terminal && terminal.child.exitCode === null) {
      terminal.child.kill('SIGTERM');
      await terminal.exited;
    }
    if (project) await removeProjectVolumes(projectId(project.dir));
    await fake?.close();
    project?.cleanup();
  });

  it('streams a reply to @assistant and stops the fleet on /quit', async () => {
    await terminal.waitFor(/agent assistant healthy/);
    await terminal.waitFor(/assistant> $/m);

    terminal.chunks = [];
    terminal.type('@assistant tell me about the weather on mars\r');
    await terminal.waitFor(/echo: tell me about the weather on mars/);
    // The reply arrived in pieces as the fake streamed it, not as one block at the end.
    const replyChunks = terminal.chunks.filter(
      (c) => /\b(tell|me|about|the|weather|on|mars)\b/.test(c) && !c.includes('@assistant'),
    );
    expect(replyChunks.length).toBeGreaterThan(1);

    // Ctrl-C mid-reply interrupts that reply only; the fleet keeps answering.
    await terminal.waitFor(/assistant> $/);
    const words = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    terminal.type(`${words}\r`);
    await terminal.waitFor(/echo: word0 word1/);
    terminal.type('\x03');
    await terminal.waitFor(/\(reply interrupted\)/);
    terminal.type('@assistant still there?\r');
    await terminal.waitFor(/echo: still there\?/);
    // Lines are handled one at a time, so everything the interrupted turn printed
    // lies between its start and the next reply.
    const interrupted = terminal.screen.slice(
      terminal.screen.lastIndexOf('echo: word0'),
      terminal.screen.lastIndexOf('echo: still there'),
    );
    expect(interrupted).not.toContain('word59');

    terminal.type('/agents\r');
    await terminal.waitFor(/assistant\s+healthy/);

    terminal.type('/quit\r');
    expect(await terminal.exited).toBe(0);
    expect(terminal.screen).toContain('fleet stopped');
    expect(await projectContainers(projectId(project.dir))).toEqual([]);
  });
});
