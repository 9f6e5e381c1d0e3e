// The health monitor's pure decisions: what one check means, the restart backoff
// schedule, and the hourly restart cap.
import { describe, expect, it } from 'vitest';
import {
  decideRestart,
  HOUR_MS,
  judgeCheck,
  restartDelayMs,
  restartsWithinHour,
} from '../../src/mesh/runtime/health.js';

describe('judgeCheck', () => {
  it('calls an agent whose container is gone or exited dead at the first check', () => {
    expect(judgeCheck({ state: null, answered: false }, 0, 3)).toEqual({
      status: 'dead',
      reason: 'its container is gone',
    });
    expect(judgeCheck({ state: 'exited', answered: false }, 0, 3)).toEqual({
      status: 'dead',
      reason: 'its container is exited',
    });
  });

  it('counts unanswered checks of a running container and calls it dead at the threshold', () => {
    const silent = { state: 'running', answered: false };
    expect(judgeCheck(silent, 0, 3)).toEqual({
      status: 'failing',
      failures: 1,
      reason: 'it did not answer GET /health 1 time in a row',
    });
    expect(judgeCheck(silent, 1, 3)).toMatchObject({ status: 'failing', failures: 2 });
    expect(judgeCheck(silent, 2, 3)).toEqual({
      status: 'dead',
      reason: 'it did not answer GET /health 3 times in a row',
    });
  });

  it('is ok when the agent answers, whatever failed before', () => {
    expect(judgeCheck({ state: 'running', answered: true }, 2, 3)).toEqual({ status: 'ok' });
    // The runtime could not tell (Docker busy): the agent's own answer decides.
    expect(judgeCheck({ state: 'unknown', answered: true }, 0, 3)).toEqual({ status: 'ok' });
    expect(judgeCheck({ state: 'unknown', answered: false }, 0, 1)).toMatchObject({ status: 'dead' });
  });

  it('leaves a paused container alone', () => {
    expect(judgeCheck({ state: 'paused', answered: false }, 2, 3)).toEqual({ status: 'paused' });
  });
});

describe('restart backoff', () => {
  it('restarts at once the first time in an hour, then doubles from one second up to a minute', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 20].map(restartDelayMs)).toEqual([
      0, 1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000,
    ]);
  });

  it('counts only the restarts of the last hour', () => {
    const now = 10 * HOUR_MS;
    expect(restartsWithinHour([now - HOUR_MS - 1, now - HOUR_MS, now - HOUR_MS + 1, now - 5], now)).toBe(2);
  });
});

describe('decideRestart', () => {
  const now = 10 * HOUR_MS;

  it('restarts with the delay that the restarts of the last hour call for', () => {
    expect(decideRestart([], now, 10, 'its container is exited')).toEqual({ action: 'restart', delayMs: 0 });
    expect(decideRestart([now - 60_000, now - 30_000], now, 10, 'x')).toEqual({ action: 'restart', delayMs: 2000 });
  });

  it('gives up at the hourly cap, with the reason and the last problem', () => {
    const history = [now - 3000, now - 2000, now - 1000];
    const decision = decideRestart(history, now, 3, 'its container is exited');
    expect(decision).toEqual({
      action: 'fail',
      reason:
        'gave up after 3 restarts within an hour (mesh.health.max_restarts_per_hour is 3); last problem: its container is exited',
    });
  });

  it('allows restarts again once old ones leave the hour', () => {
    const history = [now - HOUR_MS - 2, now - HOUR_MS - 1, now - 1000];
    expect(decideRestart(history, now, 3, 'x')).toEqual({ action: 'restart', delayMs: 1000 });
  });

  it('never restarts with a cap of 0', () => {
    expect(decideRestart([], now, 0, 'x')).toMatchObject({ action: 'fail' });
  });
});
