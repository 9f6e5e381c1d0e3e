// agents.yaml `mcp_servers`, allowed_mcp_tools and MCP tool names: what a user writes is
// accepted or refused with a message naming the agent, the server and the fix; names
// the model sees round-trip; retries back off.
import { describe, expect, it } from 'vitest';
import { AgentsFileSchema } from '../../src/shared/config/schema.js';
import { PermissionsFileSchema } from '../../src/shared/config/permissions/schema.js';
import { decide } from '../../src/shared/config/permissions/policy.js';
import { mcpResultText, mcpRetryDelayMs, mcpToolName, splitMcpToolName } from '../../src/shared/mcp.js';
import { formatZodIssues } from '../../src/shared/zod-format.js';

function problems(servers: unknown): string[] {
  const parsed = AgentsFileSchema.safeParse({ agents: { scout: { role: 'r', mcp_servers: servers } } });
  return parsed.success ? [] : formatZodIssues('agents.yaml', parsed.error);
}

describe('mcp_servers in agents.yaml', () => {
  it('accepts a stdio and a remote server, and defaults to none', () => {
    const parsed = AgentsFileSchema.parse({
      agents: {
        scout: {
          role: 'r',
          mcp_servers: [
            { name: 'files', command: 'npx', args: ['-y', 'some-server'], env: { LOG_LEVEL: 'debug' } },
            { name: 'github', url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer $CRED{gh}' } },
          ],
        },
        quiet: { role: 'r' },
      },
    });
    expect(parsed.agents.scout?.mcp_servers.map((server) => server.name)).toEqual(['files', 'github']);
    expect(parsed.agents.quiet?.mcp_servers).toEqual([]);
  });

  it('refuses an entry that is neither or both kinds, or mixes their keys, naming agent and server', () => {
    expect(problems([{ name: 'x' }]).join('\n')).toMatch(
      /agents\.scout\.mcp_servers\.0\.command.*MCP server "x" needs either command \(a stdio server\) or url/,
    );
    expect(problems([{ name: 'x', command: 'a', url: 'http://h/mcp' }]).join('\n')).toContain(
      'MCP server "x" has both command and url',
    );
    expect(problems([{ name: 'x', url: 'http://h/mcp', env: { A: 'b' } }]).join('\n')).toContain(
      'MCP server "x" is remote (url): env belongs to a stdio server',
    );
    expect(problems([{ name: 'x', command: 'a', headers: { A: 'b' } }]).join('\n')).toContain(
      'headers belong to a remote server',
    );
    expect(problems([{ name: 'x', url: 'ftp://h/mcp' }]).join('\n')).toContain('expected an http:// or https:// URL');
    expect(problems([{ name: 'x', command: 'a', cwd: '/' }]).join('\n')).toMatch(/cwd/);
  });

  it('refuses secrets in a stdio server env: $CRED handles and credential variable names', () => {
    expect(problems([{ name: 'x', command: 'a', env: { TOKEN: '$CRED{gh}' } }]).join('\n')).toContain(
      'MCP server "x": env TOKEN holds a $CRED handle',
    );
    expect(problems([{ name: 'x', command: 'a', env: { LEGION_CRED_GH: 'v' } }]).join('\n')).toContain(
      'env LEGION_CRED_GH is named like a credential',
    );
  });

  it('refuses names that cannot go into tool names, and duplicates', () => {
    expect(problems([{ name: 'my_server', command: 'a' }]).join('\n')).toContain(
      'MCP server names use lowercase letters, digits and dashes',
    );
    expect(problems([{ name: 'Files', command: 'a' }])).not.toEqual([]);
    expect(problems([{ name: 'a'.repeat(31), command: 'a' }])).not.toEqual([]);
    expect(
      problems([
        { name: 'files', command: 'a' },
        { name: 'files', url: 'http://h/mcp' },
      ]).join('\n'),
    ).toMatch(/mcp_servers\.1\.name.*MCP server "files" is listed twice/);
  });
});

describe('allowed_mcp_tools', () => {
  const rules = (entry: Record<string, unknown>) => ({
    policy: PermissionsFileSchema.parse({ agents: { scout: entry } }),
    source: { kind: 'file' as const, path: 'config/permissions.yaml' },
  });

  it('grants only what a glob matches; absent means no MCP tool at all', () => {
    const granted = rules({ allowed_mcp_tools: ['github__*', 'files__read_file'] });
    expect(decide(granted, 'scout', 'allowed_mcp_tools', 'github__create_issue').allowed).toBe(true);
    expect(decide(granted, 'scout', 'allowed_mcp_tools', 'files__read_file').allowed).toBe(true);
    const denied = decide(granted, 'scout', 'allowed_mcp_tools', 'files__write_file');
    expect(denied).toEqual({
      allowed: false,
      reason: 'scout may not use the MCP tool files__write_file: allowed_mcp_tools is ["github__*","files__read_file"]',
    });
    expect(decide(rules({}), 'scout', 'allowed_mcp_tools', 'github__x').allowed).toBe(false);
  });

  it('refuses a negated glob', () => {
    expect(PermissionsFileSchema.safeParse({ agents: { scout: { allowed_mcp_tools: ['!x__*'] } } }).success).toBe(
      false,
    );
  });
});

describe('MCP tool names and results', () => {
  it('names a tool <server>__<tool> and splits it back at the first __', () => {
    expect(mcpToolName('github', 'create_issue')).toEqual({ ok: true, name: 'github__create_issue' });
    expect(splitMcpToolName('github__create__issue')).toEqual({ server: 'github', tool: 'create__issue' });
    expect(splitMcpToolName('exec')).toBeNull();
    expect(splitMcpToolName('__x')).toBeNull();
  });

  it('skips a tool whose name LLM APIs would refuse, saying why', () => {
    const dotted = mcpToolName('files', 'read.file');
    expect(dotted.ok).toBe(false);
    expect(!dotted.ok && dotted.reason).toContain('"files__read.file" is not a valid tool name');
    expect(mcpToolName('files', 'x'.repeat(60)).ok).toBe(false);
  });

  it('reads text, resources and structured content, and caps long results', () => {
    expect(
      mcpResultText({
        content: [
          { type: 'text', text: 'one' },
          { type: 'image', mimeType: 'image/png', data: 'AAAA' },
          { type: 'resource', resource: { uri: 'file:///a', text: 'two' } },
        ],
      }),
    ).toBe('one\n[image image/png, 4 base64 characters, not shown]\ntwo');
    expect(mcpResultText({ content: [], structuredContent: { n: 1 } })).toBe('{"n":1}');
    expect(mcpResultText({ content: [{ type: 'text', text: 'x'.repeat(40_000) }] })).toContain(
      '[cut: showing the first',
    );
  });

  it('backs off 1 s, doubling, to at most 60 s', () => {
    expect([1, 2, 3, 4, 7, 20].map(mcpRetryDelayMs)).toEqual([1000, 2000, 4000, 8000, 60_000, 60_000]);
  });
});
