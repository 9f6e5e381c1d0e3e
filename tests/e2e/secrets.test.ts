// Agents hold no secrets, end to end with real Docker: a fake-model turn in a real
// container calls http_request with $CRED{demo}; the mesh, on the host, sends the real
// secret to a local test server, and the reply, `legion logs` and .legion/mesh.log
// never show it. The provider key and every LEGION_CRED_* value stay out of the
// container's environment, its /data volume and `docker inspect`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { freePort, legion, makeProject, type TestProject } from '../helpers/project.js';
import { docker, dockerAvailable, execIn } from '../helpers/docker.js';
import { projectId } from '../../src/shared/state.js';
import { tearDownFleet } from '../helpers/fleet.js';

const available = await dockerAvailable();

const DEMO_SECRET = `demo-e2e-${Math.random().toString(36).slice(2)}-Zq9`;
const SPARE_SECRET = `spare-e2e-${Math.random().toString(36).slice(2)}-Wx7`;

describe.skipIf(!available)('secrets with real Docker', () => {
  let fake: FakeProvider;
  let project: TestProject;
  let server: Server;
  let base: string;
  let container: string;
  const received: IncomingMessage['headers'][] = [];
  const secrets = () => [DEMO_SECRET, SPARE_SECRET, project.secret];

  beforeAll(async () => {
    server = createServer((req, res) => {
      received.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ url: req.url, headers: req.headers }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    fake = await startFakeProvider();
    project = makeProject({
      port: await freePort(),
      openaiBaseUrl: fake.openaiBaseUrl,
      agentsYaml: 'agents:\n  courier:\n    role: calls services\n',
    });
    appendFileSync(join(project.dir, '.env'), `LEGION_CRED_DEMO=${DEMO_SECRET}\nLEGION_CRED_SPARE=${SPARE_SECRET}\n`);
    writeFileSync(
      join(project.dir, 'config', 'permissions.yaml'),
      `agents:\n  courier:\n    allowed_apis: [llm]\n    allowed_credentials: [demo]\n    allowed_domains: ["127.0.0.1:${new URL(base).port}"]\n`,
    );
    const started = await legion(['start', '-d'], project.dir);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toMatch(/agent courier healthy/);
    container = `legion-${projectId(project.dir)}-courier`;
  });

  afterAll(async () => {
    await tearDownFleet(project);
    await fake?.close();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    project?.cleanup();
  });

  it('sends the real secret from the mesh, and keeps it out of the reply, legion logs and mesh.log', async () => {
    const args = { method: 'GET', url: `${base}/echo?token=$CRED{demo}`, headers: { 'x-api-key': '$CRED{demo}' } };
    const chat = await legion(['chat', 'courier', '-m', `call http_request ${JSON.stringify(args)}`], project.dir);
    expect(chat.code, chat.stderr).toBe(0);
    expect(received.at(-1)?.['x-api-key']).toBe(DEMO_SECRET);
    expect(chat.stdout).toContain('tool http_request returned: HTTP 200');
    expect(chat.stdout).toContain('"x-api-key":"[REDACTED]"');
    expect(chat.stdout).toContain('/echo?token=[REDACTED]');

    const logs = await legion(['logs', '--agent', 'courier', '-n', '200'], project.dir);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(
      /courier\s+http_request\s+GET 127\.0\.0\.1:\d+\/echo \{"status":200,"credentials":\["demo"\]\}/,
    );

    const meshLog = readFileSync(join(project.dir, '.legion', 'mesh.log'), 'utf8');
    expect(meshLog).toContain('mesh_listening');
    for (const secret of secrets()) {
      for (const text of [chat.stdout, chat.stderr, logs.stdout, meshLog]) expect(text).not.toContain(secret);
    }
  });

  it("keeps the provider key and every LEGION_CRED_* value out of the container's environment, /data and docker inspect", async () => {
    const environ = await execIn(container, ['sh', '-c', 'tr "\\0" "\\n" < /proc/1/environ']);
    expect(environ.code).toBe(0);
    expect(environ.output).toContain('LEGION_AGENT=courier');
    expect(environ.output).not.toContain('LEGION_CRED_');
    const inspect = JSON.stringify(await docker.getContainer(container).inspect());
    expect(inspect).toContain('courier');
    for (const secret of secrets()) {
      expect(environ.output).not.toContain(secret);
      expect(inspect).not.toContain(secret);
      const grep = await execIn(container, ['grep', '-r', '-l', '-F', secret, '/data']);
      // 1: searched everything, found nothing (2 would be an error, not a clean result).
      expect(grep.code, grep.output).toBe(1);
    }
  });
});
