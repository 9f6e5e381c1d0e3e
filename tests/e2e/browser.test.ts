// The browser in the agent container, with real Docker and Chromium: an agent with
// `browser: true` and can_use_browser, driven by the fake provider, browses a test site
// served by this test on the host (allowlisted as host:port; the egress proxy reaches
// it at 127.0.0.1 from the host side): navigate, read text and refs, type into a form,
// choose an option, submit, read the result, take a screenshot the size of the
// viewport (also shown to the model on its next call), click a link by ref; a host not on the allowlist is refused with the rule
// named, over plain HTTP and over a CONNECT tunnel; an agent without `browser: true`
// has no browser tools and no Chromium in its image; a crashed browser starts again;
// and a cookie set on the test site
// is still sent after the container is stopped and started again (profile on /data).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.js';
import { freePort, legion, makeProject, type TestProject } from '../helpers/project.js';
import { docker, dockerAvailable, execIn } from '../helpers/docker.js';
import { tearDownFleet } from '../helpers/fleet.js';
import { waitFor } from '../helpers/wait.js';
import { projectId } from '../../src/shared/state.js';
import { MeshClient } from '../../src/cli/mesh-client.js';
import { BROWSER_IMAGE_REPOSITORY, IMAGE_REPOSITORY } from '../../src/mesh/runtime/image.js';

const available = await dockerAvailable();
const suffix = Math.random().toString(36).slice(2, 8);
const SURFER = `surfer-${suffix}`;
const PLAIN = `plain-${suffix}`;

const page = (title: string, body: string) =>
  `<!DOCTYPE html><html><head><title>${title}</title></head><body>${body}</body></html>`;

/** Two pages, a form and its result page, and a cookie to set and to show. */
function testSite(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://site');
    const html = (text: string, headers: Record<string, string> = {}) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...headers });
      res.end(text);
    };
    if (url.pathname === '/')
      return html(
        page(
          'Legion test site',
          '<h1>Welcome to the test site</h1><p>This page is served by the e2e test.</p><a href="/form">Go to the form</a>',
        ),
      );
    if (url.pathname === '/form') {
      return html(
        page(
          'The form',
          '<h1>Tell us</h1><form action="/result" method="get"><label for="name">Your name</label><input id="name" name="name">' +
            '<label for="colour">Colour</label><select id="colour" name="colour"><option value="red">Red</option><option value="green">Green</option></select>' +
            '<button type="submit">Send</button></form>',
        ),
      );
    }
    if (url.pathname === '/result') {
      return html(
        page(
          'Result',
          `<h1>Thanks</h1><p id="answer">Hello ${url.searchParams.get('name') ?? ''}, you chose ${url.searchParams.get('colour') ?? ''}</p><a href="/">Back home</a>`,
        ),
      );
    }
    if (url.pathname === '/cookie/set')
      return html(page('Cookie set', '<p>cookie set</p>'), {
        'set-cookie': 'legion_profile=kept; Max-Age=86400; Path=/',
      });
    if (url.pathname === '/cookie/show') return html(page('Cookie', `<p>cookies: [${req.headers.cookie ?? ''}]</p>`));
    res.writeHead(404);
    res.end('not here');
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port })),
  );
}

describe.skipIf(!available)('browser tools with real Docker and Chromium', () => {
  let fake: FakeProvider;
  let project: TestProject;
  let site: { server: Server; port: number };
  let base: string;
  let container: (agent: string) => string;

  const call = async (agent: string, tool: string, args: unknown): Promise<string> => {
    const result = await legion(['chat', agent, '-m', `call ${tool} ${JSON.stringify(args)}`], project.dir);
    expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
    return result.stdout;
  };
  const refOf = (snapshot: string, line: RegExp): string => {
    const found = snapshot.split('\n').find((l) => line.test(l));
    const ref = /\[ref=(e\d+)\]/.exec(found ?? '')?.[1];
    if (!ref) throw new Error(`no element matching ${line} with a ref in:\n${snapshot}`);
    return ref;
  };

  beforeAll(async () => {
    fake = await startFakeProvider();
    site = await testSite();
    base = `http://127.0.0.1:${site.port}`;
    const meshPort = await freePort();
    project = makeProject({
      port: meshPort,
      openaiBaseUrl: fake.openaiBaseUrl,
      meshYaml: `mesh: { host: 127.0.0.1, port: ${meshPort}, egress_port: ${await freePort()} }\nllm:\n  default_model: openai/gpt-4o-mini\n  providers:\n    openai: {}\n`,
      agentsYaml: `agents:\n  ${SURFER}:\n    role: browses\n    browser: true\n    resources: { memory_limit: 1g, cpu_limit: 1 }\n  ${PLAIN}:\n    role: no browser\n`,
    });
    // The test site by exact host:port, the only way to reach a port of this machine;
    // 127.0.0.2 is on no list.
    writeFileSync(
      join(project.dir, 'config', 'permissions.yaml'),
      `agents:\n  ${SURFER}:\n    allowed_apis: [llm]\n    can_use_browser: true\n    allowed_domains: ["127.0.0.1:${site.port}"]\n  ${PLAIN}:\n    allowed_apis: [llm]\n    can_use_browser: true\n`,
    );
    const id = projectId(project.dir);
    container = (agent) => `legion-${id}-${agent}`;
    const started = await legion(['start', '-d'], project.dir);
    expect(started.code, `${started.stderr}\n${started.stdout}`).toBe(0);
  }, 900_000);

  afterAll(async () => {
    await tearDownFleet(project);
    await fake?.close();
    site?.server.closeAllConnections();
    site?.server.close();
    project?.cleanup();
  });

  it('runs the agent with browser: true on the browser image, the other on the small one', async () => {
    const surfer = await docker.getContainer(container(SURFER)).inspect();
    const plain = await docker.getContainer(container(PLAIN)).inspect();
    expect(surfer.Config.Image.startsWith(`${BROWSER_IMAGE_REPOSITORY}:`)).toBe(true);
    expect(plain.Config.Image.startsWith(`${IMAGE_REPOSITORY}:`)).toBe(true);
    expect(
      (await execIn(container(SURFER), ['sh', '-c', 'test -x /usr/bin/chromium && echo present'])).output.trim(),
    ).toBe('present');
    expect(
      (await execIn(container(PLAIN), ['sh', '-c', 'ls /usr/bin/chromium /usr/lib/chromium 2>&1; true'])).output,
    ).toMatch(/No such file or directory[\s\S]*No such file or directory/);
  });

  it('has legion doctor report the browser variant as built and current', async () => {
    const doctor = await legion(['doctor'], project.dir);
    const surfer = await docker.getContainer(container(SURFER)).inspect();
    expect(doctor.stdout).toContain(
      `${surfer.Config.Image} (Chromium, this code, from legion-local/node:20-bookworm) is present, for ${SURFER}`,
    );
  });

  it('offers browser tools only to the agent with a browser', async () => {
    await call(PLAIN, 'list_files', {});
    await call(SURFER, 'list_files', {});
    const toolsOf = (agent: string) =>
      fake.calls
        .filter((c) => c.messages.some((m) => m.role === 'system' && m.content.startsWith(`You are ${agent},`)))
        .at(-1)?.tools ?? [];
    expect(toolsOf(SURFER)).toEqual(
      expect.arrayContaining([
        'browser_navigate',
        'browser_snapshot',
        'browser_click',
        'browser_type',
        'browser_select',
        'browser_back',
        'browser_tabs',
        'browser_screenshot',
        'browser_evaluate',
        'web_search',
      ]),
    );
    expect(toolsOf(PLAIN).filter((t) => t.startsWith('browser_'))).toEqual([]);
    expect(toolsOf(PLAIN)).toContain('web_search');
  });

  it('navigates, fills the form, submits, reads the result, screenshots and follows a link by ref', async () => {
    const home = await call(SURFER, 'browser_navigate', { url: `${base}/` });
    expect(home).toContain(`URL: ${base}/`);
    expect(home).toContain('Status: 200');
    expect(home).toContain('Title: Legion test site');
    expect(home).toContain('Welcome to the test site');
    expect(home).toContain('- heading "Welcome to the test site" [level=1]');
    const formLink = refOf(home, /- link "Go to the form" -> \/form/);

    const form = await call(SURFER, 'browser_click', { ref: formLink });
    expect(form).toContain(`URL: ${base}/form`);
    const nameRef = refOf(form, /- textbox "Your name"/);
    const colourRef = refOf(form, /- combobox "Colour"/);
    const sendRef = refOf(form, /- button "Send"/);

    const typed = await call(SURFER, 'browser_type', { ref: nameRef, text: 'Ada Lovelace' });
    expect(typed).toContain('- textbox "Your name" value="Ada Lovelace"');
    const selected = await call(SURFER, 'browser_select', { ref: colourRef, value: 'Green' });
    expect(selected).toContain('- combobox "Colour" value="Green"');

    const result = await call(SURFER, 'browser_click', { ref: sendRef });
    expect(result).toContain(`URL: ${base}/result?name=Ada+Lovelace&colour=green`);
    expect(result).toContain('Hello Ada Lovelace, you chose green');

    const shot = await call(SURFER, 'browser_screenshot', {});
    const path = /saved (\/data\/artifacts\/screenshots\/\S+\.png) \(PNG, 1280x800/.exec(shot)?.[1];
    expect(path, shot).toBeDefined();
    // Read back from the container: PNG signature and the IHDR width and height.
    const header = await execIn(container(SURFER), [
      'node',
      '-e',
      `const b=require('fs').readFileSync(process.argv[1]);console.log(b.subarray(0,8).toString('hex'),b.readUInt32BE(16),b.readUInt32BE(20))`,
      path ?? '',
    ]);
    expect(header.output.trim()).toBe('89504e470d0a1a0a 1280 800');
    // The model (gpt-4o-mini takes images) got the picture on the call after the tool, once.
    const withPicture = fake.calls.filter((c) =>
      c.messages.some((m) => m.images?.some((i) => i.media_type === 'image/png')),
    );
    expect(withPicture).toHaveLength(1);
    const picture = Buffer.from(withPicture[0]?.messages.flatMap((m) => m.images ?? [])[0]?.data ?? '', 'base64');
    expect([picture.subarray(0, 8).toString('hex'), picture.readUInt32BE(16), picture.readUInt32BE(20)]).toEqual([
      '89504e470d0a1a0a',
      1280,
      800,
    ]);

    const back = await call(SURFER, 'browser_click', { ref: refOf(result, /- link "Back home"/) });
    expect(back).toContain(`URL: ${base}/`);
    expect(back).toContain('Welcome to the test site');
    const previous = await call(SURFER, 'browser_back', {});
    expect(previous).toContain('Hello Ada Lovelace, you chose green');
  });

  it('refuses a host not on the allowlist with the rule named, by plain HTTP and through a tunnel', async () => {
    const plain = await call(SURFER, 'browser_navigate', { url: `http://127.0.0.2:${site.port}/` });
    expect(plain).toContain(
      `navigation to http://127.0.0.2:${site.port}/ blocked by egress: egress_refused: ${SURFER} may not connect to 127.0.0.2:${site.port}: `,
    );
    expect(plain).toContain('[rule: host_address]');
    const tunnel = await call(SURFER, 'browser_navigate', { url: `https://127.0.0.2:${site.port}/` });
    expect(tunnel).toContain(
      `navigation to https://127.0.0.2:${site.port}/ blocked by egress: egress_refused: ${SURFER} may not connect to 127.0.0.2:${site.port}: `,
    );
    expect(tunnel).toContain('[rule: host_address]');
    const still = await call(SURFER, 'browser_snapshot', {});
    expect(still).not.toContain('127.0.0.2');
  });

  it('refuses browser_evaluate without can_browser_evaluate, naming it', async () => {
    const reply = await call(SURFER, 'browser_evaluate', { expression: 'document.title' });
    expect(reply).toContain(
      `${SURFER} may not run scripts in browser pages (browser_evaluate): can_browser_evaluate is false`,
    );
  });

  it('starts the browser again after it crashed', async () => {
    // The browser process is the chromium without --type=; kill it by its pid, inside the container.
    const killed = await execIn(container(SURFER), [
      'node',
      '-e',
      "const fs=require('fs');const pids=fs.readdirSync('/proc').filter((p)=>/^\\d+$/.test(p)).filter((p)=>{try{const c=fs.readFileSync('/proc/'+p+'/cmdline','utf8');return c.startsWith('/usr/lib/chromium/chromium')&&!c.includes('--type=')}catch{return false}});for(const p of pids)process.kill(Number(p),'SIGKILL');console.log(pids.length)",
    ]);
    expect(killed.output.trim()).toBe('1');
    const again = await call(SURFER, 'browser_navigate', { url: `${base}/` });
    expect(again).toContain('Welcome to the test site');
  });

  it('keeps the profile (a cookie) across a container restart', async () => {
    await call(SURFER, 'browser_navigate', { url: `${base}/cookie/set` });
    const before = (await docker.getContainer(container(SURFER)).inspect()).Id;
    await docker.getContainer(container(SURFER)).stop({ t: 10 });
    // The health monitor starts a new container on the same volume.
    await waitFor(
      async () => {
        const info = await docker
          .getContainer(container(SURFER))
          .inspect()
          .catch(() => null);
        const status = await MeshClient.find(project.dir)
          ?.status()
          .catch(() => null);
        return info !== null &&
          info.Id !== before &&
          status?.agents.find((a) => a.name === SURFER)?.health === 'healthy'
          ? true
          : null;
      },
      `a new healthy container for ${SURFER}`,
      60_000,
    );
    const shown = await call(SURFER, 'browser_navigate', { url: `${base}/cookie/show` });
    expect(shown).toContain('cookies: [legion_profile=kept]');
  });
});
