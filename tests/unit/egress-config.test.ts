// mesh.egress_port in config/mesh.yaml: port + 1 by default, its own port when set, and
// an error naming the key when it would collide with the agent API's port.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ConfigError, loadProject } from '../../src/shared/config/project.js';
import { egressPort } from '../../src/shared/config/schema.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function load(meshLine: string): ReturnType<typeof loadProject> {
  const dir = mkdtempSync(join(tmpdir(), 'legion-egress-config-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'config'));
  writeFileSync(join(dir, 'config', 'mesh.yaml'), `${meshLine}\nllm:\n  default_model: openai/gpt-4o-mini\n`);
  return loadProject(dir, {});
}

function errorLines(meshLine: string): string[] {
  try {
    load(meshLine);
  } catch (err) {
    if (err instanceof ConfigError) return err.lines;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('mesh.egress_port', () => {
  it('defaults to the agent API port + 1, with or without a mesh section', () => {
    expect(egressPort(load('mesh: { port: 9000 }').mesh.mesh)).toBe(9001);
    expect(egressPort(load('').mesh.mesh)).toBe(8421);
  });

  it('takes a port of its own', () => {
    expect(egressPort(load('mesh: { port: 9000, egress_port: 7000 }').mesh.mesh)).toBe(7000);
  });

  it('refuses the agent API port, and port 65535 without an explicit egress_port', () => {
    const message =
      'config/mesh.yaml: mesh.egress_port: the egress proxy needs a port of its own: set mesh.egress_port to a port other than mesh.port';
    expect(errorLines('mesh: { port: 9000, egress_port: 9000 }')).toEqual([message]);
    expect(errorLines('mesh: { port: 65535 }')).toEqual([message]);
    expect(errorLines('mesh: { port: 9000, egress_port: 70000 }')).toEqual([
      expect.stringMatching(/^config\/mesh\.yaml: mesh\.egress_port: .*65535/),
    ]);
  });
});
