// legion doctor's port check, against real sockets: a port something listens on fails
// with how to find it, a free one passes, and while this project's mesh runs its ports
// are its own.
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { MeshFileSchema } from '../../src/shared/config/schema.js';
import { checkPorts, portPlans, probePort, type ProbedPort } from '../../src/cli/doctor/ports.js';
import { freePort } from '../helpers/project.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listenOn(port: number): Promise<void> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
}

const meshFile = (port: number, extra = '') =>
  MeshFileSchema.parse({
    mesh: { host: '127.0.0.1', port },
    llm: { default_model: 'openai/gpt-4o-mini' },
    ...(extra ? JSON.parse(extra) : {}),
  });

async function probeAll(plans: ReturnType<typeof portPlans>): Promise<ProbedPort[]> {
  const probed: ProbedPort[] = [];
  for (const plan of plans) probed.push({ plan, probe: await probePort(plan) });
  return probed;
}

describe('port checks', () => {
  it('plans mesh.port, the egress port and webhooks.port', () => {
    const plans = portPlans(meshFile(9100, '{"webhooks": {"port": 9200}}'));
    expect(plans.map((p) => [p.port, p.what])).toEqual([
      [9100, 'admin and agent API (mesh.port)'],
      [9101, 'egress proxy (mesh.egress_port)'],
      [9200, 'webhook listener (webhooks.port)'],
    ]);
  });

  it('passes free ports', async () => {
    const port = await freePort();
    const results = checkPorts(await probeAll(portPlans(meshFile(port))), null);
    expect(results.map((r) => r.status)).toEqual(['ok', 'ok']);
    expect(results[0]).toEqual({
      check: `port ${port}`,
      status: 'ok',
      detail: 'admin and agent API (mesh.port): free',
    });
  });

  it('fails a port taken by a listening socket, with how to find what holds it', async () => {
    const port = await freePort();
    await listenOn(port);
    const [api, egress] = checkPorts(await probeAll(portPlans(meshFile(port))), null);
    expect(api).toMatchObject({
      check: `port ${port}`,
      status: 'fail',
      detail: `admin and agent API (mesh.port): 127.0.0.1:${port} is not available: something already listens there`,
    });
    expect(api?.hint).toContain(`lsof -i :${port}`);
    expect(egress?.status).toBe('ok');
  });

  it('fails the egress port taken on any address', async () => {
    const port = await freePort();
    await listenOn(port);
    const results = checkPorts(await probeAll(portPlans(meshFile(port - 1))), null);
    expect(results[1]).toMatchObject({
      check: `port ${port}`,
      status: 'fail',
      detail: `egress proxy (mesh.egress_port): port ${port} is not available: something already listens there`,
    });
  });

  it("counts the ports as this project's own while its mesh runs", async () => {
    const port = await freePort();
    await listenOn(port);
    const plans = portPlans(meshFile(port));
    const results = checkPorts(
      plans.map((plan) => ({ plan, probe: null })),
      4242,
    );
    expect(results[0]).toEqual({
      check: `port ${port}`,
      status: 'ok',
      detail: "admin and agent API (mesh.port): in use by this project's running mesh (pid 4242)",
    });
  });

  it('fails two listeners configured on one port', () => {
    const plans = portPlans(meshFile(9100, '{"webhooks": {"port": 9101}}'));
    const results = checkPorts(
      plans.map((plan) => ({ plan, probe: { free: true } })),
      null,
    );
    expect(results.map((r) => r.status)).toEqual(['ok', 'fail', 'fail']);
    expect(results[2]).toMatchObject({
      detail: 'the webhook listener (webhooks.port) shares port 9101 with the egress proxy (mesh.egress_port)',
      hint: 'give each listener a port of its own in config/mesh.yaml',
    });
  });
});
