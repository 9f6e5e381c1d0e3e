// An agent's history as the mesh reads it from lane items (origin, input and state of
// every kind) and as `legion chat --history` prints it.
import { describe, expect, it } from 'vitest';
import { historyTurn } from '../../src/mesh/lanes/history.js';
import type { LaneHistoryRow } from '../../src/mesh/lanes/store.js';
import { formatHistory } from '../../src/cli/history-view.js';
import type { HistoryTurn } from '../../src/shared/wire/history.js';

function row(over: Partial<LaneHistoryRow>): LaneHistoryRow {
  return {
    seq: 1,
    id: 'x_1',
    agent: 'worker',
    kind: 'chat',
    body: {},
    status: 'done',
    attempts: 1,
    trace: null,
    created_at: '2026-12-05T21:00:00.000Z',
    finished_at: '2026-12-05T21:00:01.000Z',
    reply: 'ok',
    last_error: null,
    error_code: null,
    ...over,
  };
}

describe('historyTurn', () => {
  it('reads what each kind of item asked and where it came from', () => {
    const cases: [Partial<LaneHistoryRow>, string | null, string | null][] = [
      [{ kind: 'chat', body: { message: 'hello there' } }, null, 'hello there'],
      [{ kind: 'chat', body: {} }, null, null],
      [
        { kind: 'cron', body: { source: 'cron', title: 'job cron_1 (every 5m)', text: 'check the inbox' } },
        'job cron_1 (every 5m)',
        'check the inbox',
      ],
      [
        { kind: 'webhook', body: { source: 'webhook github', title: 'json payload', text: 'a push to main' } },
        'github',
        'a push to main',
      ],
      [
        { kind: 'heartbeat', body: { source: 'mesh probes', title: 'hb_1', text: '2 open tasks' } },
        'mesh probes',
        '2 open tasks',
      ],
      [
        { kind: 'watcher', body: { source: 'watcher docs', title: 'a.md', text: 'a.md changed' } },
        'docs: a.md',
        'a.md changed',
      ],
      [
        { kind: 'event', body: { event_id: 'ev_1', topic: 'leads.new', payload: { name: 'Ada' }, publisher: 'scout' } },
        'leads.new from scout',
        '{"name":"Ada"}',
      ],
      [
        { kind: 'message', body: { message_id: 'm_1', from: 'scout', message: 'look at this' } },
        'from scout',
        'look at this',
      ],
      [
        { kind: 'channel', body: { platform: 'telegram', user_id: '42', chat_id: '42', text: 'hi bot', session: 's' } },
        'telegram user 42',
        'hi bot',
      ],
      [
        {
          kind: 'task',
          body: {
            run_id: 'run_1',
            step_id: 'draft',
            attempt: 1,
            request: { task_id: 't', task_type: 'write', input: 'a draft' },
          },
        },
        'run run_1 step draft (write)',
        'a draft',
      ],
      [{ kind: 'cron', body: { unexpected: true } }, null, null],
    ];
    for (const [over, source, input] of cases) {
      const turn = historyTurn(row(over));
      expect({ kind: turn.origin.kind, source: turn.origin.source, input: turn.input }).toEqual({
        kind: over.kind,
        source,
        input,
      });
    }
  });

  it('tells a turn cut short from one that failed, and one not over yet', () => {
    expect(
      historyTurn(row({ status: 'failed', last_error: 'provider said no', error_code: 'agent_error', reply: null }))
        .state,
    ).toBe('failed');
    expect(
      historyTurn(row({ status: 'failed', last_error: 'the person left', error_code: 'chat_cancelled', reply: null }))
        .state,
    ).toBe('interrupted');
    expect(historyTurn(row({ status: 'failed', error_code: 'mesh_stopped', reply: null })).state).toBe('interrupted');
    expect(historyTurn(row({ status: 'queued', reply: null })).state).toBe('queued');
    expect(historyTurn(row({ status: 'inflight', reply: null })).state).toBe('running');
  });
});

describe('formatHistory', () => {
  const turn = (over: Partial<HistoryTurn>): HistoryTurn => ({
    id: 'x',
    origin: { kind: 'chat', source: null },
    input: 'hi',
    reply: 'hello',
    state: 'done',
    error: null,
    attempts: 1,
    created_at: '2026-12-05T21:00:00.000Z',
    finished_at: null,
    ...over,
  });

  it('prints oldest first with time, origin, state, the first line asked and the first reply lines', () => {
    const text = formatHistory(
      {
        agent: 'worker',
        next_before: null,
        turns: [
          turn({
            created_at: '2026-12-05T21:05:00.000Z',
            origin: { kind: 'event', source: 'leads.new from scout' },
            input: '{"a":1}',
            reply: 'one\n\ntwo\nthree\nfour\nfive',
          }),
          turn({
            created_at: '2026-12-05T21:00:00.000Z',
            input: 'first line\nsecond line',
            reply: null,
            state: 'failed',
            error: 'provider said no',
          }),
        ],
      },
      'UTC',
    );
    expect(text).toBe(
      [
        '2026-12-05 21:00:00  chat · failed: provider said no',
        '  asked: first line (+1 lines)',
        '2026-12-05 21:05:00  pub/sub leads.new from scout · done',
        '  asked: {"a":1}',
        '  reply: one',
        '         two',
        '         three',
        '         … (2 more lines)',
      ].join('\n'),
    );
  });

  it('says how to see older turns, and when there are none', () => {
    expect(formatHistory({ agent: 'worker', next_before: 17, turns: [turn({})] }, 'UTC').split('\n')[0]).toBe(
      '(older turns: legion chat worker --history --before 17)',
    );
    expect(formatHistory({ agent: 'worker', next_before: null, turns: [] })).toBe('no turns of worker to show');
  });
});
