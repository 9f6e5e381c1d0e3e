// Where legion's own files are: the package root holds dist/, agent-image/, config/,
// templates/ and Dockerfile.agent. Every module under src/<dir>/ or dist/<dir>/ is at
// a known depth below it.
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { readFileSync } from 'node:fs';

const here = dirname(fileURLToPath(import.meta.url));

/** src/shared or dist/shared -> package root. */
export const PACKAGE_ROOT = resolve(here, '..', '..');

export const LEGION_VERSION: string = (
  JSON.parse(readFileSync(resolve(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
