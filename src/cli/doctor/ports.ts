// Doctor check of the ports the mesh listens on: mesh.port (admin API on mesh.host,
// agent API on the legion network's gateway), the egress proxy's port (on the gateway)
// and webhooks.port when set. A port is probed by listening on it for a moment; the
// gateway's address is not known before the network exists, so those ports are probed
// on every address (0.0.0.0). While this project's mesh runs, its ports are its own.
import { createServer } from 'node:net';
import { egressPort, type MeshFile } from '../../shared/config/schema.js';
import { fail, ok, type CheckResult } from './types.js';

export interface PortPlan {
  port: number;
  /** What listens there, for the message. */
  what: string;
  /** Addresses the mesh binds it on. */
  hosts: string[];
}

export type PortProbe = { free: true } | { free: false; host: string; reason: string };

const ANY_ADDRESS = '0.0.0.0';

export function portPlans(mesh: MeshFile): PortPlan[] {
  const plans: PortPlan[] = [
    {
      port: mesh.mesh.port,
      what: 'admin and agent API (mesh.port)',
      hosts: [...new Set([mesh.mesh.host, ANY_ADDRESS])],
    },
    { port: egressPort(mesh.mesh), what: 'egress proxy (mesh.egress_port)', hosts: [ANY_ADDRESS] },
  ];
  if (mesh.webhooks)
    plans.push({ port: mesh.webhooks.port, what: 'webhook listener (webhooks.port)', hosts: [mesh.webhooks.host] });
  return plans;
}

function listenOnce(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve('something already listens there');
      else if (err.code === 'EACCES') resolve('this user may not listen there (ports below 1024 need root)');
      else if (err.code === 'EADDRNOTAVAIL') resolve(`${host} is not an address of this machine`);
      else resolve(err.message);
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

export async function probePort(plan: PortPlan): Promise<PortProbe> {
  for (const host of plan.hosts) {
    const reason = await listenOnce(host, plan.port);
    if (reason !== null) return { free: false, host, reason };
  }
  return { free: true };
}

export interface ProbedPort {
  plan: PortPlan;
  /** null when not probed: this project's mesh runs and holds the port. */
  probe: PortProbe | null;
}

/** `runningMeshPid` is set when this project's mesh is running (and so holds these ports). */
export function checkPorts(ports: ProbedPort[], runningMeshPid: number | null): CheckResult[] {
  return ports.map(({ plan, probe }) => {
    const check = `port ${plan.port}`;
    const others = ports.filter((other) => other.plan !== plan && other.plan.port === plan.port);
    if (others.length > 0) {
      return fail(
        check,
        `the ${plan.what} shares port ${plan.port} with the ${others.map((o) => o.plan.what).join(', ')}`,
        'give each listener a port of its own in config/mesh.yaml',
      );
    }
    if (runningMeshPid !== null)
      return ok(check, `${plan.what}: in use by this project's running mesh (pid ${runningMeshPid})`);
    if (probe === null || probe.free) return ok(check, `${plan.what}: free`);
    const where = probe.host === ANY_ADDRESS ? `port ${plan.port}` : `${probe.host}:${plan.port}`;
    return fail(
      check,
      `${plan.what}: ${where} is not available: ${probe.reason}`,
      `stop what uses it (find it with: ss -ltnp 'sport = :${plan.port}' or lsof -i :${plan.port}), or choose another port in config/mesh.yaml`,
    );
  });
}
