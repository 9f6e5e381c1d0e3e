// Whether the mesh could listen on a port pair here: the admin/agent port and the egress
// proxy's, the next one. Checked by binding 127.0.0.1 for a moment, as the mesh would.
import { createServer } from 'node:net';

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Both `port` and `port + 1` are free. */
export async function portPairFree(port: number): Promise<boolean> {
  return (await canListen(port)) && (await canListen(port + 1));
}

/** The first port from `from` (stepping by 2) whose pair is free; `from` when none of 50 is. */
export async function firstFreePortPair(from: number): Promise<number> {
  for (let port = from; port < from + 100; port += 2) if (await portPairFree(port)) return port;
  return from;
}
