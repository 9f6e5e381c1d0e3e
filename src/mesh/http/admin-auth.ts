// The admin API is guarded by one random token per mesh start, written to
// .legion/admin.token with mode 0600 so only the owner's CLI can read it. Agent
// tokens are never accepted here.
import { writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { LegionError } from '../../shared/errors.js';
import { newSecret, secretsEqual } from '../../shared/ids.js';
import { bearerToken } from './agent-auth.js';

export function writeAdminToken(path: string): string {
  const token = newSecret();
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return token;
}

export function requireAdminToken(app: FastifyInstance, token: string): void {
  app.addHook('onRequest', async (request) => {
    const given = bearerToken(request);
    if (!given || !secretsEqual(given, token)) {
      throw new LegionError(
        'unauthorized',
        'missing or invalid admin token (the CLI reads it from .legion/admin.token)',
      );
    }
  });
}
