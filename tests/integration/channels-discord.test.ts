// Discord through the real mesh, real agent processes, the real @discordjs REST and
// gateway clients and a local Discord stand-in (REST + WebSocket gateway): an unknown
// user gets a pairing code and never reaches an agent; once paired, a DM reply streams
// into one message edited several times; a mention in an allowed channel reaches the
// agent without the mention, one elsewhere (or from a bot, or without a mention) does
// not; a long reply arrives split at 2,000 characters; @agent, /use, /status and /reset
// work; notify_user reaches paired users in their DMs; revoke stops delivery at once;
// the bot token stays in the mesh.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';
import { directiveResponder } from '../fakes/fake-provider.js';
import { startFakeDiscord, type DiscordUser, type FakeDiscord } from '../fakes/fake-discord.js';
import { ChannelUserListSchema } from '../../src/shared/wire/channels.js';
import { EventListSchema } from '../../src/shared/wire/events.js';
import { legion } from '../helpers/project.js';

const TOKEN = 'MTMwMDAwMDAwMDAwMDAwMDAwMQ.GfAkEd.FakeDiscordBotTokenForLegionTests_0123456';
const ALICE: DiscordUser = { id: '400000000000000501', username: 'alice' };
const BOB: DiscordUser = { id: '400000000000000502', username: 'bob' };
const OTHER_BOT: DiscordUser = { id: '400000000000000900', username: 'otherbot', bot: true };
const GUILD = '110000000000000001';
const ALLOWED = { guild: GUILD, channel: '120000000000000001' };
const ELSEWHERE = { guild: GUILD, channel: '120000000000000002' };
const STREAMED = Array.from({ length: 50 }, (_, i) => `word${i}`).join(' ');
const LONG = Array.from({ length: 3 }, (_, p) =>
  Array.from({ length: 15 }, () => `${'p'.repeat(98)}${p}`).join(' '),
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

describe('discord channel', () => {
  let h: Harness;
  let dc: FakeDiscord;
  const inChannel = (channel: string) => dc.messages.filter((m) => m.channel_id === channel);
  const dmOf = (user: DiscordUser) => inChannel(dc.dmChannel(user));
  const lastIn = (channel: string) => inChannel(channel).at(-1)?.versions.at(-1) ?? '';
  /** Some message in the channel now reads so (replies streamed earlier may still be arriving). */
  const saidIn = (channel: string, test: (text: string) => boolean) =>
    inChannel(channel).some((m) => test(m.versions.at(-1) ?? ''));
  const userCalls = (text: string) =>
    h.fake.calls.filter((c) => c.messages.some((m) => m.role === 'user' && m.content.includes(text)));
  const mention = () => `<@${dc.bot.id}>`;
  const codeIn = (channel: string) => /legion channels pair ([A-Z0-9]{8})/.exec(lastIn(channel))?.[1];

  beforeAll(async () => {
    dc = await startFakeDiscord(TOKEN);
    h = await startHarness({
      agentsYaml: 'agents:\n  alpha:\n    role: first\n  beta:\n    role: second\n  gamma:\n    role: not for alice\n',
      env: { LEGION_CRED_DISCORD_BOT: TOKEN },
      permissionsYaml:
        'default:\n  allowed_apis: [llm]\nagents:\n  alpha:\n    allowed_apis: [llm]\n    can_notify_user: true\n',
      fake: { chunkDelayMs: 60 },
      meshYaml: (port) =>
        `mesh: { host: 127.0.0.1, port: ${port} }\nllm:\n  default_model: openai/gpt-4o-mini\n  providers:\n    openai: {}\nchannels:\n  discord:\n    token_credential: discord_bot\n    api_base: ${dc.url}\n    allowed_channels: ["${ALLOWED.channel}"]\n`,
    });
    h.fake.respondWith((call) => {
      const text = call.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
      if (text === 'stream please') return { text: STREAMED };
      if (text === 'long please') return { text: LONG };
      return directiveResponder(call);
    });
    await dc.ready();
  });
  afterAll(async () => {
    await h?.close();
    await dc?.close();
  });

  it("answers an unknown user's DM with a pairing code and never calls an agent", async () => {
    dc.userSays(ALICE, 'hello agents');
    await until('the pairing code', () => codeIn(dc.dmChannel(ALICE)));
    await sleep(500);
    expect(userCalls('hello agents')).toHaveLength(0);
  });

  it('pairs with `legion channels pair`, then streams a DM reply into one message edited several times', async () => {
    const code = codeIn(dc.dmChannel(ALICE)) ?? '';
    const paired = await legion(['channels', 'pair', code, '--agents', 'alpha,beta'], h.project.dir);
    expect(paired.stdout).toContain(`paired discord:${ALICE.id} (alice) with alpha, beta`);
    const { users } = await h.client.requestJson('GET', '/api/channels/users', ChannelUserListSchema);
    expect(users).toEqual([
      expect.objectContaining({ user: `discord:${ALICE.id}`, agents: ['alpha', 'beta'], current_agent: 'alpha' }),
    ]);
    await until('the paired notice', () => saidIn(dc.dmChannel(ALICE), (t) => t.startsWith('You are paired.')));

    const before = dmOf(ALICE).length;
    dc.userSays(ALICE, 'stream please');
    const streamed = await until('the streamed reply', () =>
      dmOf(ALICE)
        .slice(before)
        .find((m) => m.versions.at(-1) === STREAMED),
    );
    expect(dmOf(ALICE).slice(before)).toHaveLength(1);
    expect(streamed.versions.length).toBeGreaterThanOrEqual(3);
    for (const [i, version] of streamed.versions.entries())
      if (i > 0) expect(version.startsWith(streamed.versions[i - 1] ?? '')).toBe(true);
    expect(dc.calls.some((c) => c.method === 'POST' && c.route === `/channels/${dc.dmChannel(ALICE)}/typing`)).toBe(
      true,
    );
    await h.waitForCall('alpha', /^stream please$/);
  });

  it('takes a mention in an allowed channel without the mention, and answers there', async () => {
    dc.userSays(ALICE, `${mention()} hello from the channel`, ALLOWED);
    await h.waitForCall('alpha', /^hello from the channel$/);
    await until('the reply in the channel', () => saidIn(ALLOWED.channel, (t) => t === 'echo: hello from the channel'));
  });

  it('ignores a mention in another channel, a channel message without a mention, and other bots', async () => {
    dc.userSays(ALICE, `${mention()} over here instead`, ELSEWHERE);
    dc.userSays(ALICE, 'just chatting, no mention', ALLOWED);
    dc.userSays(OTHER_BOT, `${mention()} beep from a bot`, ALLOWED);
    dc.userSays(ALICE, `${mention()} marker after the ignored ones`, ALLOWED);
    await h.waitForCall('alpha', /^marker after the ignored ones$/);
    await sleep(500);
    for (const text of ['over here instead', 'just chatting', 'beep from a bot'])
      expect(userCalls(text)).toHaveLength(0);
    expect(inChannel(ELSEWHERE.channel)).toHaveLength(0);
    expect(saidIn(ALLOWED.channel, (t) => t.includes('legion channels pair'))).toBe(false);
  });

  it('splits a 4,500-character reply into 3 messages of at most 2,000 characters', async () => {
    const before = dmOf(ALICE).length;
    dc.userSays(ALICE, 'long please');
    const parts = await until(
      '3 messages',
      () => {
        const sent = dmOf(ALICE).slice(before);
        return sent.length === 3 && sent.map((m) => m.versions.at(-1) ?? '').join('\n\n') === LONG ? sent : null;
      },
      60_000,
    );
    for (const part of parts) expect((part.versions.at(-1) ?? '').length).toBeLessThanOrEqual(2000);
  }, 70_000);

  it("routes @agent, /use, /status and /reset within the user's agents", async () => {
    const dm = dc.dmChannel(ALICE);
    dc.userSays(ALICE, '@beta hi beta');
    await h.waitForCall('beta', /^hi beta$/);
    dc.userSays(ALICE, '@gamma hi gamma');
    await until('the refusal', () => saidIn(dm, (t) => t.includes('you are not paired with gamma')));
    dc.userSays(ALICE, '/use beta');
    await until('the switch', () => saidIn(dm, (t) => t === 'now talking to beta'));
    dc.userSays(ALICE, 'remember kiwi');
    const call = await h.waitForCall('beta', /^remember kiwi$/);
    expect(call.messages.some((m) => m.role === 'user' && m.content === 'hi beta')).toBe(true);
    dc.userSays(ALICE, '/status');
    await until('the status', () => saidIn(dm, (t) => /^\s*alpha: healthy[\s\S]*\* beta: healthy/.test(t)));
    dc.userSays(ALICE, '/reset');
    await until('the reset', () => saidIn(dm, (t) => t === 'new conversation with beta'));
    dc.userSays(ALICE, 'after reset');
    const fresh = await h.waitForCall('beta', /^after reset$/);
    expect(fresh.messages.some((m) => m.content === 'remember kiwi')).toBe(false);
  });

  it("sends notify_user to paired users' DMs, also to one who paired from a server channel", async () => {
    dc.userSays(BOB, `${mention()} let me in`, ALLOWED);
    const code = await until("bob's code in the channel", () => codeIn(ALLOWED.channel));
    expect((await legion(['channels', 'pair', code, '--agents', 'alpha'], h.project.dir)).stdout).toContain(
      `paired discord:${BOB.id} (bob) with alpha`,
    );
    await until("bob's paired notice in his DM", () =>
      saidIn(dc.dmChannel(BOB), (t) => t.startsWith('You are paired.')),
    );
    expect(
      dc.calls.some((c) => c.method === 'POST' && c.route === '/users/@me/channels' && c.body.recipient_id === BOB.id),
    ).toBe(true);

    expect(await h.say('alpha', 'call notify_user {"text":"the build is green"}')).toContain(
      'queued for 2 paired users',
    );
    await until("alice's notification", () => saidIn(dc.dmChannel(ALICE), (t) => t === 'the build is green'));
    await until("bob's notification", () => saidIn(dc.dmChannel(BOB), (t) => t === 'the build is green'));
    expect(saidIn(ALLOWED.channel, (t) => t === 'the build is green')).toBe(false);
  });

  it('stops delivery at once on revoke: the next message gets a new code and reaches no agent', async () => {
    const revoked = await legion(['channels', 'revoke', `discord:${ALICE.id}`], h.project.dir);
    expect(revoked.stdout).toContain(`revoked discord:${ALICE.id}`);
    dc.userSays(ALICE, 'still there?');
    await until('a new code', () => codeIn(dc.dmChannel(ALICE)));
    await sleep(500);
    expect(userCalls('still there?')).toHaveLength(0);
  });

  it("keeps the bot token inside the mesh: not in agents' environment, logs or events; never answers its own messages", async () => {
    expect(dc.identifies.at(-1)?.token).toBe(TOKEN);
    for (const launch of h.runtime.launches.values()) expect(JSON.stringify(launch)).not.toContain(TOKEN);
    expect(h.meshLog()).not.toContain(TOKEN);
    for (const agent of ['alpha', 'beta']) expect(await h.runtime.logs(agent, 10_000)).not.toContain(TOKEN);
    const events = await h.client.requestJson('GET', '/api/events?limit=1000', EventListSchema);
    expect(JSON.stringify(events)).not.toContain(TOKEN);
    expect(events.events.some((e) => e.kind === 'channel_paired')).toBe(true);
    // The stand-in echoes every bot message back as MESSAGE_CREATE, as Discord does; none became a pairing request.
    expect(events.events.filter((e) => e.kind === 'channel_pairing_requested').map((e) => e.subject)).not.toContain(
      `discord:${dc.bot.id}`,
    );
  });
});
