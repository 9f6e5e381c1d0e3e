// Files in .legion/ through which the CLI finds a running mesh: mesh.json (where it
// listens, its pid) and admin.token (mode 0600). The mesh writes them once it is
// listening and removes them when it stops.
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';

/** mesh.json. Checked by hand rather than with zod: every CLI command reads it, and
 *  zod would add about 100 ms to `legion chat -m`. */
export interface MeshInfo {
  pid: number;
  admin_url: string;
  agent_api_url: string;
  started_at: string;
}

function isMeshInfo(json: unknown): json is MeshInfo {
  if (typeof json !== 'object' || json === null) return false;
  const info = json as Record<string, unknown>;
  return (
    Number.isInteger(info.pid) &&
    typeof info.admin_url === 'string' &&
    typeof info.agent_api_url === 'string' &&
    typeof info.started_at === 'string'
  );
}

export function stateDir(projectDir: string): string {
  return join(resolve(projectDir), '.legion');
}

export const statePaths = (projectDir: string) => {
  const dir = stateDir(projectDir);
  return {
    dir,
    meshInfo: join(dir, 'mesh.json'),
    adminToken: join(dir, 'admin.token'),
    pid: join(dir, 'mesh.pid'),
    log: join(dir, 'mesh.log'),
    startLog: join(dir, 'start.log'),
  };
};

export function readMeshInfo(projectDir: string): MeshInfo | null {
  const path = statePaths(projectDir).meshInfo;
  if (!existsSync(path)) return null;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null; // half-written or damaged: treated as no running mesh
  }
  return isMeshInfo(json) ? json : null;
}

/** A short stable id for a project directory; labels its containers. */
export function projectId(projectDir: string): string {
  const real = existsSync(projectDir) ? realpathSync(projectDir) : resolve(projectDir);
  return createHash('sha256').update(real).digest('hex').slice(0, 10);
}
