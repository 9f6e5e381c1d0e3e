// Memory in a real container: a fact saved with memory_save is put in the model's
// context in a new session, and again after the container is recreated, because it
// lives on the agent's /data volume (daily log + agent.db); a file a shell command
// writes into the workspace (exec) is found by memory_search without any sync, through
// the index's file watcher in the container.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { freePort, legion, makeProject, type TestProject } from '../helpers/project.js';
import { dockerAvailable, projectContainers } from '../helpers/docker.js';
import { projectId } from '../../src/shared/state.js';
import { tearDownFleet } from '../helpers/fleet.js';
import { waitFor } from '../helpers/wait.js';

const available = await dockerAvailable();
const AGENT = 'keeper';

describe.skipIf(!available)('memory across sessions and container restarts', () => {
  let fake: FakeProvider;
  let project: TestProject;

  /** The system prompt the fake saw with the newest request that carried `question`. */
  const systemPromptFor = (question: string) =>
    fake.calls
      .filter((c) => c.messages.some((m) => m.role === 'user' && m.content === question))
      .at(-1)
      ?.messages.find((m) => m.role === 'system')?.content ?? '';

  beforeAll(async () => {
    fake = await startFakeProvider();
    project = makeProject({
      port: await freePort(),
      openaiBaseUrl: fake.openaiBaseUrl,
      agentsYaml: `agents:\n  ${AGENT}:\n    role: remembers\n`,
    });
    const started = await legion(['start', '-d'], project.dir);
    expect(started.code, started.stderr).toBe(0);
  });

  afterAll(async () => {
    await tearDownFleet(project);
    await fake?.close();
    project?.cleanup();
  });

  it('recalls a saved fact in a new session', async () => {
    const saved = await legion(
      ['chat', AGENT, '-m', `call memory_save {"text":"My cat's name is Whiskerino"}`],
      project.dir,
    );
    expect(saved.stdout).toMatch(/saved to memory\/\d{4}-\d{2}-\d{2}\.md/);
    const asked = await legion(['chat', AGENT, '--reset', '-m', "What is my cat's name?"], project.dir);
    expect(asked.code).toBe(0);
    expect(systemPromptFor("What is my cat's name?")).toContain("My cat's name is Whiskerino");
  });

  it('finds a file written by exec with memory_search', async () => {
    const command =
      'mkdir -p notes/birds && printf "# Birds\\nThe heron nests by the quarry pond.\\n" > notes/birds/heron.md';
    const wrote = await legion(['chat', AGENT, '-m', `call exec ${JSON.stringify({ command })}`], project.dir);
    expect(wrote.code, wrote.stderr).toBe(0);
    const found = await waitFor(
      async () => {
        const searched = await legion(
          ['chat', AGENT, '-m', 'call memory_search {"query":"heron quarry"}'],
          project.dir,
        );
        return searched.stdout.includes('notes/birds/heron.md') ? searched.stdout : null;
      },
      'memory_search to find the file exec wrote',
      30_000,
    );
    expect(found).toContain('The heron nests by the quarry pond.');
  });

  it('still recalls it after the container is recreated', async () => {
    const id = projectId(project.dir);
    const before = (await projectContainers(id)).map((c) => c.Id);
    expect((await legion(['stop'], project.dir)).code).toBe(0);
    expect((await legion(['start', '-d'], project.dir)).code).toBe(0);
    const after = (await projectContainers(id)).map((c) => c.Id);
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before[0]);
    const asked = await legion(['chat', AGENT, '-m', 'Remind me: what is the name of my cat?'], project.dir);
    expect(asked.code).toBe(0);
    expect(systemPromptFor('Remind me: what is the name of my cat?')).toContain("My cat's name is Whiskerino");
  });
});
