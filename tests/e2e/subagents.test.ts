// Sub-agents with real containers: spawn_agent runs a task in a second container (its
// own hostname), the result comes back as the tool result and is kept in the parent's
// volume, and the sub-agent's container and volume are gone afterwards; spawning
// without can_spawn, beyond the concurrency cap, with a model or permissions wider than
// the parent's, or from a sub-agent is refused naming the rule; a timeout is a tool
// error; the sub-agent's spend shows under its parent and counts in its budget; it is
// listed in legion status under its parent; a mesh killed mid-run leaves an orphan that
// the next start removes; legion stop ends a running sub-agent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  directiveResponder,
  startFakeProvider,
  type FakeCall,
  type FakeProvider,
  type FakeStep,
} from '../fakes/fake-provider.js';
import { freePort, legion, makeProject, type TestProject } from '../helpers/project.js';
import { docker, dockerAvailable, execIn } from '../helpers/docker.js';
import { killMesh, tearDownFleet } from '../helpers/fleet.js';
import { waitFor } from '../helpers/wait.js';
import { projectId } from '../../src/shared/state.js';
import { CostReportSchema } from '../../src/shared/wire/costs.js';

const available = await dockerAvailable();

const PERMISSIONS = `agents:
  lead:
    allowed_apis: [llm]
    blackboard_write: ["notes/*"]
    can_spawn: { max_concurrent: 1 }
  solo:
    allowed_apis: [llm]
`;

/** What a sub-agent does, chosen by a marker in the instructions it was spawned with. */
function respond(call: FakeCall): FakeStep {
  const system = call.messages.find((m) => m.role === 'system')?.content ?? '';
  const last = call.messages.at(-1);
  const afterTool = last?.role === 'tool';
  if (system.includes('MODE:host')) {
    if (!afterTool) return { tool_calls: [{ name: 'exec', arguments: { command: 'cat /etc/hostname' } }] };
    return { text: `sub-result-4711 host=${/[0-9a-f]{12}/.exec(last.content)?.[0] ?? 'none'}` };
  }
  if (system.includes('MODE:sleep')) {
    if (!afterTool) return { tool_calls: [{ name: 'exec', arguments: { command: 'sleep 40', timeout_s: 60 } }] };
    return { text: 'slept' };
  }
  if (system.includes('MODE:spawn')) {
    if (!afterTool)
      return {
        tool_calls: [{ name: 'spawn_agent', arguments: { role: 'nested', instructions: 'MODE:host', task: 'go' } }],
      };
    return { text: `nested answer: ${last.content}` };
  }
  return directiveResponder(call);
}

const spawnCall = (args: Record<string, unknown>) => `call spawn_agent ${JSON.stringify(args)}`;

describe.skipIf(!available)('sub-agents with real containers', () => {
  let fake: FakeProvider;
  let project: TestProject;
  let id: string;

  const subAgentLeftovers = async () => {
    const filters = { label: [`legion.project=${id}`, 'legion.parent'] };
    const containers = await docker.listContainers({ all: true, filters });
    const { Volumes } = await docker.listVolumes({ filters });
    return { containers: containers.map((c) => c.Names.join(',')), volumes: (Volumes ?? []).map((v) => v.Name) };
  };
  const chatLead = (message: string) => legion(['chat', 'lead', '-m', message], project.dir);
  const subAgentRows = () =>
    fake.calls.filter((call) => /^Task id: lead_[0-9a-f]{8}$/m.test(call.messages[0]?.content ?? ''));

  beforeAll(async () => {
    fake = await startFakeProvider({ respond });
    project = makeProject({
      port: await freePort(),
      openaiBaseUrl: fake.openaiBaseUrl,
      agentsYaml: 'agents:\n  lead:\n    role: leads\n    budget: { daily_usd: 50 }\n  solo:\n    role: works alone\n',
    });
    writeFileSync(join(project.dir, 'config', 'permissions.yaml'), PERMISSIONS);
    id = projectId(project.dir);
    const started = await legion(['start', '-d'], project.dir);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
  });

  afterAll(async () => {
    await tearDownFleet(project);
    await fake?.close();
    project?.cleanup();
  });

  it('runs the task in a second container, returns its result, keeps it in the parent volume, removes the container and volume', async () => {
    const result = await chatLead(
      spawnCall({ role: 'host reporter', instructions: 'MODE:host', task: 'report your host' }),
    );
    // The tool activity goes to stderr; the answer to stdout.
    expect(result.stderr).toContain('[tool] spawn_agent');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('tool spawn_agent returned: sub-result-4711 host=');
    const subHost = /sub-result-4711 host=([0-9a-f]{12})/.exec(result.stdout)?.[1];
    const lead = `legion-${id}-lead`;
    const leadId = (await docker.getContainer(lead).inspect()).Id;
    expect(subHost).toBeDefined();
    expect(leadId.startsWith(subHost ?? '-')).toBe(false);
    const subId = /\/data\/subagents\/(lead_[0-9a-f]{8})/.exec(result.stdout)?.[1];
    expect(subId).toBeDefined();

    // The sub-agent's model calls ran in task mode with its own instructions.
    expect(subAgentRows().some((call) => call.messages[0]?.content.includes('MODE:host'))).toBe(true);

    const kept = await execIn(lead, ['cat', `/data/subagents/${subId}/result.md`]);
    expect(kept.code).toBe(0);
    expect(kept.output).toContain('sub-result-4711');
    const transcript = await execIn(lead, ['cat', `/data/subagents/${subId}/transcript.jsonl`]);
    expect(transcript.code).toBe(0);
    const lines = transcript.output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { role: string });
    expect(lines.map((line) => line.role)).toContain('tool');
    expect(lines.at(-1)?.role).toBe('assistant');

    expect(await subAgentLeftovers()).toEqual({ containers: [], volumes: [] });
    await expect(docker.getContainer(`legion-${id}-${subId}`).inspect()).rejects.toThrow();
  });

  it("shows the sub-agent's spend under its parent and counts it in the parent's budget", async () => {
    const costs = await legion(['costs', '--agent', 'lead', '--json'], project.dir);
    expect(costs.code).toBe(0);
    const report = CostReportSchema.parse(JSON.parse(costs.stdout));
    const subRows = report.rows.filter((row) => row.parent === 'lead');
    expect(subRows.length).toBeGreaterThan(0);
    expect(subRows.every((row) => /^lead_[0-9a-f]{8}$/.test(row.agent))).toBe(true);
    const subCost = subRows.reduce((sum, row) => sum + row.cost_usd, 0);
    expect(subCost).toBeGreaterThan(0);
    const leadOwn = report.rows.filter((row) => row.agent === 'lead').reduce((sum, row) => sum + row.cost_usd, 0);
    const budget = report.budgets.find((b) => b.agent === 'lead' && b.window === 'daily');
    expect(budget?.spent_usd).toBeCloseTo(leadOwn + subCost, 9);

    const table = await legion(['costs'], project.dir);
    expect(table.stdout).toMatch(/^lead\s[\s\S]*^\s+└ lead_[0-9a-f]{8}\s/m);
  });

  it('refuses without can_spawn, with a model or permissions wider than the parent, and from a sub-agent', async () => {
    const solo = await legion(
      ['chat', 'solo', '-m', spawnCall({ role: 'r', instructions: 'MODE:host', task: 't' })],
      project.dir,
    );
    expect(solo.stdout).toContain('spawn_agent refused: solo may not spawn sub-agents: can_spawn is not set');

    const wider = await chatLead(
      spawnCall({ role: 'r', instructions: 'MODE:host', task: 't', permissions: { blackboard_write: ['**'] } }),
    );
    expect(wider.stdout).toContain(`permissions.blackboard_write "**" is wider than lead's own blackboard_write`);

    const flag = await chatLead(
      spawnCall({ role: 'r', instructions: 'MODE:host', task: 't', permissions: { can_use_internet: true } }),
    );
    expect(flag.stdout).toContain('permissions.can_use_internet true is wider than lead');

    const model = await chatLead(
      spawnCall({ role: 'r', instructions: 'MODE:host', task: 't', model: 'openai/gpt-4.1' }),
    );
    expect(model.stdout).toContain('model openai/gpt-4.1 is not allowed for lead');

    const nested = await chatLead(spawnCall({ role: 'spawner', instructions: 'MODE:spawn', task: 'try to spawn' }));
    expect(nested.stdout).toMatch(/nested answer: .*a sub-agent may not spawn sub-agents of its own/);
    expect(await subAgentLeftovers()).toEqual({ containers: [], volumes: [] });
  });

  it('refuses a spawn beyond can_spawn.max_concurrent', async () => {
    // Two spawns of lead at once, straight on the agent API with lead's own token (a chat
    // turn runs its tool calls one after the other, so it cannot be beyond the cap itself).
    const info = JSON.parse(readFileSync(join(project.dir, '.legion', 'mesh.json'), 'utf8')) as {
      agent_api_url: string;
    };
    const db = new Database(join(project.dir, '.legion', 'mesh.db'), { readonly: true });
    const { mesh_token: token } = db.prepare("SELECT mesh_token FROM agent_containers WHERE agent = 'lead'").get() as {
      mesh_token: string;
    };
    db.close();
    const post = (route: string, body: unknown) =>
      fetch(`${info.agent_api_url}${route}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const first = await post('/mesh/subagents/spawn', { role: 'sleeper', instructions: 'MODE:sleep', task: 'sleep' });
    expect(first.status).toBe(202);
    const { id: subId } = (await first.json()) as { id: string };
    const second = await post('/mesh/subagents/spawn', { role: 'another', instructions: 'MODE:host', task: 't' });
    expect(second.status).toBe(429);
    const refusal = (await second.json()) as { error: { code: string; message: string } };
    expect(refusal.error.code).toBe('spawn_limit');
    expect(refusal.error.message).toContain('lead already runs 1 sub-agent(s) and can_spawn.max_concurrent is 1');

    const status = await waitFor(async () => {
      const shown = await legion(['status'], project.dir);
      return shown.stdout.includes(`└ ${subId}`) ? shown.stdout : null;
    }, 'the sub-agent to be listed under lead');
    expect(status).toMatch(new RegExp(`^lead\\s[\\s\\S]*^\\s+└ ${subId}\\s+sub-agent`, 'm'));

    expect((await post('/mesh/subagents/stop', { id: subId })).status).toBe(200);
    const ended = await waitFor(async () => {
      const view = (await (await post('/mesh/subagents/wait', { id: subId, wait_s: 5 })).json()) as { status: string };
      return view.status === 'starting' || view.status === 'running' ? null : view;
    }, 'the stopped sub-agent to end');
    expect(ended.status).toBe('ended');
    expect(await subAgentLeftovers()).toEqual({ containers: [], volumes: [] });
  });

  it('kills a sub-agent at its timeout and returns a clear tool error', async () => {
    const result = await chatLead(
      spawnCall({ role: 'sleeper', instructions: 'MODE:sleep', task: 'sleep', timeout_s: 4 }),
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/did not finish within timeout_s \(4 s\)/);
    expect(await subAgentLeftovers()).toEqual({ containers: [], volumes: [] });
  });

  it('removes an orphan left by a killed mesh at the next start, and legion stop ends a running sub-agent', async () => {
    const waitListed = () =>
      waitFor(async () => {
        const left = await subAgentLeftovers();
        return left.containers.length > 0 && left.volumes.length > 0 ? left : null;
      }, 'a sub-agent container to run');
    const orphaned = chatLead(
      spawnCall({ role: 'sleeper', instructions: 'MODE:sleep', task: 'sleep', timeout_s: 120 }),
    );
    await waitListed();
    await killMesh(project);
    await orphaned;
    expect((await subAgentLeftovers()).containers.length).toBe(1);
    const restarted = await legion(['start', '-d'], project.dir);
    expect(restarted.code).toBe(0);
    expect(restarted.stdout).toContain('of sub-agents left from an earlier run');
    expect(await subAgentLeftovers()).toEqual({ containers: [], volumes: [] });

    const running = chatLead(spawnCall({ role: 'sleeper', instructions: 'MODE:sleep', task: 'sleep', timeout_s: 120 }));
    await waitListed();
    const stopped = await legion(['stop'], project.dir);
    expect(stopped.code).toBe(0);
    await running;
    expect(await subAgentLeftovers()).toEqual({ containers: [], volumes: [] });
  });
});
