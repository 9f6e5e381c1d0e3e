// Who gets into the web dashboard, against a real mesh (agents as local processes, the
// fake provider): a login link from the real `legion dashboard` opens one session with
// a strict cookie and is then spent; without a session every page and /ui API answers
// 401; a foreign Host (DNS rebinding) or Origin (CSRF) is refused; a state-changing
// call needs the page's own Origin; `legion dashboard --revoke` ends every session;
// an expired code is refused; the admin token appears in no page, file or cookie.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';
import { legion } from '../helpers/project.js';
import { dashboardFiles, loginLink, rawRequest, sessionFrom } from '../helpers/dashboard.js';
import { statePaths } from '../../src/shared/state.js';

const AGENTS = 'agents:\n  scout:\n    role: looks around\n';
/** No desktop: the CLI must print the link and open nothing. */
const NO_DESKTOP = { CI: '1', DISPLAY: '', WAYLAND_DISPLAY: '' };

describe('dashboard access', () => {
  let h: Harness;
  let port: number;
  let adminToken: string;

  const newLogin = async () => {
    const printed = await legion(['dashboard'], h.project.dir, NO_DESKTOP);
    expect(printed.stderr).toBe('');
    expect(printed.code).toBe(0);
    return loginLink(printed.stdout);
  };
  const logIn = async () => {
    const link = await newLogin();
    return sessionFrom(await rawRequest(port, 'GET', `${link.pathname}${link.search}`));
  };

  beforeAll(async () => {
    h = await startHarness({ agentsYaml: AGENTS });
    port = Number(new URL(h.mesh.adminUrl).port);
    adminToken = readFileSync(statePaths(h.project.dir).adminToken, 'utf8').trim();
  });
  afterAll(async () => h?.close());

  it('answers 401 on every page, file and API without a session', async () => {
    for (const path of [
      '/ui',
      '/ui/',
      '/ui/assets/main.js',
      '/ui/assets/style.css',
      '/ui/api/status',
      '/ui/api/events',
      '/ui/api/costs',
      '/ui/api/costs/daily',
      '/ui/api/live',
      '/ui/no-such-page',
    ]) {
      const answer = await rawRequest(port, 'GET', path);
      expect(answer.status, path).toBe(401);
      expect(answer.body).toContain('legion dashboard');
    }
    const forged = await rawRequest(port, 'GET', '/ui/api/status', { cookie: 'legion_session=forged' });
    expect(forged.status).toBe(401);
    const restart = await rawRequest(port, 'POST', '/ui/api/agents/scout/restart', {
      origin: `http://127.0.0.1:${port}`,
    });
    expect(restart.status).toBe(401);
  });

  it('trades a login code from `legion dashboard` for a strict session cookie, once', async () => {
    const link = await newLogin();
    expect(link.origin).toBe(`http://127.0.0.1:${port}`);
    expect(link.pathname).toBe('/ui/login');

    const login = await rawRequest(port, 'GET', `${link.pathname}${link.search}`);
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe('/ui/');
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(/^legion_session=[^;]+;/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/ui');
    const cookie = sessionFrom(login);

    const page = await rawRequest(port, 'GET', '/ui/', { cookie });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.body).toContain('/ui/assets/main.js');
    const status = await rawRequest(port, 'GET', '/ui/api/status', { cookie });
    expect(status.status).toBe(200);
    expect((JSON.parse(status.body) as { agents: { name: string; health: string }[] }).agents).toEqual([
      expect.objectContaining({ name: 'scout', health: 'healthy' }),
    ]);

    const again = await rawRequest(port, 'GET', `${link.pathname}${link.search}`);
    expect(again.status).toBe(401);
    expect(again.headers['set-cookie']).toBeUndefined();
    expect(again.body).toContain('used or expired');
  });

  it('refuses a foreign Host or Origin even with a valid session, and a state-changing call without the page Origin', async () => {
    const cookie = await logIn();
    for (const host of [
      'evil.example',
      `evil.example:${port}`,
      `127.0.0.1:${port + 1}`,
      `rebind.attacker.test:${port}`,
    ]) {
      const answer = await rawRequest(port, 'GET', '/ui/api/status', { cookie, host });
      expect(answer.status, host).toBe(403);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'foreign_host' } });
    }
    expect((await rawRequest(port, 'GET', '/ui/', { cookie, host: `localhost:${port}` })).status).toBe(200);

    for (const origin of [
      'http://evil.example',
      `http://localhost.evil.example:${port}`,
      `https://127.0.0.1:${port}`,
      'null',
    ]) {
      const read = await rawRequest(port, 'GET', '/ui/api/status', { cookie, origin });
      expect(read.status, origin).toBe(403);
      const reset = await rawRequest(port, 'POST', '/ui/api/agents/scout/reset', { cookie, origin });
      expect(reset.status, origin).toBe(403);
      expect(JSON.parse(reset.body)).toMatchObject({ error: { code: 'foreign_origin' } });
    }
    const noOrigin = await rawRequest(port, 'POST', '/ui/api/agents/scout/reset', { cookie });
    expect(noOrigin.status).toBe(403);
    expect(JSON.parse(noOrigin.body)).toMatchObject({ error: { code: 'origin_required' } });

    const own = await rawRequest(port, 'POST', '/ui/api/agents/scout/reset', {
      cookie,
      origin: `http://127.0.0.1:${port}`,
    });
    expect(own.status).toBe(200);
  });

  it('forwards only the allowlisted admin calls', async () => {
    const cookie = await logIn();
    const origin = `http://127.0.0.1:${port}`;
    expect((await rawRequest(port, 'POST', '/ui/api/shutdown', { cookie, origin })).status).toBe(404);
    expect((await rawRequest(port, 'GET', '/ui/api/dashboard/login-codes', { cookie })).status).toBe(404);
    expect((await rawRequest(port, 'POST', '/ui/api/dashboard/login-codes', { cookie, origin })).status).toBe(404);
    expect((await rawRequest(port, 'GET', '/ui/api/agents/scout/chat', { cookie })).status).toBe(404);
    const costs = await rawRequest(port, 'GET', '/ui/api/costs?period=month', { cookie });
    expect(costs.status).toBe(200);
    expect(JSON.parse(costs.body)).toMatchObject({ period: 'month' });
    const bad = await rawRequest(port, 'GET', '/ui/api/costs?period=decade', { cookie });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ error: { code: 'invalid_request' } });
    const badMonth = await rawRequest(port, 'GET', '/ui/api/costs/daily?month=2026-13', { cookie });
    expect(badMonth.status).toBe(400);
    expect(JSON.parse(badMonth.body)).toMatchObject({
      error: { code: 'invalid_request', message: expect.stringContaining('YYYY-MM') },
    });
    const month = await rawRequest(port, 'GET', '/ui/api/costs/daily?month=2024-02', { cookie });
    expect(JSON.parse(month.body)).toMatchObject({
      month: '2024-02',
      agents: [{ agent: 'scout', daily_usd: Array(29).fill(0) }],
    });
  });

  it('streams the fleet and new events live, and restarts an agent on request', async () => {
    const cookie = await logIn();
    const messages: {
      type: string;
      fleet?: { agents: { name: string }[] };
      events?: { kind: string; agent: string | null }[];
    }[] = [];
    let buffer = '';
    const stream = request({
      host: '127.0.0.1',
      port,
      path: '/ui/api/live',
      headers: { host: `127.0.0.1:${port}`, cookie },
    });
    const opened = new Promise<number>((resolve) =>
      stream.on('response', (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
            const data = buffer.slice(0, end).replace(/^data: /, '');
            buffer = buffer.slice(end + 2);
            messages.push(JSON.parse(data) as (typeof messages)[number]);
          }
        });
        resolve(res.statusCode ?? 0);
      }),
    );
    stream.end();
    expect(await opened).toBe(200);
    const until = async <T>(find: () => T | undefined, what: string): Promise<T> => {
      for (let i = 0; i < 600; i += 1) {
        const found = find();
        if (found !== undefined) return found;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no ${what} on the live stream: ${JSON.stringify(messages).slice(0, 2000)}`);
    };
    const first = await until(() => messages.find((m) => m.type === 'fleet'), 'fleet snapshot');
    expect(first.fleet?.agents.map((a) => a.name)).toEqual(['scout']);

    const restarted = await rawRequest(port, 'POST', '/ui/api/agents/scout/restart', {
      cookie,
      origin: `http://127.0.0.1:${port}`,
    });
    expect(restarted.status).toBe(200);
    await until(
      () => messages.flatMap((m) => m.events ?? []).find((e) => e.kind === 'agent_restart' && e.agent === 'scout'),
      'agent_restart event',
    );
    stream.destroy();
  });

  it('ends every session on `legion dashboard --revoke`', async () => {
    const one = await logIn();
    const two = await logIn();
    const revoked = await legion(['dashboard', '--revoke'], h.project.dir, NO_DESKTOP);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/ended [1-9]\d* dashboard sessions/);
    for (const cookie of [one, two])
      expect((await rawRequest(port, 'GET', '/ui/api/status', { cookie })).status).toBe(401);
    // A code handed out before the revocation is dropped with the sessions.
    const link = await newLogin();
    await legion(['dashboard', '--revoke'], h.project.dir, NO_DESKTOP);
    expect((await rawRequest(port, 'GET', `${link.pathname}${link.search}`)).status).toBe(401);
  });

  it('never shows the admin token in a link, page, file, API answer or cookie', async () => {
    const link = await newLogin();
    expect(link.href).not.toContain(adminToken);
    const login = await rawRequest(port, 'GET', `${link.pathname}${link.search}`);
    expect(JSON.stringify(login.headers)).not.toContain(adminToken);
    const cookie = sessionFrom(login);
    expect(cookie).not.toContain(adminToken);
    const paths = [
      '/ui/',
      ...dashboardFiles().map((file) => `/ui/assets/${file}`),
      '/ui/api/status',
      '/ui/api/events?limit=1000',
      '/ui/api/costs?period=month',
      '/ui/api/costs/daily',
    ];
    for (const path of paths) {
      const answer = await rawRequest(port, 'GET', path, { cookie });
      expect(answer.status, path).toBe(200);
      expect(answer.body, path).not.toContain(adminToken);
      expect(JSON.stringify(answer.headers), path).not.toContain(adminToken);
    }
  });
});

describe('dashboard login codes expire', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ agentsYaml: AGENTS, dashboardCodeTtlMs: 1 });
  });
  afterAll(async () => h?.close());

  it('refuses a code used after its lifetime', async () => {
    const port = Number(new URL(h.mesh.adminUrl).port);
    const printed = await legion(['dashboard'], h.project.dir, NO_DESKTOP);
    const link = loginLink(printed.stdout);
    // The CLI's own run outlasts a 1 ms lifetime; the pause only makes that certain.
    await new Promise((r) => setTimeout(r, 20));
    const answer = await rawRequest(port, 'GET', `${link.pathname}${link.search}`);
    expect(answer.status).toBe(401);
    expect(answer.headers['set-cookie']).toBeUndefined();
    expect(answer.body).toContain('used or expired');
  });
});
