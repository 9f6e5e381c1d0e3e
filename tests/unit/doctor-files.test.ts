// legion doctor's file checks on real temp projects: .env must be owner-only, the
// configuration, the permissions file and the workflows are validated as the mesh
// validates them, and a missing permissions file means the starter policy.
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkConfig,
  checkEnvFile,
  checkPermissionsFile,
  checkWorkflows,
  envFileState,
} from '../../src/cli/doctor/files.js';
import { loadProject } from '../../src/shared/config/project.js';
import { makeProject, type TestProject } from '../helpers/project.js';

const projects: TestProject[] = [];
afterEach(() => projects.splice(0).forEach((p) => p.cleanup()));

function project(): TestProject {
  const p = makeProject({ port: 8420 });
  projects.push(p);
  return p;
}

describe('checkEnvFile', () => {
  it('passes 0600 and stricter', () => {
    const p = project();
    expect(checkEnvFile(envFileState(p.dir, 'linux'))).toEqual({
      check: '.env',
      status: 'ok',
      detail: 'mode 600: only its owner may read it',
    });
    chmodSync(join(p.dir, '.env'), 0o400);
    expect(checkEnvFile(envFileState(p.dir, 'linux'))).toMatchObject({
      status: 'ok',
      detail: 'mode 400: only its owner may read it',
    });
  });

  it('fails a .env its group or every user may read, with chmod 600 as the fix', () => {
    const p = project();
    chmodSync(join(p.dir, '.env'), 0o644);
    expect(checkEnvFile(envFileState(p.dir, 'linux'))).toEqual({
      check: '.env',
      status: 'fail',
      detail: 'mode 644: its group and every user may read or change the keys in it',
      hint: 'chmod 600 .env',
    });
    chmodSync(join(p.dir, '.env'), 0o640);
    expect(checkEnvFile(envFileState(p.dir, 'linux'))).toMatchObject({
      status: 'fail',
      detail: 'mode 640: its group may read or change the keys in it',
      hint: 'chmod 600 .env',
    });
  });

  it('is fine without a .env (the key checks report a missing key)', () => {
    const p = project();
    rmSync(join(p.dir, '.env'));
    expect(checkEnvFile(envFileState(p.dir, 'linux'))).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('no .env'),
    });
  });
});

describe('checkConfig', () => {
  it('loads a valid project and names its agents', () => {
    const p = project();
    const { result, project: loaded } = checkConfig(p.dir, {});
    expect(result).toEqual({
      check: 'config',
      status: 'ok',
      detail: 'config/mesh.yaml and config/agents.yaml are valid (agents: assistant)',
    });
    expect(loaded?.agents.assistant?.role).toBe('general assistant');
  });

  it('fails with the file, the key path and what was expected', () => {
    const p = project();
    writeFileSync(join(p.dir, 'config', 'agents.yaml'), 'agents:\n  assistant:\n    role: helper\n    colour: blue\n');
    const { result, project: loaded } = checkConfig(p.dir, {});
    expect(loaded).toBeNull();
    expect(result.status).toBe('fail');
    expect(result.detail).toContain('config/agents.yaml: agents.assistant: unknown key "colour"');
    expect(result.hint).toContain('docs/configuration.md');
  });
});

describe('checkPermissionsFile', () => {
  it('says the starter policy applies when there is no file', () => {
    expect(checkPermissionsFile(project().dir)).toMatchObject({
      check: 'permissions',
      status: 'ok',
      detail: expect.stringContaining('the starter policy applies'),
    });
  });

  it('passes a valid file and names who it lists', () => {
    const p = project();
    writeFileSync(
      join(p.dir, 'config', 'permissions.yaml'),
      'default:\n  allowed_apis: [llm]\nagents:\n  assistant:\n    allowed_apis: [llm]\n    blackboard_read: ["*"]\n',
    );
    expect(checkPermissionsFile(p.dir)).toEqual({
      check: 'permissions',
      status: 'ok',
      detail: 'config/permissions.yaml is valid (agents: assistant, and a default entry)',
    });
  });

  it('fails an invalid file with the key path, and two files at once', () => {
    const p = project();
    writeFileSync(join(p.dir, 'config', 'permissions.yaml'), 'agents:\n  assistant:\n    can_fly: true\n');
    const invalid = checkPermissionsFile(p.dir);
    expect(invalid.status).toBe('fail');
    expect(invalid.detail).toContain('config/permissions.yaml: agents.assistant: unknown key "can_fly"');
    expect(invalid.hint).toContain('starter policy');

    writeFileSync(join(p.dir, 'config', 'permissions.json'), '{}');
    expect(checkPermissionsFile(p.dir)).toMatchObject({
      status: 'fail',
      detail: 'config/permissions.yaml and config/permissions.json both exist: keep one of them',
    });
  });
});

describe('checkWorkflows', () => {
  const pipeline = (agent: string) =>
    `name: pipeline\nsteps:\n  - id: draft\n    agent: ${agent}\n    input: "\${trigger.payload}"\n`;

  it('passes no workflows, and valid ones by name', () => {
    const p = project();
    expect(checkWorkflows(loadProject(p.dir, {}))).toEqual({
      check: 'workflows',
      status: 'ok',
      detail: 'none in config/workflows',
    });
    mkdirSync(join(p.dir, 'config', 'workflows'));
    writeFileSync(join(p.dir, 'config', 'workflows', 'pipeline.yaml'), pipeline('assistant'));
    expect(checkWorkflows(loadProject(p.dir, {}))).toEqual({
      check: 'workflows',
      status: 'ok',
      detail: '1 valid in config/workflows: pipeline',
    });
  });

  it('fails a workflow naming an agent that is not configured, naming the file and step', () => {
    const p = project();
    mkdirSync(join(p.dir, 'config', 'workflows'));
    writeFileSync(join(p.dir, 'config', 'workflows', 'pipeline.yaml'), pipeline('ghost'));
    const result = checkWorkflows(loadProject(p.dir, {}));
    expect(result.status).toBe('fail');
    expect(result.detail).toContain(
      'config/workflows/pipeline.yaml: steps.draft.agent: unknown agent "ghost" (agents: assistant)',
    );
  });
});
