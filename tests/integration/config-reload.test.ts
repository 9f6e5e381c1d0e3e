// Editing config/agents.yaml and config/mesh.yaml while the fleet runs, through the
// real mesh with agent processes: a valid edit adds, removes and restarts exactly the
// agents it names (a removed agent's data stays), an invalid edit is refused with
// file, line and key path in `legion status` and the log while the previous config
// stays in force, and a mesh.yaml setting read only at start says it waits for one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { legion } from '../helpers/project.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';

const AGENTS =
  'agents:\n  alpha:\n    role: first\n  beta:\n    role: second\n  gamma:\n    role: third\n    system_prompt: Speak plainly.\n';
const EDITED =
  'agents:\n  alpha:\n    role: first\n  gamma:\n    role: third\n    system_prompt: Answer in haiku.\n  delta:\n    role: fourth\n';

async function eventually<T>(what: string, probe: () => Promise<T | null> | T | null, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The `msg` of every mesh log line, as a person reading the log sees it. */
function logMessages(h: Harness): string[] {
  return h
    .meshLog()
    .split('\n')
    .filter(Boolean)
    .map((line) => String((JSON.parse(line) as { msg?: unknown }).msg ?? ''));
}

describe('config reload while running', () => {
  let h: Harness;
  const writeAgents = (yaml: string) => writeFileSync(join(h.project.dir, 'config', 'agents.yaml'), yaml);
  const writeMesh = (yaml: string) => writeFileSync(join(h.project.dir, 'config', 'mesh.yaml'), yaml);
  const containers = async () =>
    Object.fromEntries((await h.mesh.status()).agents.map((a) => [a.name, `${a.health}:${a.container?.id ?? '-'}`]));

  beforeAll(async () => {
    h = await startHarness({ agentsYaml: AGENTS });
  });
  afterAll(async () => h?.close());

  it('applies a valid edit: adds, removes (keeping its data) and restarts only the changed agent', async () => {
    const before = await containers();
    expect(Object.keys(before)).toEqual(['alpha', 'beta', 'gamma']);
    writeAgents(EDITED);
    await eventually('the edit to apply', () =>
      h
        .meshLog()
        .includes('config/agents.yaml: changed agent gamma (system_prompt): restarted with the new settings') &&
      h.meshLog().includes('added agent delta: started')
        ? true
        : null,
    );
    await eventually('beta to be removed', () =>
      h.meshLog().includes('config/agents.yaml: removed agent beta: stopped; its data is kept') ? true : null,
    );

    const after = await containers();
    expect(Object.keys(after).sort()).toEqual(['alpha', 'delta', 'gamma']);
    expect(after.alpha).toBe(before.alpha);
    expect(after.gamma).not.toBe(before.gamma);
    expect(after.gamma).toMatch(/^healthy:/);
    expect(after.delta).toMatch(/^healthy:/);
    expect(await h.runtime.state('beta')).toBeNull();
    expect(existsSync(h.runtime.dataDir('beta'))).toBe(true);

    await h.say('gamma', 'hello');
    const call = await h.waitForCall('gamma', /hello/);
    expect(call.messages.find((m) => m.role === 'system')?.content).toContain('Answer in haiku.');
    await h.say('delta', 'hello');

    const status = await legion(['status'], h.project.dir);
    expect(status.code).toBe(0);
    expect(status.stdout).not.toContain('config:');
  });

  it('refuses an invalid edit with file, line and key path; the previous config stays until it is fixed', async () => {
    const running = await containers();
    writeAgents(
      'agents:\n  alpha:\n    role: first\n  gamma:\n    role: third\n    sytem_prompt: typo\n  delta:\n    role: fourth\n',
    );
    const expected = 'config/agents.yaml:6: agents.gamma: unknown key "sytem_prompt"';
    const status = await eventually('legion status to show the refused edit', async () => {
      const result = await legion(['status'], h.project.dir);
      return result.stdout.includes(expected) ? result : null;
    });
    expect(status.stdout).toContain(`config: an edit was refused, the previous config stays in force:\n${expected}\n`);
    expect(h.meshLog()).toContain('config: an edit was refused, the previous config stays in force');
    const refused = logMessages(h).find((line) => line.startsWith('config: an edit was refused'));
    expect(refused).toContain(expected);
    expect(await containers()).toEqual(running);
    expect(await h.say('gamma', 'still there?')).toBeTruthy();

    writeAgents(EDITED);
    await eventually('the fix to clear the problem', async () =>
      (await legion(['status'], h.project.dir)).stdout.includes('config:') ? null : true,
    );
    expect(h.meshLog()).toContain('config: the files are valid again');
    expect(await containers()).toEqual(running);
  });

  it('applies mesh.yaml settings that can change at run time, and says which ones wait for a restart', async () => {
    const port = h.project.port;
    writeMesh(
      `mesh: { host: 127.0.0.1, port: ${port + 7}, lane_depth_cap: 7 }\nllm:\n  default_model: openai/gpt-4o-mini\n  providers:\n    openai: {}\n    anthropic: {}\n`,
    );
    const waiting = 'config/mesh.yaml: changed mesh.port: takes effect at the next `legion start`';
    const status = await eventually('legion status to show the waiting setting', async () => {
      const result = await legion(['status'], h.project.dir);
      return result.stdout.includes(waiting) ? result : null;
    });
    expect(status.stdout).toContain(h.mesh.adminUrl);
    expect(h.meshLog()).toContain(waiting);
    expect(h.meshLog()).toContain('config/mesh.yaml: changed mesh.lane_depth_cap: applied');
    expect((await h.mesh.status()).agents.every((a) => a.lane.cap === 7)).toBe(true);
  });
});
