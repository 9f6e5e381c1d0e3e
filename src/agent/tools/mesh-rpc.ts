// The one thing the mesh tools need from the agent's mesh client, in a file of its own so
// that each tool file and mesh-tools.ts, which gathers them, import it one way (no cycle).
import type { z } from 'zod';

export interface MeshRpc {
  call<S extends z.ZodType>(route: string, body: unknown, schema: S, trace: string | null): Promise<z.output<S>>;
}
