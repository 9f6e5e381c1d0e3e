// Channels in mesh.db: one-time pairing codes, paired users (who may talk to which
// agents, and to which one now), inbound platform message ids already taken, and the
// outbox of messages an agent sends first (notify_user, cron and heartbeat results).
// Invariants: a code pairs at most once (it is deleted in the transaction that pairs)
// and expires after CODE_TTL_MS; an inbound message is put on a lane at most once,
// whatever the platform re-sends after a restart; a revoked user's rows go in one
// transaction with their queued lane items and outbox messages, so nothing more is
// delivered to them.
import type { Db, Migration } from '../db.js';
import { randomInt } from 'node:crypto';
import { LegionError } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import type { ChannelPlatform, ChannelUser } from '../../shared/wire/channels.js';

export const channelsMigrations: Migration[] = [
  {
    domain: 'channels',
    version: 1,
    sql: `CREATE TABLE channel_codes (
      code TEXT PRIMARY KEY,
      platform TEXT NOT NULL,
      user_id TEXT NOT NULL,
      chat_id TEXT NOT NULL,
      name TEXT NOT NULL,
      expires_at INTEGER NOT NULL,
      UNIQUE (platform, user_id)
    );
    CREATE TABLE channel_users (
      platform TEXT NOT NULL,
      user_id TEXT NOT NULL,
      chat_id TEXT NOT NULL,
      name TEXT NOT NULL,
      agents TEXT NOT NULL,
      current_agent TEXT NOT NULL,
      paired_at TEXT NOT NULL,
      PRIMARY KEY (platform, user_id)
    );
    CREATE TABLE channel_inbound (
      platform TEXT NOT NULL,
      message_key TEXT NOT NULL,
      received_at INTEGER NOT NULL,
      PRIMARY KEY (platform, message_key)
    );
    CREATE TABLE channel_outbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      platform TEXT NOT NULL,
      user_id TEXT NOT NULL,
      chat_id TEXT NOT NULL,
      agent TEXT NOT NULL,
      text TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      created_at TEXT NOT NULL
    );`,
  },
];

/** A code is good for an hour: long enough to reach a terminal, short enough not to linger. */
export const CODE_TTL_MS = 60 * 60 * 1000;
/** Inbound ids are kept a day: platforms re-send unconfirmed updates for far less. */
const INBOUND_KEEP_MS = 24 * 60 * 60 * 1000;
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

export interface PairedUser {
  platform: ChannelPlatform;
  user_id: string;
  chat_id: string;
  name: string;
  agents: string[];
  current_agent: string;
  paired_at: string;
}

interface UserRow extends Omit<PairedUser, 'agents'> {
  agents: string;
}

export interface OutboxMessage {
  id: string;
  platform: ChannelPlatform;
  user_id: string;
  chat_id: string;
  agent: string;
  text: string;
  attempts: number;
}

/** platform:id, how users are named to the operator. */
export function userLabel(user: { platform: string; user_id: string }): string {
  return `${user.platform}:${user.user_id}`;
}

function newCode(): string {
  return Array.from({ length: 8 }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');
}

export class ChannelStore {
  private readonly db: Db;
  private readonly now: () => number;

  constructor(db: Db, now: () => number = Date.now) {
    this.db = db;
    this.now = now;
  }

  /** The pending code of this unknown user, or a new one; the same user asking twice gets the same code. */
  codeFor(platform: ChannelPlatform, userId: string, chatId: string, name: string): string {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM channel_codes WHERE expires_at <= ?').run(this.now());
      const existing = this.db
        .prepare<[string, string], { code: string }>(
          'SELECT code FROM channel_codes WHERE platform = ? AND user_id = ?',
        )
        .get(platform, userId);
      if (existing) return existing.code;
      const code = newCode();
      this.db
        .prepare(
          'INSERT INTO channel_codes (code, platform, user_id, chat_id, name, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(code, platform, userId, chatId, name, this.now() + CODE_TTL_MS);
      return code;
    })();
  }

  /** Pairs the user behind `code` with `agents` (the first is where their messages go) and spends the code. */
  pair(code: string, agents: string[], defaultAgent: string | undefined): PairedUser {
    return this.db.transaction(() => {
      const row = this.db
        .prepare<[string, number], { platform: ChannelPlatform; user_id: string; chat_id: string; name: string }>(
          'SELECT * FROM channel_codes WHERE code = ? AND expires_at > ?',
        )
        .get(code, this.now());
      if (!row)
        throw new LegionError(
          'unknown_code',
          `no pending pairing code ${code}: it was mistyped, already used or older than an hour; the user gets a new one by writing to the bot again`,
        );
      this.db.prepare('DELETE FROM channel_codes WHERE code = ?').run(code);
      const current = defaultAgent !== undefined && agents.includes(defaultAgent) ? defaultAgent : agents[0];
      if (current === undefined)
        throw new LegionError('invalid_agents', 'a user must be paired with at least one agent');
      const user: PairedUser = {
        ...row,
        agents,
        current_agent: current,
        paired_at: new Date(this.now()).toISOString(),
      };
      this.db
        .prepare(
          'INSERT OR REPLACE INTO channel_users (platform, user_id, chat_id, name, agents, current_agent, paired_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(user.platform, user.user_id, user.chat_id, user.name, JSON.stringify(agents), current, user.paired_at);
      return user;
    })();
  }

  user(platform: ChannelPlatform, userId: string): PairedUser | null {
    const row = this.db
      .prepare<[string, string], UserRow>('SELECT * FROM channel_users WHERE platform = ? AND user_id = ?')
      .get(platform, userId);
    return row ? { ...row, agents: JSON.parse(row.agents) as string[] } : null;
  }

  users(): PairedUser[] {
    return this.db
      .prepare<[], UserRow>('SELECT * FROM channel_users ORDER BY paired_at')
      .all()
      .map((row) => ({ ...row, agents: JSON.parse(row.agents) as string[] }));
  }

  /** Users paired with `agent`, for messages the agent sends first. */
  usersOf(agent: string): PairedUser[] {
    return this.users().filter((user) => user.agents.includes(agent));
  }

  setCurrentAgent(platform: ChannelPlatform, userId: string, agent: string): void {
    this.db
      .prepare('UPDATE channel_users SET current_agent = ? WHERE platform = ? AND user_id = ?')
      .run(agent, platform, userId);
  }

  /** Removes a paired user (platform:id, or their name when only one user has it), their
   *  queued channel items and their unsent outbox messages; returns their label. */
  revoke(who: string): string {
    const users = this.users();
    const matches = users.filter((user) => userLabel(user) === who);
    const byName = matches.length > 0 ? matches : users.filter((user) => user.name === who || `@${user.name}` === who);
    const user = byName[0];
    if (user === undefined)
      throw new LegionError(
        'unknown_user',
        `no paired user "${who}"; \`legion channels users\` lists them as platform:id`,
      );
    if (byName.length > 1)
      throw new LegionError(
        'ambiguous_user',
        `${byName.length} paired users are named "${who}"; name one as platform:id (${byName.map(userLabel).join(', ')})`,
      );
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM channel_users WHERE platform = ? AND user_id = ?').run(user.platform, user.user_id);
      this.db.prepare('DELETE FROM channel_outbox WHERE platform = ? AND user_id = ?').run(user.platform, user.user_id);
      this.db
        .prepare(
          "UPDATE lane_items SET status = 'failed', last_error = 'the channel user was revoked', finished_at = ? WHERE kind = 'channel' AND status = 'queued' AND json_extract(body, '$.platform') = ? AND json_extract(body, '$.user_id') = ?",
        )
        .run(new Date(this.now()).toISOString(), user.platform, user.user_id);
    })();
    return userLabel(user);
  }

  /** Runs `accept` once per inbound platform message: false (and nothing run) for one already taken. */
  acceptOnce(platform: ChannelPlatform, messageKey: string, accept: () => void): boolean {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM channel_inbound WHERE received_at <= ?').run(this.now() - INBOUND_KEEP_MS);
      const inserted = this.db
        .prepare('INSERT OR IGNORE INTO channel_inbound (platform, message_key, received_at) VALUES (?, ?, ?)')
        .run(platform, messageKey, this.now()).changes;
      if (inserted === 0) return false;
      accept();
      return true;
    })();
  }

  queueOutbox(user: PairedUser, agent: string, text: string): void {
    this.db
      .prepare(
        'INSERT INTO channel_outbox (id, platform, user_id, chat_id, agent, text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(newId('out'), user.platform, user.user_id, user.chat_id, agent, text, new Date(this.now()).toISOString());
  }

  outbox(platform: ChannelPlatform): OutboxMessage[] {
    return this.db
      .prepare<[string], OutboxMessage>(
        'SELECT id, platform, user_id, chat_id, agent, text, attempts FROM channel_outbox WHERE platform = ? ORDER BY seq',
      )
      .all(platform);
  }

  sent(id: string): void {
    this.db.prepare('DELETE FROM channel_outbox WHERE id = ?').run(id);
  }

  /** Counts a failed send; the message is dropped once it failed `maxAttempts` times. */
  failedSend(id: string, maxAttempts: number): void {
    this.db.prepare('UPDATE channel_outbox SET attempts = attempts + 1 WHERE id = ?').run(id);
    this.db.prepare('DELETE FROM channel_outbox WHERE id = ? AND attempts >= ?').run(id, maxAttempts);
  }
}

export function toWireUser(user: PairedUser): ChannelUser {
  return {
    user: userLabel(user),
    platform: user.platform,
    name: user.name,
    agents: user.agents,
    current_agent: user.current_agent,
    paired_at: user.paired_at,
  };
}
