// The MCP lines of `legion status`: a ready server in one line, a failed one with its
// error and when it is retried; nothing when no agent has MCP servers.
import { describe, expect, it } from 'vitest';
import { formatMcpServers } from '../../src/cli/mcp-status.js';

describe('formatMcpServers', () => {
  it('shows each server, and for a failed one its error and the next retry', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const text = formatMcpServers(
      [
        {
          agent: 'scout',
          server: 'files',
          transport: 'stdio',
          state: 'ready',
          error: null,
          tools: 1,
          restarts: 0,
          next_retry_at: null,
        },
        {
          agent: 'scout',
          server: 'github',
          transport: 'http',
          state: 'failed',
          error: 'connect ECONNREFUSED 127.0.0.1:9',
          tools: 0,
          restarts: 3,
          next_retry_at: '2026-01-01T00:00:08Z',
        },
      ],
      now,
    );
    expect(text.split('\n')).toEqual([
      'MCP servers:',
      '  scout/files (stdio): ready, 1 tool allowed, 0 restarts',
      '  scout/github (http): failed, 0 tools allowed, 3 restarts',
      '    connect ECONNREFUSED 127.0.0.1:9; retrying in 8 s',
    ]);
    expect(formatMcpServers([])).toBe('');
  });
});
