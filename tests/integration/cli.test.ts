// The CLI as a user meets it when something is wrong: each problem gets one clear
// message naming what to fix, exit code 1, and no stack trace.
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { freePort, legion, makeProject, type TestProject } from '../helpers/project.js';

const projects: TestProject[] = [];
async function project(options: Partial<Parameters<typeof makeProject>[0]> = {}): Promise<TestProject> {
  const p = makeProject({ port: await freePort(), openaiBaseUrl: 'http://127.0.0.1:9/v1', ...options });
  projects.push(p);
  return p;
}

afterEach(() => {
  for (const p of projects.splice(0)) p.cleanup();
});

function expectCleanError(result: { code: number; stderr: string }, pattern: RegExp): void {
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
}

describe('legion CLI errors', () => {
  it('says the mesh is not running', async () => {
    const p = await project();
    expectCleanError(await legion(['status'], p.dir), /the legion mesh is not running in .*legion start/);
    expectCleanError(await legion(['chat', 'assistant', '-m', 'hi'], p.dir), /not running/);
    expectCleanError(
      await legion(['chat', 'assistant', '--history'], p.dir),
      /the legion mesh is not running in .*legion start/,
    );
    const stop = await legion(['stop'], p.dir);
    expect(stop).toMatchObject({ code: 0, stdout: `nothing to stop: no legion mesh is running in ${p.dir}\n` });
  });

  it('says a directory is not a project to status and chat', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'legion-not-project-'));
    try {
      for (const args of [['status'], ['chat', 'assistant', '-m', 'hi'], ['stop']]) {
        expectCleanError(
          await legion(args, dir),
          new RegExp(`${dir} is not a legion project \\(no config/mesh\\.yaml\\).*legion setup`),
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says a directory is not a project', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'legion-empty-'));
    try {
      expectCleanError(await legion(['start', '-d'], dir), /no config\/mesh\.yaml .* not a legion project/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the file, key path and expectation of a config error', async () => {
    const p = await project({
      agentsYaml: 'agents:\n  researcher:\n    role: research\n    resources: { cpu_limit: lots }\n    colour: blue\n',
    });
    const result = await legion(['start', '-d'], p.dir);
    expectCleanError(result, /config\/agents\.yaml: agents\.researcher\.resources\.cpu_limit: expected a number/);
    expect(result.stderr).toMatch(/config\/agents\.yaml: agents\.researcher: unknown key "colour"/);
  });

  it('names the variable to set when no key is configured', async () => {
    const p = await project({ apiKey: null, openaiBaseUrl: undefined });
    expectCleanError(
      await legion(['start', '-d'], p.dir),
      /no API key for provider openai: set LEGION_CRED_OPENAI_API_KEY in \.env/,
    );
  });

  it('says the port is taken', async () => {
    const p = await project();
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(p.port, '127.0.0.1', () => r()));
    try {
      expectCleanError(await legion(['start', '-d'], p.dir), new RegExp(`port ${p.port} on 127\\.0\\.0\\.1 is taken`));
    } finally {
      blocker.close();
    }
  });

  it('says Docker is not reachable', async () => {
    const p = await project();
    const result = await legion(['start', '-d'], p.dir, { DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    expectCleanError(result, /Docker is not reachable/);
  });

  it('adds, lists and removes agents in config without a running fleet', async () => {
    const p = await project();
    const add = await legion(
      ['agent', 'add', 'writer', '--role', 'writes copy', '--model', 'anthropic/claude-sonnet-4-5'],
      p.dir,
    );
    expect(add.code).toBe(0);
    const list = await legion(['agent', 'list'], p.dir);
    expect(list.stdout).toMatch(/writer\s+anthropic\/claude-sonnet-4-5\s+writes copy/);
    expect(list.stdout).toMatch(/assistant\s+openai\/gpt-4o-mini/);
    expectCleanError(await legion(['agent', 'add', 'writer'], p.dir), /already exists/);
    expectCleanError(await legion(['agent', 'add', 'Writer_2'], p.dir), /invalid agent name "Writer_2"/);
    expectCleanError(await legion(['agent', 'remove', 'writer'], p.dir), /pass --yes/);
    expect((await legion(['agent', 'remove', 'writer', '--yes'], p.dir)).code).toBe(0);
    expect(readFileSync(join(p.dir, 'config', 'agents.yaml'), 'utf8')).not.toContain('writer');
    expectCleanError(await legion(['agent', 'remove', 'ghost', '--yes'], p.dir), /no agent named "ghost"/);
  });

  it('leaves agents.yaml untouched when an edit would make it invalid', async () => {
    const p = await project();
    const before = readFileSync(join(p.dir, 'config', 'agents.yaml'), 'utf8');
    expectCleanError(
      await legion(['agent', 'add', 'bad-model', '--model', 'gpt4'], p.dir),
      /agents\.bad-model\.model: expected "provider\/model"/,
    );
    expect(readFileSync(join(p.dir, 'config', 'agents.yaml'), 'utf8')).toBe(before);
  });

  // 17 CLI processes one after another: on a loaded 2-core machine that can pass the default 30 s.
  it('has --help for every command', async () => {
    const p = await project();
    for (const args of [
      [],
      ['start'],
      ['chat'],
      ['status'],
      ['stop'],
      ['agent'],
      ['agent', 'add'],
      ['agent', 'list'],
      ['agent', 'remove'],
      ['image', 'build'],
      ['blackboard', 'get'],
      ['blackboard', 'set'],
      ['blackboard', 'list'],
      ['blackboard', 'del'],
      ['blackboard', 'watch'],
      ['logs'],
      ['permissions', 'starter'],
    ]) {
      const result = await legion([...args, '--help'], p.dir);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/Usage: legion/);
    }
  }, 120_000);
});
