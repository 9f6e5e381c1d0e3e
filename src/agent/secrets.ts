// How the agent server keeps its two tokens from every process a tool starts. Those
// processes run as the same uid, so the server relies on what the kernel enforces
// between same-uid processes, and on owning nothing they could read:
// - the tokens come as one JSON line on stdin (the mesh writes it and closes stdin),
//   never in the environment, so no /proc/<pid>/environ, `ps e` or `docker inspect`
//   holds them, and children inherit no trace of them;
// - in the image the server runs from an execute-only copy of node
//   (/usr/local/bin/legion-agent-node, mode 0111): the kernel makes a process that
//   exec'd a binary it may not read non-dumpable, and a non-dumpable process's
//   /proc/<pid>/mem, environ and fds can be opened only by a holder of CAP_SYS_PTRACE,
//   which no process in the container has (cap-drop ALL, no-new-privileges); tools exec
//   readable binaries, so they are dumpable and hold nothing of the server's memory;
// - SIGUSR1 would open node's inspector on 127.0.0.1:9229, through which any local
//   process could evaluate code in the server: a listener here keeps it closed.
import { AgentSecretsSchema, type AgentSecrets } from '../shared/wire/agent.js';

/** Past this, a server started without its tokens on stdin gives up and says why. */
const STDIN_TIMEOUT_MS = 10_000;

/** Installed before anything else runs: with a listener, SIGUSR1 does not start the inspector. */
export function refuseInspectorSignal(onSignal: () => void): void {
  process.on('SIGUSR1', onSignal);
}

/** Reads stdin to its end once and parses the tokens; a string says what is wrong. */
export async function readSecretsFromStdin(stdin: NodeJS.ReadStream = process.stdin): Promise<AgentSecrets | string> {
  if (stdin.isTTY)
    return 'stdin is a terminal: the tokens must come as one JSON line on stdin ({"mesh_token": ..., "server_token": ...}), which the mesh writes';
  const chunks: Buffer[] = [];
  const ended = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), STDIN_TIMEOUT_MS);
    stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
    stdin.once('end', () => {
      clearTimeout(timer);
      resolve(true);
    });
    stdin.once('error', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  stdin.destroy();
  if (!ended)
    return `stdin was not closed within ${STDIN_TIMEOUT_MS / 1000} s: the tokens must come as one JSON line on stdin, then end of file`;
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text)
    return 'no tokens on stdin: the mesh writes {"mesh_token": ..., "server_token": ...} there when it starts the agent';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return 'stdin is not one JSON object with mesh_token and server_token';
  }
  const parsed = AgentSecretsSchema.safeParse(json);
  if (!parsed.success)
    return `the tokens on stdin: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`;
  return parsed.data;
}
