// Cron with a real container: a job the agent sets itself (`every 2s`, through the
// model) fires it at least twice, seen at the fake provider, and stops once the agent
// removes it with remove_cron; a 6-field seconds job added with `legion cron add`
// (which prints the id as its last line) fires too and is removed from the CLI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeProvider, type FakeCall, type FakeProvider } from '../fakes/fake-provider.js';
import { freePort, legion, makeProject, type TestProject } from '../helpers/project.js';
import { dockerAvailable } from '../helpers/docker.js';
import { waitFor } from '../helpers/wait.js';
import { tearDownFleet } from '../helpers/fleet.js';

const available = await dockerAvailable();
const AGENT = 'ticker';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!available)('cron in a container', () => {
  let fake: FakeProvider;
  let project: TestProject;

  /** Calls of turns started by cron job `id`: their last user message is the lane item's text. */
  const firings = (id: string): FakeCall[] =>
    fake.calls.filter((c) =>
      (c.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '').startsWith(`[cron job ${id} `),
    );

  beforeAll(async () => {
    fake = await startFakeProvider();
    project = makeProject({
      port: await freePort(),
      openaiBaseUrl: fake.openaiBaseUrl,
      agentsYaml: `agents:\n  ${AGENT}:\n    role: keeps time\n`,
    });
    writeFileSync(
      join(project.dir, 'config', 'permissions.yaml'),
      `agents:\n  ${AGENT}:\n    allowed_apis: [llm]\n    can_manage_cron: true\n`,
    );
    const started = await legion(['start', '-d'], project.dir);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
  });

  afterAll(async () => {
    await tearDownFleet(project);
    await fake?.close();
    project?.cleanup();
  });

  it('fires a job the agent set every 2s at least twice, and stops after the agent removes it', async () => {
    const set = await legion(
      ['chat', AGENT, '-m', 'call set_cron {"schedule":"every 2s","message":"e2e tick"}'],
      project.dir,
    );
    expect(set.code).toBe(0);
    const id = /scheduled cron job (cron_[\w-]+)/.exec(set.stdout)?.[1] ?? '';
    expect(id).toMatch(/^cron_/);

    await waitFor(() => (firings(id).length >= 2 ? true : null), 'two firings of the job');
    expect(firings(id)[0]?.messages.at(-1)?.content).toMatch(
      new RegExp(`^\\[cron job ${id} \\(every 2s\\) · id cronr_\\S+ · from cron\\]\\ne2e tick`),
    );

    const removed = await legion(['chat', AGENT, '-m', `call remove_cron {"id":"${id}"}`], project.dir);
    expect(removed.stdout).toContain(`removed cron job ${id}`);
    // A firing queued before the removal may still arrive; after that, nothing more.
    await sleep(3000);
    const settled = firings(id).length;
    await sleep(6000);
    expect(firings(id).length).toBe(settled);
    const list = await legion(['cron', 'list'], project.dir);
    expect(list.stdout).not.toContain(id);
  });

  it('adds a 6-field seconds job from the CLI, printing its id last, and removes it', async () => {
    const added = await legion(['cron', 'add', AGENT, '*/3 * * * * *', 'cli tick'], project.dir);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const id = added.stdout.trimEnd().split('\n').at(-1) ?? '';
    expect(id).toMatch(/^cron_[\w-]+$/);
    await waitFor(() => (firings(id).length >= 1 ? true : null), 'the CLI job to fire');
    const list = await legion(['cron', 'list', '--agent', AGENT], project.dir);
    expect(list.stdout).toMatch(new RegExp(`${id}\\s+${AGENT}\\s+\\*/3 \\* \\* \\* \\* \\*\\s+UTC`));
    expect((await legion(['cron', 'remove', id], project.dir)).stdout).toBe(`removed cron job ${id}\n`);
  });
});
