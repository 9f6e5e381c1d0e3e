// A mesh killed (SIGKILL) while it streams a reply to `legion chat -m`: the CLI says
// that the mesh stopped during the reply, what was delivered (the text already
// printed) and that the rest was not, and how to restart, instead of "terminated".
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { CLI, freePort, makeProject, REPO_ROOT, type TestProject } from '../helpers/project.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function startMeshProcess(project: TestProject): Promise<ChildProcess> {
  // Its own process group, so the mesh and the agent processes it started die together.
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/helpers/mesh-process-main.ts', project.dir], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(() => {
    try {
      process.kill(-(child.pid ?? 0), 'SIGKILL');
    } catch {
      // Already gone.
    }
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(child));
    child.once('exit', (code) => reject(new Error(`the mesh exited (${code}) before it was ready:\n${stderr}`)));
  });
}

describe('legion chat -m when the mesh dies mid-reply', () => {
  it('says what was delivered and how to restart', async () => {
    const fake: FakeProvider = await startFakeProvider({ chunkDelayMs: 150 });
    cleanups.push(() => fake.close());
    fake.respondWith(() => ({
      text: 'Alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec.',
    }));
    const project = makeProject({ port: await freePort(), openaiBaseUrl: fake.openaiBaseUrl });
    cleanups.push(() => project.cleanup());
    const mesh = await startMeshProcess(project);

    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.LEGION_CRED_OPENAI_API_KEY;
    const chat = spawn(process.execPath, [CLI, 'chat', 'assistant', '-m', 'tell me the alphabet'], {
      cwd: project.dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    chat.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => chat.once('exit', resolve));
    // Kill the mesh once part of the reply has been printed.
    await new Promise<void>((resolve) =>
      chat.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('bravo')) resolve();
      }),
    );
    process.kill(-(mesh.pid ?? 0), 'SIGKILL');
    expect(await exited).toBe(1);

    expect(stdout.startsWith('Alpha bravo')).toBe(true);
    expect(stdout).not.toContain('quebec.');
    expect(stderr).not.toContain('terminated');
    expect(stderr).toContain(
      `error: the mesh stopped during assistant's reply: the ${stdout.length} characters of the reply printed above were delivered, the rest was not: the reply was not finished.`,
    );
    expect(stderr).toContain('Start it again with `legion start`');
  });
});
