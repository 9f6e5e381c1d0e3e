// Shared-state tools over the mesh's blackboard. A missing key is an answer, not a
// failure; a version conflict (409) and a denial (403) come back as tool errors whose
// text says what to do (the current version, or the rule that denied).
import { z } from 'zod';
import { LegionError } from '../../shared/errors.js';
import {
  BlackboardEntrySchema,
  BlackboardKeySchema,
  BlackboardPageSchema,
  BlackboardPrefixSchema,
  BlackboardWriteResultSchema,
  BLACKBOARD_TTL_MAX_S,
} from '../../shared/wire/blackboard.js';
import { defineTool, type Tool } from './registry.js';
import type { MeshRpc } from './mesh-rpc.js';

const PREVIEW_CHARS = 200;

export function createBlackboardTools(mesh: MeshRpc): Tool[] {
  return [
    defineTool({
      name: 'read_shared_state',
      description:
        'Read a key of the shared blackboard: its JSON value, version, writer and time. Conventional prefixes: tasks/, context/, signals/, history/, artifacts/.',
      schema: z.object({ key: BlackboardKeySchema }),
      run: async ({ key }, ctx) => {
        try {
          const entry = await mesh.call('/mesh/blackboard/get', { key }, BlackboardEntrySchema, ctx.trace);
          return { ok: true, output: JSON.stringify(entry, null, 2) };
        } catch (err) {
          if (err instanceof LegionError && err.code === 'not_found')
            return { ok: true, output: `nothing is stored at ${key}` };
          throw err;
        }
      },
    }),
    defineTool({
      name: 'write_shared_state',
      description:
        'Write a JSON value to a blackboard key. With expected_version the write only happens if the key is still at that version (0: only if it does not exist yet); ttl_s makes it expire.',
      schema: z.object({
        key: BlackboardKeySchema,
        value: z.unknown().describe('any JSON value'),
        expected_version: z.int().min(0).optional(),
        ttl_s: z.int().min(1).max(BLACKBOARD_TTL_MAX_S).optional(),
      }),
      run: async ({ key, value, expected_version, ttl_s }, ctx) => {
        const result = await mesh.call(
          '/mesh/blackboard/set',
          { key, value: value ?? null, expected_version, ttl_s },
          BlackboardWriteResultSchema,
          ctx.trace,
        );
        return {
          ok: true,
          output: `wrote ${result.key} at version ${result.version}${result.expires_at ? `, expires ${result.expires_at}` : ''}`,
        };
      },
    }),
    defineTool({
      name: 'list_shared_state',
      description:
        'List blackboard keys under a prefix (for example context/) that you may read, with versions and a preview of each value.',
      schema: z.object({ prefix: BlackboardPrefixSchema }),
      run: async ({ prefix }, ctx) => {
        const page = await mesh.call('/mesh/blackboard/list', { prefix }, BlackboardPageSchema, ctx.trace);
        if (page.entries.length === 0) return { ok: true, output: `no keys under ${prefix || '(everything)'}` };
        const lines = page.entries.map((e) => {
          const preview = JSON.stringify(e.value);
          return `${e.key} v${e.version} by ${e.writer}: ${preview.length > PREVIEW_CHARS ? `${preview.slice(0, PREVIEW_CHARS)}…` : preview}`;
        });
        return {
          ok: true,
          output: lines.join('\n') + (page.next_cursor ? '\n(more keys: list a narrower prefix)' : ''),
        };
      },
    }),
  ];
}
