// Temp legion projects and a way to run the built CLI in them, as a user would.
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI = join(REPO_ROOT, 'dist', 'cli', 'index.js');

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export interface TestProject {
  dir: string;
  port: number;
  secret: string;
  cleanup: () => void;
}

export interface ProjectOptions {
  port: number;
  /** Written to .env as LEGION_OPENAI_BASE_URL (the fake provider). */
  openaiBaseUrl?: string;
  apiKey?: string | null;
  agentsYaml?: string;
  meshYaml?: string;
  projectMd?: string;
  /** The OCI runtime line added to mesh.yaml unless it has one: tests pin runc, so
   *  that gVisor runs only where a test asks for it (tests/e2e/gvisor.test.ts). */
  runtime?: string;
}

export function makeProject(options: ProjectOptions): TestProject {
  const dir = mkdtempSync(join(tmpdir(), 'legion-project-'));
  mkdirSync(join(dir, 'config'));
  const secret =
    options.apiKey === undefined ? `sk-test-${Math.random().toString(36).slice(2)}-secret` : (options.apiKey ?? '');
  const meshYaml =
    options.meshYaml ??
    `mesh: { host: 127.0.0.1, port: ${options.port} }\nllm:\n  default_model: openai/gpt-4o-mini\n  providers:\n    openai: {}\n    anthropic: {}\n`;
  writeFileSync(
    join(dir, 'config', 'mesh.yaml'),
    /^runtime:/m.test(meshYaml) ? meshYaml : `${meshYaml.trimEnd()}\nruntime: ${options.runtime ?? 'runc'}\n`,
  );
  writeFileSync(
    join(dir, 'config', 'agents.yaml'),
    options.agentsYaml ??
      'agents:\n  assistant:\n    role: general assistant\n    system_prompt: You are a helpful assistant.\n    resources: { memory_limit: 512m, cpu_limit: 0.5 }\n',
  );
  writeFileSync(join(dir, 'PROJECT.md'), options.projectMd ?? '# Test project\nWe are testing legion end to end.\n');
  const env = [
    options.apiKey === null ? '' : `LEGION_CRED_OPENAI_API_KEY=${secret}`,
    options.openaiBaseUrl ? `LEGION_OPENAI_BASE_URL=${options.openaiBaseUrl}` : '',
  ].filter(Boolean);
  writeFileSync(join(dir, '.env'), `${env.join('\n')}\n`, { mode: 0o600 });
  return { dir, port: options.port, secret, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI in `cwd`; provider keys of the caller's environment are not passed on. */
export function legion(
  args: string[],
  cwd: string,
  extraEnv: Record<string, string> = {},
  timeoutMs = 280_000,
): Promise<CliResult> {
  return new Promise((resolveResult, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
    delete env.LEGION_CRED_OPENAI_API_KEY;
    delete env.LEGION_CRED_ANTHROPIC_API_KEY;
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`legion ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveResult({ code: code ?? 1, stdout, stderr });
    });
  });
}
