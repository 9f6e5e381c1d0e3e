import { describe, expect, it } from 'vitest';
import { laneItemText } from '../../src/mesh/lanes/format.js';
import type { LaneItem } from '../../src/mesh/lanes/store.js';

const item = (kind: LaneItem['kind'], body: unknown): LaneItem => ({
  seq: 1,
  id: `${kind}_1`,
  agent: 'a',
  kind,
  body,
  status: 'inflight',
  attempts: 1,
  trace: null,
  created_at: '',
});

describe('laneItemText', () => {
  it('names the event, its id and publisher, and tells the agent how to spot a repeat', () => {
    const text = laneItemText(
      item('event', { event_id: 'evt_1', topic: 'new_lead', payload: { company: 'Acme' }, publisher: 'scout' }),
    );
    expect(text).toMatch(/^\[event new_lead · id evt_1 · published by scout\]\n\{\n {2}"company": "Acme"\n\}\n/);
    expect(text).toContain('If you already handled event evt_1, ignore it.');
  });

  it('quotes a message with its sender', () => {
    expect(laneItemText(item('message', { message_id: 'msg_1', from: 'scout', message: 'hi there' }))).toMatch(
      /^\[message from scout · id msg_1\]\nhi there\n/,
    );
  });

  it('gives a trigger its kind, title, lane item id and source', () => {
    const text = laneItemText(item('webhook', { source: 'webhook github', title: 'push', text: 'main was pushed' }));
    expect(text).toBe(
      '[webhook push · id webhook_1 · from webhook github]\nmain was pushed\nIf you already handled webhook_1, ignore it.',
    );
  });

  it('refuses a body that does not fit its kind', () => {
    expect(() => laneItemText(item('cron', { message: 'no title' }))).toThrow();
  });
});
