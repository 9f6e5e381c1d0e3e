// From an empty directory to a running fleet with two commands, as a script would do
// it: `legion setup --yes … --template sales`, then `legion start -d`; the sales team
// answers, and PROJECT.md (from --project) reaches the provider in the system prompt.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { freePort, legion, type TestProject } from '../helpers/project.js';
import { dockerAvailable } from '../helpers/docker.js';
import { tearDownFleet } from '../helpers/fleet.js';
import { MeshStatusSchema } from '../../src/shared/wire/admin.js';

const available = await dockerAvailable();

describe.skipIf(!available)('legion setup --yes, then legion start -d, in an empty directory', () => {
  let fake: FakeProvider;
  let project: TestProject;
  let setup: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    fake = await startFakeProvider();
    const dir = mkdtempSync(join(tmpdir(), 'legion-setup-e2e-'));
    const port = await freePort();
    project = { dir, port, secret: 'k', cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    // --port keeps clear of a mesh on the default 8420; the image is built (or found current) by setup itself.
    setup = await legion(
      [
        'setup',
        '--yes',
        '--provider',
        'openai-compatible',
        '--base-url',
        fake.openaiBaseUrl,
        '--api-key',
        'k',
        '--template',
        'sales',
        '--project',
        'Find leads',
        '--port',
        String(port),
      ],
      dir,
    );
  });

  afterAll(async () => {
    await tearDownFleet(project);
    await fake?.close();
    project?.cleanup();
  });

  it('writes the project, keeps the key in .env only (mode 0600) and builds the image', () => {
    expect(setup.stderr).toBe('');
    expect(setup.code).toBe(0);
    expect(setup.stdout).toContain('agents added: researcher, qualifier, outreach');
    expect(setup.stdout).toMatch(/agent image legion-agent:[0-9a-f]+\n/);
    expect(readdirSync(project.dir).sort()).toEqual(['.env', '.gitignore', 'PROJECT.md', 'config']);
    expect(statSync(join(project.dir, '.env')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(project.dir, '.env'), 'utf8')).toMatch(/^LEGION_CRED_LOCAL_API_KEY=k$/m);
    expect(readFileSync(join(project.dir, '.gitignore'), 'utf8')).toBe('.env\n.legion/\n');
  });

  it('starts the three sales agents, and the researcher answers with PROJECT.md in its system prompt', async () => {
    const started = await legion(['start', '-d'], project.dir);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    const status = MeshStatusSchema.parse(JSON.parse((await legion(['status', '--json'], project.dir)).stdout));
    expect(status.agents.map((a) => [a.name, a.health]).sort()).toEqual([
      ['outreach', 'healthy'],
      ['qualifier', 'healthy'],
      ['researcher', 'healthy'],
    ]);

    const chat = await legion(['chat', 'researcher', '-m', 'who are our first prospects?'], project.dir);
    expect(chat.stderr).toBe('');
    expect(chat.code).toBe(0);
    expect(chat.stdout).toContain('echo: who are our first prospects?');
    const call = fake.calls.find((c) =>
      c.messages.some((m) => m.role === 'user' && m.content.includes('who are our first prospects?')),
    );
    const system = call?.messages.find((m) => m.role === 'system')?.content ?? '';
    expect(system).toContain('Find leads');
    // The mesh called the provider with the key setup stored.
    expect(call?.headers.authorization).toBe('Bearer k');
  });
});
