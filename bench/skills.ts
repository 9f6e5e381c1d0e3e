// Skill tool call overhead over a plain exec call, through the real mesh and a real
// container: one agent with can_create_skills creates a skill whose tool echoes its
// argument, then calls it and `exec echo` alternately (the fake provider scripts each
// call). Each sample is the time from the turn's tool_call event to its tool_result
// event, i.e. the tool's run inside the container (plus the same stream hop for both).
// exec starts /bin/sh; a skill tool starts node with the module-host and imports the module.
import { performance } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MeshClient } from '../src/cli/mesh-client.js';
import { startFakeProvider } from '../tests/fakes/fake-provider.js';
import { tearDownFleet } from '../tests/helpers/fleet.js';
import { freePort, legion, makeProject } from '../tests/helpers/project.js';
import { median, percentile, type BenchRow } from './table.js';

const AGENT = 'bench-skills';
const WARMUP = 3;
const SAMPLES = 30;
const ECHO_CODE = `
export const name = 'bench_echo';
export const description = 'Returns its text.';
export const parameters = { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] };
export async function run({ text }) { return text; }
`;

/** Milliseconds from tool_call to tool_result of the one tool the message calls. */
async function timeToolCall(client: MeshClient, message: string): Promise<number> {
  let calledAt = 0;
  let took = Number.NaN;
  let failed = '';
  const last = await client.chat(AGENT, message, (event) => {
    if (event.type === 'tool_call') calledAt = performance.now();
    if (event.type === 'tool_result') {
      took = performance.now() - calledAt;
      if (!event.ok) failed = event.output;
    }
  });
  if (last.type === 'error' || failed || Number.isNaN(took)) {
    throw new Error(`"${message}" did not run its tool: ${failed || JSON.stringify(last)}`);
  }
  return took;
}

export async function skillsBench(): Promise<BenchRow[]> {
  const fake = await startFakeProvider();
  const project = makeProject({
    port: await freePort(),
    openaiBaseUrl: fake.openaiBaseUrl,
    agentsYaml: `agents:\n  ${AGENT}: { role: benchmarks skills }\n`,
  });
  writeFileSync(
    join(project.dir, 'config', 'permissions.yaml'),
    `agents:\n  ${AGENT}:\n    allowed_apis: [llm]\n    can_create_skills: true\n`,
  );
  try {
    const started = await legion(['start', '-d'], project.dir);
    if (started.code !== 0) throw new Error(`legion start -d failed: ${started.stderr}`);
    const client = MeshClient.connect(project.dir);
    const create = {
      name: 'bench-echo',
      description: 'Echoes text.',
      instructions: 'Call bench_echo.',
      tool_code: ECHO_CODE,
    };
    await timeToolCall(client, `call create_skill ${JSON.stringify(create)}`);
    const exec = 'call exec {"command":"echo x"}';
    const skill = 'call bench_echo {"text":"x"}';
    for (let i = 0; i < WARMUP; i++) {
      await timeToolCall(client, exec);
      await timeToolCall(client, skill);
    }
    const execMs: number[] = [];
    const skillMs: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      execMs.push(await timeToolCall(client, exec));
      skillMs.push(await timeToolCall(client, skill));
    }
    const figures = (xs: number[]) => `median ${median(xs).toFixed(1)} ms, p99 ${percentile(xs, 99).toFixed(1)} ms`;
    const overhead = {
      median: median(skillMs) - median(execMs),
      p99: percentile(skillMs, 99) - percentile(execMs, 99),
    };
    return [
      [`exec tool call (echo x) in the container, ${SAMPLES} calls`, figures(execMs), 'reported', true],
      [`skill tool call (echo module) in the container, ${SAMPLES} calls`, figures(skillMs), 'reported', true],
      [
        'skill tool call overhead over exec (same run)',
        `median +${overhead.median.toFixed(1)} ms, p99 +${overhead.p99.toFixed(1)} ms`,
        'reported',
        true,
      ],
    ];
  } finally {
    await tearDownFleet(project);
    await fake.close();
    project.cleanup();
  }
}
