// read_agent_history through the real mesh and real agent processes: an agent reads
// another's daily log (all, by date, by query, newest first, bounded), a read outside
// can_read_history is a tool error naming the rule and recorded as a denial, bad
// arguments and unknown agents get clear errors, and a target that is not running is
// refused at once rather than waited for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventListSchema } from '../../src/shared/wire/events.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';

const PERMISSIONS = `default:
  allowed_apis: [llm]
agents:
  researcher:
    allowed_apis: [llm]
    can_read_history: [qualifier, "sc*"]
  qualifier:
    allowed_apis: [llm]
`;

const today = () => new Date().toISOString().slice(0, 10);

describe('read_agent_history', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      agentsYaml:
        'agents:\n  researcher:\n    role: research\n  qualifier:\n    role: qualify leads\n  scout:\n    role: scouting\n',
      permissionsYaml: PERMISSIONS,
      // Restarts off, so a killed agent is marked failed at once and stays down.
      meshYaml: (port) =>
        `mesh:\n  host: 127.0.0.1\n  port: ${port}\n  health: { interval_ms: 200, failed_checks: 1, max_restarts_per_hour: 0 }\nllm:\n  default_model: openai/gpt-4o-mini\n  providers:\n    openai: {}\n`,
    });
    await h.say('qualifier', 'Acme Corp looks like a hot lead');
    await h.say('qualifier', 'call memory_save {"text":"Globex asked for a demo on Friday"}');
    await h.say('qualifier', 'Initech is not a fit');
  });
  afterAll(async () => h?.close());

  it("returns another agent's daily log entries, newest first", async () => {
    const reply = await h.say('researcher', 'call read_agent_history {"agent":"qualifier"}');
    expect(reply).toContain("entries from qualifier's daily log, newest first:");
    const initech = reply.indexOf('**user:** Initech is not a fit');
    const globex = reply.indexOf('Globex asked for a demo on Friday');
    const acme = reply.indexOf('**user:** Acme Corp looks like a hot lead');
    expect(initech).toBeGreaterThan(-1);
    expect(globex).toBeGreaterThan(initech);
    expect(acme).toBeGreaterThan(globex);
    expect(reply).toMatch(new RegExp(`### ${today()} \\d{2}:\\d{2}:\\d{2} saved\\nGlobex asked for a demo on Friday`));
  });

  it('narrows by query and by date, and bounds the answer by limit', async () => {
    const acme = await h.say('researcher', 'call read_agent_history {"agent":"qualifier","query":"acme HOT"}');
    expect(acme).toContain(`1 entry from qualifier's daily log matching "acme HOT"`);
    expect(acme).toContain('Acme Corp looks like a hot lead');
    expect(acme).not.toContain('Initech');

    const day = await h.say('researcher', `call read_agent_history {"agent":"qualifier","date":"${today()}"}`);
    expect(day).toContain(`from qualifier's daily log on ${today()}`);
    expect(day).toContain('Initech is not a fit');
    expect(await h.say('researcher', 'call read_agent_history {"agent":"qualifier","date":"2001-02-03"}')).toContain(
      "no entries in qualifier's daily log on 2001-02-03",
    );

    const one = await h.say('researcher', 'call read_agent_history {"agent":"qualifier","limit":1}');
    expect(one).toContain("1 entry from qualifier's daily log, newest first (more match");
    expect(one).toContain('Initech is not a fit');
    expect(one).not.toContain('Globex');
  });

  it('refuses a reader outside can_read_history with the rule, and records the denial', async () => {
    const denied = await h.say('qualifier', 'call read_agent_history {"agent":"researcher"}');
    expect(denied).toContain('qualifier may not read the history of researcher: can_read_history is []');
    const events = await h.client.requestJson('GET', '/api/events?agent=qualifier&limit=50', EventListSchema);
    expect(events.events).toContainEqual(
      expect.objectContaining({
        kind: 'denied',
        subject: 'researcher',
        detail: expect.objectContaining({ permission: 'can_read_history' }),
      }),
    );
    const reads = await h.client.requestJson('GET', '/api/events?agent=researcher&limit=50', EventListSchema);
    expect(reads.events).toContainEqual(expect.objectContaining({ kind: 'history_read', subject: 'qualifier' }));
  });

  it('answers bad arguments and unknown agents with what is wrong', async () => {
    expect(await h.say('researcher', 'call read_agent_history {"agent":"qualifier","date":"2026-02-30"}')).toContain(
      'date: expected a real calendar date as YYYY-MM-DD',
    );
    expect(await h.say('researcher', 'call read_agent_history {"agent":"qualifier","date":"yesterday"}')).toContain(
      'date: expected a date as YYYY-MM-DD',
    );
    expect(await h.say('researcher', 'call read_agent_history {"agent":"qualifier","limit":500}')).toContain(
      'limit: expected a limit from 1 to 50',
    );
    expect(await h.say('researcher', 'call read_agent_history {"agent":"ghost"}')).toContain('no agent named "ghost"');
    expect(await h.say('researcher', 'call read_agent_history {"agent":"researcher"}')).toContain(
      'read_agent_history reads other agents',
    );
  });

  it('refuses at once when the agent to read is not running', async () => {
    await h.runtime.kill('scout');
    const deadline = Date.now() + 20_000;
    while ((await h.mesh.status()).agents.find((a) => a.name === 'scout')?.health !== 'failed') {
      if (Date.now() > deadline) throw new Error('scout was not marked failed in time');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await h.say('researcher', 'call read_agent_history {"agent":"scout"}')).toMatch(
      /read_agent_history failed: agent scout is not running \(failed/,
    );
  });
});
