// The dashboard's access rules as pure decisions: login codes are single-use and
// expire, sessions end on revoke; Host and Origin are judged against the admin
// address's names; the page's dollar format is the CLI's.
import { describe, expect, it } from 'vitest';
import { DashboardAccess, DEFAULT_CODE_TTL_MS } from '../../src/mesh/dashboard/access.js';
import { allowedHosts, dashboardOrigin, judgeRequest, readCookie } from '../../src/mesh/dashboard/guard.js';
import { formatUsd } from '../../src/shared/money.js';
import { usd } from '../../src/ui/money.js';

describe('login codes and sessions', () => {
  it('opens one session per code, within the code lifetime only', () => {
    let now = 1_000;
    const access = new DashboardAccess({ now: () => now });
    const { code, expiresAt } = access.issueCode();
    expect(expiresAt).toBe(1_000 + DEFAULT_CODE_TTL_MS);
    const session = access.redeem(code);
    expect(session).not.toBeNull();
    expect(access.isSession(session ?? undefined)).toBe(true);
    expect(access.redeem(code)).toBeNull();

    const late = access.issueCode();
    now = late.expiresAt;
    expect(access.redeem(late.code)).toBeNull();
    expect(access.isSession('made-up')).toBe(false);
    expect(access.isSession(undefined)).toBe(false);
  });

  it('never lets a code live longer than 60 s, and revoke ends every session and unused code', () => {
    const access = new DashboardAccess({ codeTtlMs: 10 * 60_000 });
    expect(access.codeTtlMs).toBe(60_000);
    const sessions = [access.redeem(access.issueCode().code), access.redeem(access.issueCode().code)];
    const pending = access.issueCode();
    expect(access.revokeAll()).toBe(2);
    for (const id of sessions) expect(access.isSession(id ?? undefined)).toBe(false);
    expect(access.redeem(pending.code)).toBeNull();
  });
});

describe('host and origin checks', () => {
  const hosts = allowedHosts('127.0.0.1', 8420);
  const facts = { method: 'GET', host: '127.0.0.1:8420', origin: undefined, needsSession: true, hasSession: true };

  it('knows the loopback names of a loopback or wildcard address, and only the address otherwise', () => {
    expect([...hosts].sort()).toEqual(['127.0.0.1:8420', '[::1]:8420', 'localhost:8420']);
    expect([...allowedHosts('0.0.0.0', 9000)].sort()).toEqual(['127.0.0.1:9000', '[::1]:9000', 'localhost:9000']);
    expect([...allowedHosts('192.168.1.5', 8420)]).toEqual(['192.168.1.5:8420']);
    expect(dashboardOrigin('0.0.0.0', 9000)).toBe('http://127.0.0.1:9000');
    expect(dashboardOrigin('::1', 9000)).toBe('http://[::1]:9000');
  });

  it('serves the own host and origin, refuses every other', () => {
    expect(judgeRequest(facts, hosts)).toEqual({ action: 'serve' });
    expect(
      judgeRequest({ ...facts, host: 'LOCALHOST:8420', origin: 'http://localhost:8420', method: 'POST' }, hosts),
    ).toEqual({ action: 'serve' });
    expect(judgeRequest({ ...facts, host: undefined }, hosts)).toMatchObject({ status: 403, code: 'foreign_host' });
    expect(judgeRequest({ ...facts, host: 'attacker.test:8420' }, hosts)).toMatchObject({
      status: 403,
      code: 'foreign_host',
    });
    expect(judgeRequest({ ...facts, origin: 'http://127.0.0.1:8421' }, hosts)).toMatchObject({
      status: 403,
      code: 'foreign_origin',
    });
    expect(judgeRequest({ ...facts, origin: 'https://127.0.0.1:8420' }, hosts)).toMatchObject({
      status: 403,
      code: 'foreign_origin',
    });
    expect(judgeRequest({ ...facts, method: 'DELETE' }, hosts)).toMatchObject({ status: 403, code: 'origin_required' });
  });

  it('asks for a session everywhere but the login link', () => {
    expect(judgeRequest({ ...facts, hasSession: false }, hosts)).toMatchObject({ status: 401, code: 'no_session' });
    expect(judgeRequest({ ...facts, hasSession: false, needsSession: false }, hosts)).toEqual({ action: 'serve' });
    // The host check comes first: a rebinding page learns nothing, not even whether a session exists.
    expect(judgeRequest({ ...facts, hasSession: false, host: 'attacker.test' }, hosts)).toMatchObject({ status: 403 });
  });

  it('reads one cookie among several', () => {
    expect(readCookie('a=1; legion_session=abc; b=2', 'legion_session')).toBe('abc');
    expect(readCookie('xlegion_session=abc', 'legion_session')).toBeUndefined();
    expect(readCookie(undefined, 'legion_session')).toBeUndefined();
  });
});

describe('dollar amounts on the page', () => {
  it('reads exactly as `legion costs` prints them', () => {
    for (const amount of [0, 0.000123, 0.00037, 0.0042, 0.0099, 0.01, 0.5, 4.98, 12.345, 1234.5])
      expect(usd(amount), String(amount)).toBe(formatUsd(amount));
  });
});
