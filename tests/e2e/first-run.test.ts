// The quick start as a newcomer pastes it, with no OpenAI key anywhere: in a fresh clone
// of this repository (its example config/ and PROJECT.md) and in an empty directory,
// `legion setup --yes --provider openai-compatible --base-url … --model …`, then
// `legion start -d`, then `legion chat assistant -m` answers. The CLI is the one built
// from this checkout (as `npm link` would put it on the PATH); the clone is made with git.
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { freePort, legion, type TestProject } from '../helpers/project.js';
import { dockerAvailable } from '../helpers/docker.js';
import { tearDownFleet } from '../helpers/fleet.js';

const available = await dockerAvailable();
const REPO = resolve(import.meta.dirname, '../..');
/** No OpenAI key anywhere: the environment's are blanked for every command. */
const NO_KEYS = {
  OPENAI_API_KEY: '',
  LEGION_CRED_OPENAI_API_KEY: '',
  ANTHROPIC_API_KEY: '',
  LEGION_CRED_ANTHROPIC_API_KEY: '',
};

describe.skipIf(!available)('the quick start, pasted, with a local OpenAI-compatible server', () => {
  let fake: FakeProvider;
  let project: TestProject | undefined;

  beforeAll(async () => {
    // A server on this machine that wants no key, as Ollama.
    fake = await startFakeProvider();
  });
  afterEach(async () => {
    await tearDownFleet(project);
    project?.cleanup();
    project = undefined;
  });
  afterAll(async () => {
    await fake?.close();
  });

  async function quickStart(dir: string): Promise<void> {
    const port = await freePort();
    project = { dir, port, secret: '', cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    const setup = await legion(
      [
        'setup',
        '--yes',
        '--provider',
        'openai-compatible',
        '--base-url',
        fake.openaiBaseUrl,
        '--model',
        'llama3.1',
        '--port',
        String(port),
      ],
      dir,
      NO_KEYS,
      600_000,
    );
    expect(setup.stderr).toBe('');
    expect(setup.code).toBe(0);
    const started = await legion(['start', '-d'], dir, NO_KEYS, 300_000);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    const chat = await legion(['chat', 'assistant', '-m', 'hello from a fresh clone'], dir, NO_KEYS);
    expect(chat.stderr).toBe('');
    expect(chat.code).toBe(0);
    expect(chat.stdout).toContain('echo: hello from a fresh clone');
    const call = fake.calls.find((c) =>
      c.messages.some((m) => m.role === 'user' && m.content.includes('hello from a fresh clone')),
    );
    expect((call?.body as { model?: string } | undefined)?.model).toBe('llama3.1');
  }

  it('works in a fresh clone of this repository', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'legion-clone-')), 'legion');
    execFileSync('git', ['clone', '--quiet', REPO, dir]);
    await quickStart(dir);
  });

  it('works in an empty directory', async () => {
    await quickStart(mkdtempSync(join(tmpdir(), 'legion-empty-quickstart-')));
  });
});
