// `legion doctor` as a user runs it, without a Docker engine (DOCKER_HOST points at a
// socket nothing listens on, so these runs do not depend on the machine's Docker): a
// stopped engine is a clear failure with how to start it, a missing key is named by
// its variable with nothing key-like printed, bad file modes and an invalid permissions
// file fail with their fixes, a directory that is no project skips the project checks,
// and a running mesh's ports count as its own. The run against a live engine is in
// tests/e2e/doctor.test.ts.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { freePort, legion, makeProject, type TestProject } from '../helpers/project.js';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';

const NO_DOCKER = { DOCKER_HOST: 'unix:///tmp/nothing.sock', NO_COLOR: '1' };
const UNUSED_SECRET = `ghp_doctor${Math.random().toString(36).slice(2)}Secret`;

const projects: TestProject[] = [];
async function project(options: Partial<Parameters<typeof makeProject>[0]> = {}): Promise<TestProject> {
  const p = makeProject({ port: await freePort(), ...options });
  projects.push(p);
  return p;
}
afterEach(() => projects.splice(0).forEach((p) => p.cleanup()));

/** The line of one check (and the lines under it up to the next check). */
function section(stdout: string, check: string): string {
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) =>
    new RegExp(`^(ok|warn|fail|skip)\\s+${check.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s{2}`).test(line),
  );
  if (start < 0) throw new Error(`no ${check} line in:\n${stdout}`);
  const end = lines.findIndex((line, i) => i > start && (line === '' || /^(ok|warn|fail|skip)\s/.test(line)));
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

describe('legion doctor without a Docker engine', () => {
  it('reports a stopped engine clearly, with how to start it, and exits 1', async () => {
    // Both ports picked free: the default egress port (port + 1) may be anyone's.
    const port = await freePort();
    let egress = await freePort();
    while (egress === port) egress = await freePort();
    const meshYaml = `mesh: { host: 127.0.0.1, port: ${port}, egress_port: ${egress} }\nllm:\n  default_model: openai/gpt-4o-mini\n  providers:\n    openai: {}\n`;
    const p = await project({ port, meshYaml });
    const result = await legion(['doctor'], p.dir, NO_DOCKER);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('');
    expect(section(result.stdout, 'docker')).toMatch(
      /^fail {2}docker +Docker is not reachable at DOCKER_HOST=unix:\/\/\/tmp\/nothing\.sock: .*\n +fix: start the Docker engine: sudo systemctl start docker, or point DOCKER_HOST at a running engine/,
    );
    expect(section(result.stdout, 'agent image')).toMatch(/^skip +agent image +not checked: Docker is not reachable$/);
    expect(section(result.stdout, 'agent sandbox')).toMatch(
      /^skip +agent sandbox +not checked: Docker is not reachable$/,
    );
    expect(section(result.stdout, 'browser image')).toMatch(
      /^skip +browser image +not checked: Docker is not reachable$/,
    );
    for (const check of ['node', 'config', 'permissions', '.env', 'key openai', `port ${port}`, `port ${egress}`]) {
      expect(section(result.stdout, check)).toMatch(/^ok /);
    }
    expect(result.stdout).toMatch(
      /\n\n\d+ ok, \d+ warnings?, 1 failed, 4 skipped: legion will not work until the failures above are fixed\n$/,
    );
    expect(result.stdout).not.toContain(p.secret);
  });

  it('reports a missing key by its variable and prints nothing key-like', async () => {
    const p = await project({ apiKey: null });
    appendFileSync(join(p.dir, '.env'), `LEGION_CRED_GITHUB_TOKEN=${UNUSED_SECRET}\n`);
    const result = await legion(['doctor'], p.dir, NO_DOCKER);
    expect(result.code).toBe(1);
    expect(section(result.stdout, 'key openai')).toBe(
      [
        'fail  key openai         no API key for provider openai (used by llm.default_model, agent assistant)',
        '                         fix: set LEGION_CRED_OPENAI_API_KEY in .env (keep it mode 0600) or the environment',
      ].join('\n'),
    );
    expect(result.stdout + result.stderr).not.toContain(UNUSED_SECRET);
    expect(result.stdout + result.stderr).not.toMatch(/ghp_|sk-/);
  });

  it('never prints a key that is set, not even its start', async () => {
    const p = await project();
    const result = await legion(['doctor', '--json'], p.dir, NO_DOCKER);
    expect(result.stdout).toContain('LEGION_CRED_OPENAI_API_KEY is set in .env');
    expect(result.stdout).not.toContain(p.secret.slice(0, 12));
  });

  it('fails a readable .env and an invalid permissions file, as JSON for scripts', async () => {
    const p = await project();
    chmodSync(join(p.dir, '.env'), 0o644);
    writeFileSync(join(p.dir, 'config', 'permissions.yaml'), 'agents:\n  assistant:\n    blackboard_read: "*"\n');
    const result = await legion(['doctor', '--json'], p.dir, NO_DOCKER);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      project_dir: string;
      checks: { check: string; status: string; detail: string; hint?: string }[];
    };
    expect(report.ok).toBe(false);
    const byName = new Map(report.checks.map((c) => [c.check, c]));
    expect(byName.get('.env')).toEqual({
      check: '.env',
      status: 'fail',
      detail: 'mode 644: its group and every user may read or change the keys in it',
      hint: 'chmod 600 .env',
    });
    expect(byName.get('permissions')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('config/permissions.yaml: agents.assistant.blackboard_read: '),
    });
    expect(byName.get('config')?.status).toBe('ok');
  });

  it('warns about allowlist entries that point at this machine or at the model server, with the fix', async () => {
    const p = await project({ openaiBaseUrl: 'http://127.0.0.1:11434/v1' });
    writeFileSync(
      join(p.dir, 'config', 'permissions.yaml'),
      'agents:\n  assistant:\n    allowed_apis: [llm]\n    allowed_domains: ["pypi.org", "127.0.0.1", "localhost:11434"]\n',
    );
    const result = await legion(['doctor'], p.dir, NO_DOCKER);
    expect(section(result.stdout, 'egress allowlist')).toMatch(
      new RegExp(
        [
          '^warn +egress allowlist +config/permissions\\.yaml: agents\\.assistant\\.allowed_domains: "127\\.0\\.0\\.1" points at this machine, where the egress proxy opens only an entry naming host:port exactly, so it opens nothing',
          ' +config/permissions\\.yaml: agents\\.assistant\\.allowed_domains: "localhost:11434" points at the endpoint of LLM provider openai \\(http://127\\.0\\.0\\.1:11434/v1\\); .*metered LLM route',
          ' +fix: replace "127\\.0\\.0\\.1" with 127\\.0\\.0\\.1:<port> for the one service agents need, or remove it',
          ' +remove "localhost:11434" from config/permissions\\.yaml: agents\\.assistant\\.allowed_domains$',
        ].join('\n'),
      ),
    );
  });

  it('skips what needs a valid configuration and names what is wrong', async () => {
    const p = await project({ agentsYaml: 'agents:\n  assistant:\n    role: helper\n    colour: blue\n' });
    const result = await legion(['doctor'], p.dir, NO_DOCKER);
    expect(result.code).toBe(1);
    expect(section(result.stdout, 'config')).toContain('config/agents.yaml: agents.assistant: unknown key "colour"');
    expect(result.stdout).toMatch(
      /^skip +project +the workflows, agent image, agent sandbox, keys, ports and egress protection need a valid configuration/m,
    );
  });

  it('fails a port something else listens on', async () => {
    const p = await project();
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(p.port, '127.0.0.1', r));
    try {
      const result = await legion(['doctor'], p.dir, NO_DOCKER);
      expect(section(result.stdout, `port ${p.port}`)).toMatch(
        new RegExp(
          `^fail +port ${p.port} +admin and agent API \\(mesh\\.port\\): 127\\.0\\.0\\.1:${p.port} is not available: something already listens there\\n +fix: stop what uses it`,
        ),
      );
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('outside a project runs only the machine checks and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'legion-doctor-empty-'));
    try {
      const result = await legion(['doctor'], dir, NO_DOCKER);
      expect(result.code).toBe(1); // the stopped engine
      expect(
        result.stdout
          .split('\n')
          .filter((line) => /^(ok|warn|fail|skip) /.test(line))
          .map((line) => line.split(/\s+/)[1]),
      ).toEqual(['node', 'docker', 'project']);
      expect(section(result.stdout, 'project')).toContain(
        `no config/mesh.yaml in ${dir}: not a legion project directory, so the project checks`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("legion doctor while the project's mesh runs", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ agentsYaml: 'agents:\n  medic:\n    role: checks things\n' });
  });
  afterAll(async () => h?.close());

  it("counts the mesh's ports as its own", async () => {
    const result = await legion(['doctor'], h.project.dir, NO_DOCKER);
    expect(section(result.stdout, `port ${h.project.port}`)).toMatch(
      new RegExp(
        `^ok +port ${h.project.port} +admin and agent API \\(mesh\\.port\\): in use by this project's running mesh \\(pid ${process.pid}\\)$`,
      ),
    );
    expect(section(result.stdout, 'egress protection')).toMatch(
      /^skip +egress protection +the running mesh does not run its agents in containers$/,
    );
  });
});
