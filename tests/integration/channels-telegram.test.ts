// Telegram through the real mesh, real agent processes, the real grammY client and a
// local Bot API stand-in: an unknown user gets a pairing code and never reaches an
// agent; once paired, a reply streams into one message edited several times, a long
// reply arrives split at 4,096 characters, @agent, /use, /status and /reset work within
// the user's agents; revoke stops delivery at once; the bot token stays in the mesh.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';
import { directiveResponder } from '../fakes/fake-provider.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/fake-telegram.js';
import { ChannelUserListSchema, ChannelUserSchema } from '../../src/shared/wire/channels.js';
import { EventListSchema } from '../../src/shared/wire/events.js';
import { legion } from '../helpers/project.js';
import { CronJobSchema } from '../../src/shared/wire/cron.js';
import { z } from 'zod';

const TOKEN = '7000000001:AAFakeTelegramBotTokenForLegionTests';
const ALICE = { id: 5001, username: 'alice' };
const STREAMED = Array.from({ length: 50 }, (_, i) => `word${i}`).join(' ');
const LONG = Array.from({ length: 3 }, (_, p) =>
  Array.from({ length: 30 }, () => `${'p'.repeat(98)}${p}`).join(' '),
).join('\n\n');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, probe: () => T | undefined | null | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('telegram channel', () => {
  let h: Harness;
  let tg: FakeTelegram;
  const textsTo = (user: { id: number }) => tg.messages.filter((m) => m.chat_id === String(user.id));
  const lastText = (user: { id: number }) => textsTo(user).at(-1)?.versions.at(-1) ?? '';
  /** Some message to the user now reads so (replies streamed earlier may still be arriving). */
  const saidTo = (user: { id: number }, test: (text: string) => boolean) =>
    textsTo(user).some((m) => test(m.versions.at(-1) ?? ''));
  const userCalls = (text: string) =>
    h.fake.calls.filter((c) => c.messages.some((m) => m.role === 'user' && m.content.includes(text)));

  beforeAll(async () => {
    tg = await startFakeTelegram(TOKEN);
    h = await startHarness({
      agentsYaml: 'agents:\n  alpha:\n    role: first\n  beta:\n    role: second\n  gamma:\n    role: not for alice\n',
      env: { LEGION_CRED_TELEGRAM_BOT: TOKEN },
      permissionsYaml:
        'default:\n  allowed_apis: [llm]\nagents:\n  alpha:\n    allowed_apis: [llm]\n    can_notify_user: true\n',
      fake: { chunkDelayMs: 60 },
      meshYaml: (port) =>
        `mesh: { host: 127.0.0.1, port: ${port} }\nllm:\n  default_model: openai/gpt-4o-mini\n  providers:\n    openai: {}\nchannels:\n  telegram:\n    token_credential: telegram_bot\n    api_root: ${tg.url}\n`,
    });
    h.fake.respondWith((call) => {
      const text = call.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
      if (text === 'stream please') return { text: STREAMED };
      if (text === 'long please') return { text: LONG };
      return directiveResponder(call);
    });
  });
  afterAll(async () => {
    await h?.close();
    await tg?.close();
  });

  it('answers an unknown user with a pairing code and never calls an agent', async () => {
    tg.userSays(ALICE, 'hello agents');
    const reply = await until('the pairing code', () => /legion channels pair ([A-Z0-9]{8})/.exec(lastText(ALICE)));
    expect(reply[1]).toBeDefined();
    await sleep(500);
    expect(userCalls('hello agents')).toHaveLength(0);
  });

  it('pairs with `legion channels pair`, then streams the reply into one message edited several times', async () => {
    const code = /legion channels pair ([A-Z0-9]{8})/.exec(lastText(ALICE))?.[1] ?? '';
    const paired = await legion(['channels', 'pair', code.toLowerCase(), '--agents', 'alpha,beta'], h.project.dir);
    expect(paired.stdout).toContain('paired telegram:5001 (alice) with alpha, beta');
    const { users } = await h.client.requestJson('GET', '/api/channels/users', ChannelUserListSchema);
    expect(users).toEqual([
      expect.objectContaining({ user: 'telegram:5001', agents: ['alpha', 'beta'], current_agent: 'alpha' }),
    ]);
    // A used code pairs nobody again.
    await expect(h.client.requestJson('POST', '/api/channels/pair', ChannelUserSchema, { code })).rejects.toThrow(
      /no pending pairing code/,
    );

    const before = textsTo(ALICE).length;
    tg.userSays(ALICE, 'stream please');
    const streamed = await until('the streamed reply', () =>
      textsTo(ALICE)
        .slice(before)
        .find((m) => m.versions.at(-1) === STREAMED),
    );
    expect(streamed.versions.length).toBeGreaterThanOrEqual(3);
    for (const [i, version] of streamed.versions.entries())
      if (i > 0) expect(version.startsWith(streamed.versions[i - 1] ?? '')).toBe(true);
    expect(tg.calls.some((c) => c.method === 'sendChatAction' && c.body.action === 'typing')).toBe(true);
    await h.waitForCall('alpha', /^stream please$/);
  });

  it('splits a 9,000-character reply into 3 messages', async () => {
    const before = textsTo(ALICE).length;
    tg.userSays(ALICE, 'long please');
    const parts = await until(
      '3 messages',
      () => {
        const sent = textsTo(ALICE).slice(before);
        return sent.length === 3 && sent.map((m) => m.versions.at(-1) ?? '').join('\n\n') === LONG ? sent : null;
      },
      60_000,
    );
    for (const part of parts) expect((part.versions.at(-1) ?? '').length).toBeLessThanOrEqual(4096);
  }, 70_000);

  it("routes @agent, /use, /status and /reset within the user's agents, in a session apart from the REPL", async () => {
    tg.userSays(ALICE, '@beta hi beta');
    await h.waitForCall('beta', /^hi beta$/);
    tg.userSays(ALICE, '@gamma hi gamma');
    await until('the refusal', () => saidTo(ALICE, (t) => t.includes('you are not paired with gamma')));
    tg.userSays(ALICE, '/use beta');
    await until('the switch', () => saidTo(ALICE, (t) => t === 'now talking to beta'));
    tg.userSays(ALICE, 'remember kiwi');
    const call = await h.waitForCall('beta', /^remember kiwi$/);
    // Beta's channel session holds the earlier channel turn, not the REPL's.
    expect(call.messages.some((m) => m.role === 'user' && m.content === 'hi beta')).toBe(true);
    await h.say('beta', 'repl says mango');
    expect(h.fake.calls.at(-1)?.messages.some((m) => m.content === 'hi beta')).toBe(false);
    tg.userSays(ALICE, '/status');
    await until('the status', () => saidTo(ALICE, (t) => /^\s*alpha: healthy[\s\S]*\* beta: healthy/.test(t)));
    tg.userSays(ALICE, '/reset');
    await until('the reset', () => saidTo(ALICE, (t) => t === 'new conversation with beta'));
    tg.userSays(ALICE, 'after reset');
    const fresh = await h.waitForCall('beta', /^after reset$/);
    expect(fresh.messages.some((m) => m.content === 'remember kiwi')).toBe(false);
  });

  it('lets an agent with can_notify_user message its paired users first, and denies one without it', async () => {
    expect(await h.say('alpha', 'call notify_user {"text":"the build is green"}')).toContain(
      'queued for 1 paired user',
    );
    await until('the notification', () => saidTo(ALICE, (t) => t === 'the build is green'));
    expect(await h.say('beta', 'call notify_user {"text":"from beta"}')).toContain(
      'beta may not message its paired channel users first: can_notify_user is false',
    );
    await sleep(300);
    expect(saidTo(ALICE, (t) => t === 'from beta')).toBe(false);
  });

  it('sends the reply of a cron run of a paired agent to its users', async () => {
    const job = await h.client.requestJson('POST', '/api/cron/jobs', CronJobSchema, {
      agent: 'alpha',
      schedule: 'at 2099-01-01T00:00',
      message: 'nightly report',
    });
    await h.client.requestJson('POST', `/api/cron/jobs/${job.id}/run`, z.unknown());
    await until('the cron result', () =>
      saidTo(ALICE, (t) => t.startsWith('[alpha · cron job]\necho: [cron job') && t.includes('nightly report')),
    );
  });

  it('stops delivery at once on revoke: the next message gets a new code and reaches no agent', async () => {
    const revoked = await legion(['channels', 'revoke', 'telegram:5001'], h.project.dir);
    expect(revoked.stdout).toContain('revoked telegram:5001');
    tg.userSays(ALICE, 'still there?');
    await until('a new code', () => /legion channels pair [A-Z0-9]{8}/.test(lastText(ALICE)));
    await sleep(500);
    expect(userCalls('still there?')).toHaveLength(0);
  });

  it("keeps the bot token inside the mesh: not in agents' environment, logs or events", async () => {
    for (const launch of h.runtime.launches.values()) expect(JSON.stringify(launch)).not.toContain(TOKEN);
    expect(h.meshLog()).not.toContain(TOKEN);
    for (const agent of ['alpha', 'beta']) expect(await h.runtime.logs(agent, 10_000)).not.toContain(TOKEN);
    const events = await h.client.requestJson('GET', '/api/events?limit=1000', EventListSchema);
    expect(JSON.stringify(events)).not.toContain(TOKEN);
    expect(events.events.some((e) => e.kind === 'channel_paired')).toBe(true);
  });
});
