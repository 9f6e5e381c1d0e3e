// `legion doctor` against the real Docker engine: on a valid project with the engine
// running and the agent image built it passes (exit 0, nothing failed, the engine's
// version and the current image shown); once the fleet runs, the mesh's ports count as
// its own and egress protection is what the running mesh installed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { freePort, legion, makeProject, type TestProject } from '../helpers/project.js';
import { dockerAvailable } from '../helpers/docker.js';
import { tearDownFleet } from '../helpers/fleet.js';

const available = await dockerAvailable();
const AGENT = 'triage';

function statusOf(stdout: string, check: string): string | undefined {
  return stdout
    .split('\n')
    .find((line) => line.split(/\s{2,}/)[1] === check)
    ?.split(/\s+/)[0];
}

describe.skipIf(!available)('legion doctor with real Docker', () => {
  let fake: FakeProvider;
  let project: TestProject;
  let egress: number;

  beforeAll(async () => {
    fake = await startFakeProvider();
    // Both ports picked free: the default egress port (port + 1) may be anyone's.
    const port = await freePort();
    egress = await freePort();
    while (egress === port) egress = await freePort();
    const meshYaml = `mesh: { host: 127.0.0.1, port: ${port}, egress_port: ${egress} }\nllm:\n  default_model: openai/gpt-4o-mini\n  providers:\n    openai: {}\n`;
    project = makeProject({
      port,
      meshYaml,
      openaiBaseUrl: fake.openaiBaseUrl,
      agentsYaml: `agents:\n  ${AGENT}:\n    role: checks the setup\n`,
    });
    // The image check wants the image of this code: build it now if it is missing.
    const built = await legion(['image', 'build'], project.dir);
    expect(built.code, built.stderr).toBe(0);
  });

  afterAll(async () => {
    await tearDownFleet(project);
    await fake?.close();
    project?.cleanup();
  });

  it('passes on a valid project with the engine running', async () => {
    const result = await legion(['doctor'], project.dir);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).not.toMatch(/^fail /m);
    expect(result.stdout).toMatch(/^ok {4}docker +Docker \S+ \(API [\d.]+, \S+\/\S+\) at /m);
    expect(result.stdout).toMatch(
      /^ok {4}agent image +legion-agent:[0-9a-f]{12} \(this code, from \S+.*\) is present$/m,
    );
    for (const check of [
      'node',
      'config',
      'permissions',
      '.env',
      'key openai',
      `port ${project.port}`,
      `port ${egress}`,
    ]) {
      expect(statusOf(result.stdout, check), check).toBe('ok');
    }
    expect(['ok', 'warn']).toContain(statusOf(result.stdout, 'egress protection'));
    expect(result.stdout).toMatch(/\n\n\d+ ok, \d+ warnings?, 0 failed: /);
    expect(result.stdout).not.toContain(project.secret);
  });

  it("counts the running fleet's ports as its own and reports the firewall it installed", async () => {
    const started = await legion(['start', '-d'], project.dir);
    expect(started.code, started.stderr).toBe(0);
    const result = await legion(['doctor', '--json'], project.dir);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      checks: { check: string; status: string; detail: string }[];
    };
    expect(report.ok).toBe(true);
    const byName = new Map(report.checks.map((c) => [c.check, c]));
    expect(byName.get(`port ${project.port}`)?.detail).toMatch(
      /^admin and agent API \(mesh\.port\): in use by this project's running mesh \(pid \d+\)$/,
    );
    expect(byName.get(`port ${egress}`)?.detail).toMatch(/in use by this project's running mesh/);
    expect(byName.get('egress protection')?.detail).toMatch(/^the running mesh: /);
  });
});
