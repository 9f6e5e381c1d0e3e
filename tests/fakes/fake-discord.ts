// A local stand-in for Discord: the REST API (v10, JSON, `Authorization: Bot <token>`)
// and the gateway (a WebSocket speaking JSON without compression: HELLO, IDENTIFY,
// READY, heartbeats and ACKs, RESUME, dispatches), so the mesh's real @discordjs
// clients talk to it. REST answers GET /gateway/bot (naming this gateway), GET
// /users/@me, POST /users/@me/channels (a user's DM channel), POST and PATCH
// /channels/:id/messages (refusing more than 2,000 characters, as Discord does) and
// POST /channels/:id/typing. As on Discord, the bot's own messages come back to it as
// MESSAGE_CREATE. Tests make users write with userSays() and read what the bot did from
// `calls` and `messages`.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

export interface DiscordUser {
  id: string;
  username: string;
  bot?: boolean;
}

export interface DiscordCall {
  method: string;
  /** The route after /api/v10, e.g. /channels/123/messages */
  route: string;
  body: Record<string, unknown>;
}

export interface BotMessage {
  channel_id: string;
  id: string;
  /** Every text the message had, the first from the POST, then one per edit. */
  versions: string[];
}

export interface Identify {
  token: string;
  intents: number;
}

export interface FakeDiscord {
  /** The REST base for the client (config api_base): http://127.0.0.1:PORT/api */
  url: string;
  bot: DiscordUser;
  calls: DiscordCall[];
  messages: BotMessage[];
  identifies: Identify[];
  /** Resolves once a client identified and got READY. */
  ready(): Promise<void>;
  /** The DM channel between the bot and `user` (the one POST /users/@me/channels returns). */
  dmChannel(user: DiscordUser): string;
  /** `user` writes `text`: in their DM with the bot, or in a server channel. `<@id>` in the text mentions that user. */
  userSays(user: DiscordUser, text: string, where?: { guild: string; channel: string }): void;
  close(): Promise<void>;
}

const API_PREFIX = '/api/v10';
const MAX_CONTENT = 2000;

export async function startFakeDiscord(
  token: string,
  options: { heartbeatIntervalMs?: number } = {},
): Promise<FakeDiscord> {
  const calls: DiscordCall[] = [];
  const messages: BotMessage[] = [];
  const identifies: Identify[] = [];
  const sockets = new Set<WebSocket>();
  const users = new Map<string, DiscordUser>();
  const dmChannels = new Map<string, string>();
  const sessions = new Map<string, WebSocket>();
  let nextId = 1_300_000_000_000_000_000n;
  const snowflake = () => String(nextId++);
  const bot: DiscordUser = { id: snowflake(), username: 'legion', bot: true };
  let seq = 0;
  let readyResolve: () => void = () => undefined;
  const readyPromise = new Promise<void>((resolve) => (readyResolve = resolve));

  const apiUser = (user: DiscordUser) => ({
    id: user.id,
    username: user.username,
    discriminator: '0',
    global_name: null,
    avatar: null,
    ...(user.bot ? { bot: true } : {}),
  });
  const dmChannel = (user: DiscordUser) => {
    users.set(user.id, user);
    let id = dmChannels.get(user.id);
    if (id === undefined) {
      id = snowflake();
      dmChannels.set(user.id, id);
    }
    return id;
  };
  const guildOf = new Map<string, string>();

  const send = (socket: WebSocket, payload: { op: number; d: unknown; s?: number | null; t?: string | null }) =>
    socket.send(JSON.stringify({ s: null, t: null, ...payload }));
  const dispatch = (t: string, d: unknown) => {
    seq += 1;
    for (const socket of sessions.values()) send(socket, { op: 0, t, s: seq, d });
  };
  const messageObject = (
    author: DiscordUser,
    channelId: string,
    id: string,
    content: string,
    guildId: string | undefined,
  ) => {
    const mentioned = [...content.matchAll(/<@!?(\d+)>/g)]
      .map((m) => (m[1] === bot.id ? bot : users.get(m[1] ?? '')))
      .filter((u): u is DiscordUser => u !== undefined);
    return {
      id,
      channel_id: channelId,
      ...(guildId === undefined
        ? {}
        : {
            guild_id: guildId,
            member: { roles: [], joined_at: new Date().toISOString(), deaf: false, mute: false, flags: 0 },
          }),
      author: apiUser(author),
      content,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: mentioned.map(apiUser),
      mention_roles: [],
      attachments: [],
      embeds: [],
      pinned: false,
      type: 0,
      flags: 0,
    };
  };

  const answer = (res: ServerResponse, status: number, body?: unknown) => {
    if (body === undefined) {
      res.writeHead(status);
      res.end();
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, port: number): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = decodeURIComponent((req.url ?? '').split('?')[0] ?? '');
    if (!path.startsWith(API_PREFIX)) return answer(res, 404, { message: '404: Not Found', code: 0 });
    if (req.headers.authorization !== `Bot ${token}`)
      return answer(res, 401, { message: '401: Unauthorized', code: 0 });
    const route = path.slice(API_PREFIX.length);
    const text = Buffer.concat(chunks).toString('utf8');
    const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    const method = req.method ?? 'GET';
    calls.push({ method, route, body });
    const tooLong = () =>
      answer(res, 400, {
        message: 'Invalid Form Body',
        code: 50035,
        errors: {
          content: {
            _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${MAX_CONTENT} or fewer in length.` }],
          },
        },
      });

    if (method === 'GET' && route === '/gateway/bot') {
      return answer(res, 200, {
        url: `ws://127.0.0.1:${port}/gateway`,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
      });
    }
    if (method === 'GET' && route === '/users/@me') return answer(res, 200, apiUser(bot));
    if (method === 'POST' && route === '/users/@me/channels') {
      const recipient = users.get(String(body.recipient_id)) ?? { id: String(body.recipient_id), username: 'unknown' };
      return answer(res, 200, {
        id: dmChannel(recipient),
        type: 1,
        last_message_id: null,
        recipients: [apiUser(recipient)],
      });
    }
    const typing = /^\/channels\/(\d+)\/typing$/.exec(route);
    if (method === 'POST' && typing) return answer(res, 204);
    const create = /^\/channels\/(\d+)\/messages$/.exec(route);
    if (method === 'POST' && create) {
      const content = String(body.content ?? '');
      if (content.length > MAX_CONTENT) return tooLong();
      const channelId = create[1] ?? '';
      const message: BotMessage = { channel_id: channelId, id: snowflake(), versions: [content] };
      messages.push(message);
      const created = messageObject(bot, channelId, message.id, content, guildOf.get(channelId));
      answer(res, 200, created);
      dispatch('MESSAGE_CREATE', created);
      return;
    }
    const edit = /^\/channels\/(\d+)\/messages\/(\d+)$/.exec(route);
    if (method === 'PATCH' && edit) {
      const message = messages.find((m) => m.channel_id === edit[1] && m.id === edit[2]);
      if (!message) return answer(res, 404, { message: 'Unknown Message', code: 10008 });
      const content = String(body.content ?? '');
      if (content.length > MAX_CONTENT) return tooLong();
      message.versions.push(content);
      return answer(res, 200, {
        ...messageObject(bot, message.channel_id, message.id, content, guildOf.get(message.channel_id)),
        edited_timestamp: new Date().toISOString(),
      });
    }
    return answer(res, 404, { message: '404: Not Found', code: 0 });
  };

  const gateway = new WebSocketServer({ noServer: true });
  gateway.on('connection', (socket: WebSocket, req: IncomingMessage) => {
    sockets.add(socket);
    const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
    // This stand-in speaks only what the mesh's client is set up for: JSON, uncompressed.
    if (query.get('encoding') !== 'json' || query.has('compress') || query.get('v') !== '10') {
      socket.close(4002, 'decode error: the stand-in speaks v10 JSON without compression');
      return;
    }
    let sessionId: string | null = null;
    send(socket, { op: 10, d: { heartbeat_interval: options.heartbeatIntervalMs ?? 1000 } });
    socket.on('message', (raw) => {
      const payload = JSON.parse(String(raw)) as { op: number; d: Record<string, unknown> | number | null };
      const d = typeof payload.d === 'object' && payload.d !== null ? payload.d : {};
      switch (payload.op) {
        case 1:
          return send(socket, { op: 11, d: null });
        case 2: {
          if (d.token !== token) return socket.close(4004, 'Authentication failed.');
          identifies.push({ token: String(d.token), intents: Number(d.intents) });
          sessionId = snowflake();
          sessions.set(sessionId, socket);
          seq += 1;
          send(socket, {
            op: 0,
            t: 'READY',
            s: seq,
            d: {
              v: 10,
              user: { ...apiUser(bot), verified: true, mfa_enabled: false, flags: 0 },
              guilds: [],
              session_id: sessionId,
              resume_gateway_url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/gateway`,
              shard: [0, 1],
              application: { id: snowflake(), flags: 0 },
            },
          });
          return readyResolve();
        }
        case 6: {
          const resumed = typeof d.session_id === 'string' && d.token === token ? d.session_id : null;
          if (resumed === null) return send(socket, { op: 9, d: false });
          sessionId = resumed;
          sessions.set(resumed, socket);
          seq += 1;
          return send(socket, { op: 0, t: 'RESUMED', s: seq, d: {} });
        }
        default:
          return undefined;
      }
    });
    socket.on('close', () => {
      sockets.delete(socket);
      if (sessionId !== null && sessions.get(sessionId) === socket) sessions.delete(sessionId);
    });
  });

  const server = createServer((req, res) => {
    handle(req, res, (server.address() as AddressInfo).port).catch((err: unknown) =>
      answer(res, 500, { message: String(err), code: 0 }),
    );
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((req.url ?? '').split('?')[0] !== '/gateway') return socket.destroy();
    gateway.handleUpgrade(req, socket, head, (ws) => gateway.emit('connection', ws, req));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api`,
    bot,
    calls,
    messages,
    identifies,
    ready: () => readyPromise,
    dmChannel,
    userSays(user, text, where) {
      users.set(user.id, user);
      const channelId = where ? where.channel : dmChannel(user);
      if (where) guildOf.set(where.channel, where.guild);
      dispatch('MESSAGE_CREATE', messageObject(user, channelId, snowflake(), text, where?.guild));
    },
    close: async () => {
      for (const socket of sockets) socket.terminate();
      gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
