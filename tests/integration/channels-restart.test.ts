// A channel message queued when the mesh is killed (SIGKILL) is delivered once after
// the restart: the lane row survives, the reply reaches the user once, the agent is
// asked once. The mesh runs as its own process over agent processes (no Docker).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startFakeProvider, directiveResponder, type FakeProvider } from '../fakes/fake-provider.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/fake-telegram.js';
import { freePort, makeProject, REPO_ROOT, type TestProject } from '../helpers/project.js';
import { MeshClient } from '../../src/cli/mesh-client.js';
import { MeshStatusSchema } from '../../src/shared/wire/admin.js';
import { ChannelUserSchema } from '../../src/shared/wire/channels.js';

const TOKEN = '7000000002:AAFakeTelegramBotTokenForRestartTest';
const BOB = { id: 6001, username: 'bob' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('channel lane items across a mesh kill', () => {
  let fake: FakeProvider;
  let tg: FakeTelegram;
  let project: TestProject;
  const meshes: ChildProcess[] = [];

  const startMesh = async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'tests', 'helpers', 'process-mesh-main.ts'), project.dir],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    meshes.push(child);
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await until(
      'the mesh to start',
      () => {
        if (child.exitCode !== null) throw new Error(`the mesh exited: ${output}`);
        return output.includes('ready\n');
      },
      60_000,
    );
    return child;
  };
  const killAgents = () => {
    const file = join(project.dir, 'agent-pids');
    for (const pid of existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  };

  afterAll(async () => {
    for (const mesh of meshes) if (mesh.exitCode === null && mesh.signalCode === null) mesh.kill('SIGTERM');
    await sleep(1000);
    killAgents();
    await tg?.close();
    await fake?.close();
    project?.cleanup();
  });

  it('delivers the queued message once after kill -9 and restart', async () => {
    fake = await startFakeProvider({ respond: directiveResponder });
    tg = await startFakeTelegram(TOKEN);
    const port = await freePort();
    project = makeProject({
      port,
      openaiBaseUrl: fake.openaiBaseUrl,
      agentsYaml: 'agents:\n  solo:\n    role: answers\n',
      meshYaml: `mesh: { host: 127.0.0.1, port: ${port} }\nllm:\n  default_model: openai/gpt-4o-mini\n  providers:\n    openai: {}\nchannels:\n  telegram:\n    token_credential: telegram_bot\n    api_root: ${tg.url}\n`,
    });
    appendFileSync(join(project.dir, '.env'), `LEGION_CRED_TELEGRAM_BOT=${TOKEN}\n`);
    const first = await startMesh();
    const client = MeshClient.connect(project.dir);

    tg.userSays(BOB, 'hi');
    const code = await until(
      'a code',
      () => /legion channels pair ([A-Z0-9]{8})/.exec(tg.messages.at(-1)?.versions.at(-1) ?? '')?.[1],
    );
    await client.requestJson('POST', '/api/channels/pair', ChannelUserSchema, { code });

    // The agent is busy with a long command, so Bob's message waits on the lane.
    void client.chat('solo', 'call exec {"command":"sleep 60"}', () => undefined).catch(() => undefined);
    await until('the agent to be busy', () =>
      fake.calls.some((c) => c.tools.length > 0 && c.messages.some((m) => m.content.includes('sleep 60'))),
    );
    tg.userSays(BOB, 'queued across the kill');
    await until(
      'the message on the lane',
      async () =>
        (await client.requestJson('GET', '/api/status', MeshStatusSchema)).agents.find((a) => a.name === 'solo')?.lane
          .queued === 1,
    );

    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    killAgents();

    await startMesh();
    const echo = 'echo: queued across the kill';
    await until('the reply', () => tg.messages.some((m) => m.versions.at(-1) === echo), 60_000);
    await sleep(3000);
    expect(tg.messages.filter((m) => m.versions.at(-1) === echo)).toHaveLength(1);
    expect(fake.calls.filter((c) => c.messages.at(-1)?.content === 'queued across the kill')).toHaveLength(1);
  }, 180_000);
});
