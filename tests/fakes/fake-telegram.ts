// A local stand-in for the Telegram Bot API (POST /bot<token>/<method>, JSON in, the
// real { ok, result } envelopes out), so the mesh's real grammY client talks to it.
// Speaks getMe, deleteWebhook, setWebhook, getUpdates (long polling with offset and
// timeout), sendMessage, editMessageText and sendChatAction. Tests push user messages
// with userSays() and read what the bot did from `calls` and `messages`.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TelegramCall {
  method: string;
  body: Record<string, unknown>;
}

export interface BotMessage {
  chat_id: string;
  message_id: number;
  /** Every text the message had, the first from sendMessage, then one per edit. */
  versions: string[];
}

export interface FakeTelegram {
  /** The apiRoot for grammY: http://127.0.0.1:PORT */
  url: string;
  calls: TelegramCall[];
  messages: BotMessage[];
  /** A private-chat text message from a user, delivered by the next getUpdates. */
  userSays(user: { id: number; username: string }, text: string): void;
  close(): Promise<void>;
}

export async function startFakeTelegram(token: string): Promise<FakeTelegram> {
  const calls: TelegramCall[] = [];
  const messages: BotMessage[] = [];
  const updates: { update_id: number; message: unknown }[] = [];
  const waiting = new Set<() => void>();
  let nextUpdate = 1;
  let nextMessage = 1000;
  let confirmed = 0;

  const wakePollers = () => {
    for (const wake of waiting) wake();
    waiting.clear();
  };

  const answer = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const match = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? '');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (!match) return answer(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    if (match[1] !== token) return answer(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    const method = match[2] ?? '';
    const text = Buffer.concat(chunks).toString('utf8');
    const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    calls.push({ method, body });
    switch (method) {
      case 'getMe':
        return answer(res, 200, {
          ok: true,
          result: {
            id: 42,
            is_bot: true,
            first_name: 'Legion',
            username: 'legion_test_bot',
            can_join_groups: false,
            can_read_all_group_messages: false,
            supports_inline_queries: false,
          },
        });
      case 'deleteWebhook':
      case 'setWebhook':
        return answer(res, 200, { ok: true, result: true });
      case 'getUpdates': {
        const offset = Number(body.offset ?? 0);
        if (offset > confirmed) confirmed = offset - 1;
        const pending = () => updates.filter((u) => u.update_id >= offset);
        const timeoutS = Number(body.timeout ?? 0);
        if (pending().length === 0 && timeoutS > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.min(timeoutS, 2) * 1000);
            waiting.add(() => {
              clearTimeout(timer);
              resolve();
            });
          });
        }
        return answer(res, 200, { ok: true, result: pending() });
      }
      case 'sendMessage': {
        const message: BotMessage = {
          chat_id: String(body.chat_id),
          message_id: nextMessage++,
          versions: [String(body.text)],
        };
        messages.push(message);
        return answer(res, 200, {
          ok: true,
          result: {
            message_id: message.message_id,
            date: Math.floor(Date.now() / 1000),
            chat: { id: Number(body.chat_id), type: 'private' },
            text: body.text,
          },
        });
      }
      case 'editMessageText': {
        const message = messages.find(
          (m) => m.message_id === Number(body.message_id) && m.chat_id === String(body.chat_id),
        );
        if (!message)
          return answer(res, 400, {
            ok: false,
            error_code: 400,
            description: 'Bad Request: message to edit not found',
          });
        if (message.versions.at(-1) === body.text)
          return answer(res, 400, { ok: false, error_code: 400, description: 'Bad Request: message is not modified' });
        message.versions.push(String(body.text));
        return answer(res, 200, {
          ok: true,
          result: {
            message_id: message.message_id,
            date: Math.floor(Date.now() / 1000),
            chat: { id: Number(body.chat_id), type: 'private' },
            text: body.text,
          },
        });
      }
      case 'sendChatAction':
        return answer(res, 200, { ok: true, result: true });
      default:
        return answer(res, 404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) =>
      answer(res, 500, { ok: false, error_code: 500, description: String(err) }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    messages,
    userSays(user, text) {
      const id = nextUpdate++;
      updates.push({
        update_id: id,
        message: {
          message_id: id,
          date: Math.floor(Date.now() / 1000),
          chat: { id: user.id, type: 'private', username: user.username },
          from: { id: user.id, is_bot: false, first_name: user.username, username: user.username },
          text,
        },
      });
      wakePollers();
    },
    close: async () => {
      wakePollers();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
