// memory_search and memory_save: the agent's long-term memory in its workspace.
import { z } from 'zod';
import type { WorkspaceMemory } from '../memory/workspace-memory.js';
import { defineTool, type Tool } from './registry.js';

export function createMemoryTools(memory: WorkspaceMemory): Tool[] {
  return [
    defineTool({
      name: 'memory_search',
      description:
        'Search your memory (the markdown files of your workspace, daily logs included) for what you know about something. Returns path, line range, snippet and score.',
      schema: z.object({ query: z.string().min(1), limit: z.int().min(1).max(50).optional() }),
      run: async ({ query, limit }) => {
        const response = await memory.search(query, limit);
        const header =
          response.mode === 'bm25' ? `keyword search (BM25; ${response.reason})` : 'hybrid search (keywords + vectors)';
        if (response.results.length === 0) return { ok: true, output: `${header}: nothing found for "${query}"` };
        const lines = response.results.map(
          (r) =>
            `${r.path}:${r.start_line}-${r.end_line} score ${r.score.toFixed(3)}${r.heading ? ` (${r.heading})` : ''}\n${r.snippet}`,
        );
        return { ok: true, output: `${header}:\n${lines.join('\n\n')}` };
      },
    }),
    defineTool({
      name: 'memory_save',
      description:
        "Save something worth remembering to today's log (memory/YYYY-MM-DD.md); it is searchable at once and in later sessions.",
      schema: z.object({ text: z.string().min(1).max(8000) }),
      run: async ({ text }) => ({ ok: true, output: `saved to ${await memory.save(text)}` }),
    }),
  ];
}
