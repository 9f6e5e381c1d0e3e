// Sub-agent start-up, through the real mesh and real containers (`legion start -d` in a
// temp project, a fake provider that answers at once): the time from spawn_agent (the
// moment the provider hands the parent its spawn_agent call) to the sub-agent's first
// model call, against a normal agent's cold start in the same run (the moment it is
// added through the admin API, which starts its container, to its first model call, a
// chat sent as soon as the add returns). Runs alternate, RUNS of each; median and p99.
// Target: the sub-agent within 1.5x of the normal cold start.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MeshClient } from '../src/cli/mesh-client.js';
import { directiveResponder, startFakeProvider, type FakeCall, type FakeStep } from '../tests/fakes/fake-provider.js';
import { tearDownFleet } from '../tests/helpers/fleet.js';
import { freePort, legion, makeProject, type TestProject } from '../tests/helpers/project.js';
import { median, percentile, type BenchRow } from './table.js';

const RUNS = 5;
const TARGET_RATIO = 1.5;

export async function subagentsBench(): Promise<BenchRow[]> {
  const spawnedAt = new Map<string, number>();
  const firstCallAt = new Map<string, number>();
  const respond = (call: FakeCall): FakeStep => {
    const now = Date.now();
    const system = call.messages.find((m) => m.role === 'system')?.content ?? '';
    const marker = /\b(COLD|SUB)-\d+\b/.exec(system)?.[0];
    if (marker) {
      if (!firstCallAt.has(marker)) firstCallAt.set(marker, now);
      return { text: 'ready' };
    }
    const step = directiveResponder(call);
    if ('tool_calls' in step && step.tool_calls[0]?.name === 'spawn_agent') {
      const sub = /SUB-\d+/.exec(JSON.stringify(step.tool_calls[0].arguments))?.[0];
      if (sub) spawnedAt.set(sub, now);
    }
    return step;
  };
  const fake = await startFakeProvider({ respond });
  let project: TestProject | undefined;
  try {
    project = makeProject({
      port: await freePort(),
      openaiBaseUrl: fake.openaiBaseUrl,
      agentsYaml: 'agents:\n  lead:\n    role: spawns helpers\n',
    });
    writeFileSync(
      join(project.dir, 'config', 'permissions.yaml'),
      'default:\n  allowed_apis: [llm]\nagents:\n  lead:\n    allowed_apis: [llm]\n    can_spawn: 1\n',
    );
    const started = await legion(['start', '-d'], project.dir);
    if (started.code !== 0) throw new Error(`legion start -d failed: ${started.stderr}`);
    const client = MeshClient.connect(project.dir);
    const cold: number[] = [];
    const spawn: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const name = `cold-${i}`;
      const begin = Date.now();
      await client.addAgent({ name, role: 'bench', system_prompt: `COLD-${i}` });
      await client.chat(name, 'hello', () => undefined);
      cold.push((firstCallAt.get(`COLD-${i}`) ?? Number.NaN) - begin);
      await client.removeAgent(name);

      const args = JSON.stringify({ role: 'bench helper', instructions: `SUB-${i}`, task: 'say ready' });
      await client.chat('lead', `call spawn_agent ${args}`, () => undefined);
      spawn.push((firstCallAt.get(`SUB-${i}`) ?? Number.NaN) - (spawnedAt.get(`SUB-${i}`) ?? Number.NaN));
    }
    const ms = (value: number) => `${Math.round(value)} ms`;
    const row = (what: string, pick: (xs: number[]) => number): BenchRow[] => {
      const ratio = pick(spawn) / pick(cold);
      return [
        [`normal agent cold start -> first model call, ${what} of ${RUNS}`, ms(pick(cold)), 'reference', true],
        [
          `spawn_agent -> sub-agent's first model call, ${what} of ${RUNS}`,
          `${ms(pick(spawn))} (${ratio.toFixed(2)}x)`,
          `<= ${TARGET_RATIO}x cold start`,
          ratio <= TARGET_RATIO,
        ],
      ];
    };
    return [...row('median', median), ...row('p99', (xs) => percentile(xs, 99))];
  } finally {
    await tearDownFleet(project);
    await fake.close();
    project?.cleanup();
  }
}
