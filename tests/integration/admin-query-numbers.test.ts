// Counts in admin API queries (limit, after) are whole numbers written as digits: `1e3`,
// `0x10`, ` 5` or an empty value are refused with a 400 naming the parameter, never read
// as some other number (z.coerce took `after=` for 0 and `limit=1e3` for 1000).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';

const Anything = z.unknown();

describe('admin API query numbers', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ agentsYaml: 'agents:\n  counter: { role: counts }\n' });
  }, 60_000);
  afterAll(async () => h?.close());

  const paths = [
    ['/api/events?limit=', 'limit'],
    ['/api/events?after=', 'after'],
    ['/api/workflow-runs?limit=', 'limit'],
    ['/api/heartbeat?limit=', 'limit'],
  ] as const;

  for (const [path, name] of paths) {
    it(`refuses ${path}<not digits>, naming ${name}`, async () => {
      for (const bad of ['1e3', '0x10', '%205', '', '-1', '2.5']) {
        await expect(h.client.requestJson('GET', `${path}${bad}`, Anything), `${path}${bad}`).rejects.toThrow(
          new RegExp(`\\b${name}\\b.*whole number|whole number.*\\b${name}\\b`),
        );
      }
      await expect(h.client.requestJson('GET', `${path}7`, Anything)).resolves.toBeDefined();
    });
  }
});
