// Schema of an agent's `mcp_servers:` in agents.yaml: MCP servers whose tools the agent
// gets as `<server>__<tool>`. A stdio server (command, args, env) runs inside the agent's
// container, so nothing it is given may be a secret: an env value that holds a $CRED
// handle, or a variable named like a credential (LEGION_CRED_*), is refused here, and
// the mesh refuses an env value equal to a credential's secret before it sends the
// config to the container. A remote server (url, headers) is reached by the mesh,
// which alone resolves $CRED handles in its headers. Invariants: server names are
// unique per agent and valid inside a tool name (no `_`, so `__` splits a tool name
// unambiguously); an entry is exactly one of the two kinds.
import { z } from 'zod';

/** Lowercase letters, digits and dashes, starting with a letter: at most 30 characters. */
export const MCP_SERVER_NAME_PATTERN = /^[a-z][a-z0-9-]{0,29}$/;

const CRED_HANDLE_OPENER = '$CRED{';
const CREDENTIAL_VARIABLE_PREFIX = 'LEGION_CRED_';

const McpServerEntryBaseSchema = z.strictObject({
  name: z
    .string()
    .regex(
      MCP_SERVER_NAME_PATTERN,
      'MCP server names use lowercase letters, digits and dashes, start with a letter and have at most 30 characters (the name goes into tool names as <server>__<tool>)',
    ),
  /** stdio: the program started inside the agent's container, in its workspace. */
  command: z.string().min(1).optional(),
  args: z.array(z.string()).optional(),
  /** stdio: added to the agent's environment (which holds no secrets); never a secret itself. */
  env: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name'), z.string())
    .optional(),
  /** remote: a streamable HTTP endpoint the mesh connects to; subject to the agent's egress allowlist. */
  url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).optional(),
  /** remote: sent by the mesh with every request; values may hold $CRED{name} handles. */
  headers: z.record(z.string().min(1), z.string()).optional(),
});

export const McpServerEntrySchema = McpServerEntryBaseSchema.superRefine((entry, ctx) => {
  const server = `MCP server "${entry.name}"`;
  const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (entry.command === undefined && entry.url === undefined)
    problem('command', `${server} needs either command (a stdio server) or url (a remote server)`);
  if (entry.command !== undefined && entry.url !== undefined)
    problem('url', `${server} has both command and url: a server is either stdio (command) or remote (url)`);
  if (entry.url !== undefined) {
    if (entry.args !== undefined) problem('args', `${server} is remote (url): args belong to a stdio server`);
    if (entry.env !== undefined) problem('env', `${server} is remote (url): env belongs to a stdio server`);
  }
  if (entry.command !== undefined && entry.headers !== undefined)
    problem('headers', `${server} is a stdio server (command): headers belong to a remote server (url)`);
  for (const [key, value] of Object.entries(entry.env ?? {})) {
    if (key.toUpperCase().startsWith(CREDENTIAL_VARIABLE_PREFIX))
      problem(
        'env',
        `${server}: env ${key} is named like a credential; a stdio server runs inside the agent's container, which must hold no secrets (use a remote server, whose headers the mesh fills with $CRED handles)`,
      );
    if (value.toUpperCase().includes(CRED_HANDLE_OPENER.toUpperCase()))
      problem(
        'env',
        `${server}: env ${key} holds a $CRED handle, which is never resolved inside a container (secrets stay in the mesh); give the server its secret through a remote server's headers instead`,
      );
  }
});
export type McpServerEntry = z.output<typeof McpServerEntrySchema>;

export const McpServersSchema = z
  .array(McpServerEntrySchema)
  .default([])
  .superRefine((servers, ctx) => {
    const seen = new Set<string>();
    servers.forEach((server, index) => {
      if (seen.has(server.name))
        ctx.addIssue({
          code: 'custom',
          path: [index, 'name'],
          message: `MCP server "${server.name}" is listed twice; names must be unique per agent`,
        });
      seen.add(server.name);
    });
  });

export type StdioMcpServer = McpServerEntry & { command: string };
export type RemoteMcpServer = McpServerEntry & { url: string };

export function isStdioServer(entry: McpServerEntry): entry is StdioMcpServer {
  return entry.command !== undefined;
}

export function isRemoteServer(entry: McpServerEntry): entry is RemoteMcpServer {
  return entry.url !== undefined;
}
