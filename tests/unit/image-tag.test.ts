// The agent image tag changes exactly when something that goes into the image does.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { imageTag } from '../../src/mesh/runtime/image.js';
import { PACKAGE_ROOT } from '../../src/shared/paths.js';

const roots: string[] = [];
afterEach(() => roots.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function fakeRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'legion-image-'));
  roots.push(root);
  for (const dir of ['dist/agent-bundle', 'dist/agent', 'dist/mesh', 'agent-image/workspace'])
    mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, 'Dockerfile.agent'), 'FROM x\n');
  writeFileSync(join(root, 'agent-image/package.json'), '{}');
  writeFileSync(join(root, 'agent-image/package-lock.json'), '{}');
  writeFileSync(join(root, 'agent-image/workspace/AGENTS.md'), '# agents\n');
  writeFileSync(join(root, 'dist/agent-bundle/main.js'), 'console.log(1)\n');
  writeFileSync(join(root, 'dist/agent/main.js'), 'export {}\n');
  writeFileSync(join(root, 'dist/mesh/server.js'), 'export {}\n');
  return root;
}

const spec = { baseImage: 'node:20-bookworm-slim', extraCaPath: null };

describe('imageTag', () => {
  it('is stable for an unchanged tree and changes with agent code, workspace defaults, base image and CA', () => {
    const root = fakeRoot();
    const tag = imageTag(spec, root);
    expect(tag).toMatch(/^legion-agent:[0-9a-f]{12}$/);
    expect(imageTag(spec, root)).toBe(tag);

    // Only the bundle goes into the image: the unbundled modules and the mesh's do not count.
    writeFileSync(join(root, 'dist/mesh/server.js'), 'export const changed = 1\n');
    writeFileSync(join(root, 'dist/agent/main.js'), 'export const changed = 1\n');
    expect(imageTag(spec, root)).toBe(tag);

    writeFileSync(join(root, 'dist/agent-bundle/main.js'), 'console.log(2)\n');
    const afterCode = imageTag(spec, root);
    expect(afterCode).not.toBe(tag);

    writeFileSync(join(root, 'agent-image/workspace/SOUL.md'), 'soul\n');
    expect(imageTag(spec, root)).not.toBe(afterCode);

    expect(imageTag({ ...spec, baseImage: 'local/node:20' }, root)).not.toBe(imageTag(spec, root));
    writeFileSync(join(root, 'ca.pem'), 'PEM');
    expect(imageTag({ ...spec, extraCaPath: join(root, 'ca.pem') }, root)).not.toBe(imageTag(spec, root));
  });

  it('asks for a build when the agent server is not compiled', () => {
    const root = fakeRoot();
    rmSync(join(root, 'dist/agent-bundle/main.js'));
    expect(() => imageTag(spec, root)).toThrow(/run npm run build/);
  });
});

describe('agent-image/package.json', () => {
  it('pins the same versions as the root package.json', () => {
    const read = (path: string) =>
      JSON.parse(readFileSync(join(PACKAGE_ROOT, path), 'utf8')) as { dependencies: Record<string, string> };
    const root = read('package.json').dependencies;
    const agent = read('agent-image/package.json').dependencies;
    for (const [name, version] of Object.entries(agent))
      expect({ name, version }).toEqual({ name, version: root[name] });
    const lock = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'agent-image/package-lock.json'), 'utf8')) as {
      packages: Record<string, { dependencies?: Record<string, string> }>;
    };
    expect(lock.packages['']?.dependencies).toEqual(agent);
  });
});
