// `legion workflow …` as a user runs it, against a real mesh (in process) over real agent
// processes and the fake provider: list (also with no fleet running, where the files
// are checked locally and a bad file's problems are printed), run with --input as JSON
// or @file and --follow (one line per transition, the results, exit 0 only for a run
// that is done), status (table and --json), runs, cancel (409 once final), and Ctrl-C
// while following, which stops the following and leaves the run going.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { PassThrough, Writable } from 'node:stream';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { directiveResponder, type FakeCall, type FakeStep } from '../fakes/fake-provider.js';
import { CLI, freePort, legion, makeProject, type TestProject } from '../helpers/project.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';
import { RunViewSchema } from '../../src/shared/wire/workflow.js';
import { runRepl } from '../../src/cli/repl.js';

const AGENTS = `agents:
  alpha:
    role: researches
  beta:
    role: analyses
`;

const PIPELINE = `name: pipeline
description: research, then score and a skipped step, then a summary
steps:
  - id: research
    agent: alpha
    task_type: research
  - id: score
    agent: beta
    task_type: score
    depends_on: [research]
    input: "\${steps.research.result}"
  - id: escalate
    agent: beta
    task_type: escalate
    depends_on: [research]
    condition: "steps.research.result.score > 8"
  - id: summary
    agent: alpha
    task_type: summary
    depends_on: [score]
    input: { company: "\${trigger.payload.name}", score: "\${steps.score.result.score}" }
`;

const DOOMED = `name: doomed
trigger: { topic: doom_requested }
steps:
  - id: attempt
    agent: alpha
    task_type: doomed
`;

const SLOW = `name: slow
steps:
  - id: nap
    agent: beta
    task_type: nap
`;

function taskType(call: FakeCall): string | null {
  const system = call.messages.find((m) => m.role === 'system')?.content ?? '';
  return /^Task type: (.+)$/m.exec(system)?.[1] ?? null;
}

function respond(call: FakeCall): FakeStep {
  switch (taskType(call)) {
    case 'research':
      return { text: '{"name":"acme","score":7}' };
    case 'score':
      return { text: '{"score":7,"grade":"good"}' };
    case 'summary':
      return { text: '{"summary":"acme scores 7"}' };
    case 'doomed':
      return { error: { status: 400, message: 'the fake refuses this task' } };
    case 'nap':
      return call.messages.at(-1)?.role === 'tool'
        ? { text: '{"rested":true}' }
        : { tool_calls: [{ name: 'exec', arguments: { command: 'sleep 20' } }] };
    default:
      return directiveResponder(call);
  }
}

/** Starts `legion workflow run … --follow` and resolves once its output shows `ready`. */
function followInBackground(dir: string, args: string[], ready: RegExp) {
  const child = spawn(process.execPath, [CLI, 'workflow', 'run', ...args, '--follow'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const started = (async () => {
    const deadline = Date.now() + 15_000;
    while (!ready.test(stdout)) {
      if (Date.now() > deadline)
        throw new Error(`no ${ready} in the output of legion workflow run: ${stdout}${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return { child, started, exited, output: () => ({ stdout, stderr }) };
}

describe('legion workflow without a running fleet', () => {
  let project: TestProject;
  beforeAll(async () => {
    project = makeProject({ port: await freePort(), agentsYaml: AGENTS });
    mkdirSync(join(project.dir, 'config', 'workflows'));
  });
  afterAll(() => project?.cleanup());

  it('lists the files after checking them locally, and says the fleet is not running', async () => {
    writeFileSync(join(project.dir, 'config', 'workflows', 'pipeline.yaml'), PIPELINE);
    const listed = await legion(['workflow', 'list'], project.dir);
    expect(listed.code).toBe(0);
    expect(listed.stderr).toContain('the fleet is not running');
    expect(listed.stdout).toMatch(
      /^pipeline\s+manual\s+research, score, escalate, summary\s+config\/workflows\/pipeline\.yaml\s+research, then score/m,
    );
  });

  it('prints every problem of an invalid file, naming the file and the step, and exits 1', async () => {
    writeFileSync(
      join(project.dir, 'config', 'workflows', 'broken.yaml'),
      'name: broken\nsteps:\n  - id: first\n    agent: ghost\n    task_type: t\n  - id: second\n    agent: alpha\n    task_type: t\n    condition: "steps.first.result.score >"\n',
    );
    const listed = await legion(['workflow', 'list'], project.dir);
    expect(listed.code).toBe(1);
    expect(listed.stderr).toMatch(/^invalid configuration:/);
    expect(listed.stderr).toMatch(/config\/workflows\/broken\.yaml: steps\.first\.agent: .*ghost/);
    expect(listed.stderr).toMatch(/config\/workflows\/broken\.yaml: steps\.second\.condition: /);
    expect(listed.stderr).not.toMatch(/\n\s+at /);
  });

  it('says the mesh is not running for a command that needs it', async () => {
    const run = await legion(['workflow', 'run', 'pipeline'], project.dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/the legion mesh is not running/);
  });
});

describe('legion workflow against a running fleet', () => {
  let h: Harness;
  let dir: string;

  beforeAll(async () => {
    h = await startHarness({ agentsYaml: AGENTS });
    h.fake.respondWith(respond);
    dir = h.project.dir;
    mkdirSync(join(dir, 'config', 'workflows'));
    writeFileSync(join(dir, 'config', 'workflows', 'pipeline.yaml'), PIPELINE);
    writeFileSync(join(dir, 'config', 'workflows', 'doomed.yaml'), DOOMED);
    writeFileSync(join(dir, 'config', 'workflows', 'slow.yaml'), SLOW);
  }, 60_000);
  afterAll(async () => h?.close());

  it('lists the workflows with their triggers and steps', async () => {
    const listed = await legion(['workflow', 'list'], dir);
    expect(listed.code).toBe(0);
    expect(listed.stderr).toBe('');
    expect(listed.stdout).toMatch(/^doomed\s+topic:doom_requested\s+attempt\s/m);
    expect(listed.stdout).toMatch(/^pipeline\s+manual\s+research, score, escalate, summary\s/m);
  });

  it('runs a workflow with --input @file and --follow: each transition on a line, then the results, exit 0', async () => {
    writeFileSync(join(dir, 'payload.json'), '{"name": "acme"}');
    const run = await legion(['workflow', 'run', 'pipeline', '--input', '@payload.json', '--follow'], dir);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const id = /^run (\S+) of pipeline started/m.exec(run.stdout)?.[1];
    expect(id).toBeDefined();
    expect(run.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3}\s+research\s+running\s+alpha\s+attempt 1\b/m);
    expect(run.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3}\s+score\s+done\s+beta\s+attempt 1\b/m);
    expect(run.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3}\s+escalate\s+skipped\s+.*condition false/m);
    expect(run.stdout).toMatch(new RegExp(`^run ${id} \\(pipeline\\) done$`, 'm'));
    expect(run.stdout).toContain('  summary:\n    {\n      "summary": "acme scores 7"\n    }');
    const summaryCall = h.fake.calls.find((call) => taskType(call) === 'summary');
    expect(summaryCall?.messages.find((m) => m.role === 'system')?.content).toContain('"company": "acme"');

    const status = await legion(['workflow', 'status', id!], dir);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^score\s+done\s+beta\s+1\s+-$/m);
    expect(status.stdout).toMatch(/^escalate\s+skipped\s+-\s+0\s+.*condition false/m);
    const json = RunViewSchema.parse(JSON.parse((await legion(['workflow', 'status', id!, '--json'], dir)).stdout));
    expect(json.status).toBe('done');
    expect(json.input).toEqual({ name: 'acme' });
    expect(json.steps.find((s) => s.id === 'score')?.result).toEqual({ score: 7, grade: 'good' });

    const runs = await legion(['workflow', 'runs'], dir);
    expect(runs.code).toBe(0);
    expect(runs.stdout).toMatch(new RegExp(`^${id}\\s+pipeline\\s+done\\s+manual\\s`, 'm'));
  });

  it('prints the run id last without --follow', async () => {
    const run = await legion(['workflow', 'run', 'pipeline', '--input', '{"name":"globex"}'], dir);
    expect(run.code).toBe(0);
    const id = run.stdout.trim().split('\n').at(-1) ?? '';
    expect(run.stdout).toContain(`legion workflow status ${id}`);
    const status = RunViewSchema.parse(JSON.parse((await legion(['workflow', 'status', id, '--json'], dir)).stdout));
    expect(status.input).toEqual({ name: 'globex' });
  });

  it('exits 1 after following a run that fails, with the failure', async () => {
    const run = await legion(['workflow', 'run', 'doomed', '--follow'], dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^\S+\s+attempt\s+failed\s+alpha\s+attempt 1\b/m);
    expect(run.stdout).toMatch(/^run \S+ \(doomed\) failed/m);
  });

  it('names the flag and the problem for a bad --input, and the workflow for an unknown one', async () => {
    const bad = await legion(['workflow', 'run', 'pipeline', '--input', '{name: acme}'], dir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: --input is not valid JSON: /);
    const missing = await legion(['workflow', 'run', 'pipeline', '--input', '@nowhere.json'], dir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`error: --input @nowhere.json: no such file ${join(dir, 'nowhere.json')}`);
    const unknown = await legion(['workflow', 'run', 'ghost'], dir);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: no workflow named "ghost" \(workflows: doomed, pipeline, slow\)/);
    const noRun = await legion(['workflow', 'status', 'wfr_nope'], dir);
    expect(noRun.code).toBe(1);
    expect(noRun.stderr).toMatch(/no workflow run "wfr_nope"/);
  });

  it('runs and follows a workflow from the REPL, then lists it among the runs', async () => {
    const input = new PassThrough();
    let screen = '';
    const output = new Writable({
      write(chunk: Buffer, _encoding, done) {
        screen += chunk.toString();
        done();
      },
    });
    const repl = runRepl({ client: h.client, mode: 'attach', agent: 'alpha', input, output });
    input.end('/workflow list\n/workflow run pipeline {"name": "initech"}\n/workflow runs\n/workflow status\n');
    await repl;
    expect(screen).toMatch(/^pipeline\s+manual\s+research, score, escalate, summary\s/m);
    const id = /run (\S+) of pipeline started/.exec(screen)?.[1] ?? '';
    expect(screen).toMatch(/^\S+\s+summary\s+done\s+alpha\s+attempt 1\b/m);
    expect(screen).toContain(`run ${id} (pipeline) done`);
    expect(screen).toContain('"summary": "acme scores 7"');
    expect(screen).toMatch(new RegExp(`^${id}\\s+pipeline\\s+done\\s`, 'm'));
    expect(screen).toContain('/workflow status needs one run id: /workflow status <run id>');
    const summary = h.fake.calls.filter((call) => taskType(call) === 'summary').at(-1);
    expect(summary?.messages.find((m) => m.role === 'system')?.content).toContain('"company": "initech"');
  });

  it('stops following on Ctrl-C, leaving the run going; cancel ends it, and a second cancel is refused', async () => {
    const follow = followInBackground(dir, ['slow'], /nap\s+running/);
    await follow.started;
    follow.child.kill('SIGINT');
    expect(await follow.exited).toBe(130);
    const { stdout, stderr } = follow.output();
    const id = /^run (\S+) of slow started/m.exec(stdout)?.[1] ?? '';
    expect(stderr).toContain(
      `stopped following run ${id}; it keeps running. Cancel it with \`legion workflow cancel ${id}\``,
    );
    expect(
      RunViewSchema.parse(JSON.parse((await legion(['workflow', 'status', id, '--json'], dir)).stdout)).status,
    ).toBe('running');

    const cancelled = await legion(['workflow', 'cancel', id], dir);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toMatch(new RegExp(`^run ${id} \\(slow\\) cancelled`, 'm'));
    const status = RunViewSchema.parse(JSON.parse((await legion(['workflow', 'status', id, '--json'], dir)).stdout));
    expect(status.steps[0]?.status).toBe('cancelled');
    const again = await legion(['workflow', 'cancel', id], dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`workflow run ${id} already finished: its status is cancelled`);
  });
});
