// Who may use the dashboard: one-time login codes (handed out over the admin API, so
// only the admin token's owner gets one) and the sessions they open. Both live in
// memory only: like the admin token, they end with the mesh, and a restarted mesh asks
// for a fresh `legion dashboard`. A code opens at most one session and is gone once
// used or expired. Codes and session ids are random secrets, never derived from the
// admin token, and kept only as their SHA-256 (a lookup then leaks nothing usable).
import { newSecret, sha256Hex } from '../../shared/ids.js';

/** How long a login code stays usable: the issue asks for under a minute. */
export const DEFAULT_CODE_TTL_MS = 60_000;
/** A session outlives a working day but not a forgotten browser tab for a week. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export interface DashboardAccessOptions {
  codeTtlMs?: number;
  now?: () => number;
}

export class DashboardAccess {
  private readonly codes = new Map<string, number>();
  private readonly sessions = new Map<string, number>();
  readonly codeTtlMs: number;
  private readonly now: () => number;

  constructor(options: DashboardAccessOptions = {}) {
    this.codeTtlMs = Math.min(options.codeTtlMs ?? DEFAULT_CODE_TTL_MS, DEFAULT_CODE_TTL_MS);
    this.now = options.now ?? Date.now;
  }

  /** A fresh login code and the instant it expires. */
  issueCode(): { code: string; expiresAt: number } {
    this.sweep();
    const code = newSecret(24);
    const expiresAt = this.now() + this.codeTtlMs;
    this.codes.set(sha256Hex(code), expiresAt);
    return { code, expiresAt };
  }

  /** Trades a live code for a new session id; null when the code is unknown, used or expired. */
  redeem(code: string): string | null {
    const key = sha256Hex(code);
    const expiresAt = this.codes.get(key);
    // Single use: the code is gone whatever the outcome.
    this.codes.delete(key);
    if (expiresAt === undefined || this.now() >= expiresAt) return null;
    const session = newSecret(32);
    this.sessions.set(sha256Hex(session), this.now() + SESSION_TTL_MS);
    return session;
  }

  isSession(id: string | undefined): boolean {
    if (!id) return false;
    const key = sha256Hex(id);
    const expiresAt = this.sessions.get(key);
    if (expiresAt === undefined) return false;
    if (this.now() >= expiresAt) {
      this.sessions.delete(key);
      return false;
    }
    return true;
  }

  /** Ends every session and drops unused codes; returns how many sessions were open. */
  revokeAll(): number {
    this.sweep();
    const open = this.sessions.size;
    this.sessions.clear();
    this.codes.clear();
    return open;
  }

  private sweep(): void {
    const now = this.now();
    for (const [code, at] of this.codes) if (now >= at) this.codes.delete(code);
    for (const [id, at] of this.sessions) if (now >= at) this.sessions.delete(id);
  }
}
