// What a call's sender says about it (event, delivery, handshakes) and whether a hook's
// events and filter let it through, as pure decisions; and the template's {event} and
// {delivery}.
import { describe, expect, it } from 'vitest';
import { filterCall, parseWebhookFilter } from '../../../src/mesh/triggers/webhooks/filter.js';
import { callIdentity, handshakeAnswer } from '../../../src/mesh/triggers/webhooks/sender.js';
import { renderWebhookMessage } from '../../../src/mesh/triggers/webhooks/template.js';

const push = { ref: 'refs/heads/main', commits: [{ id: 'a' }, { id: 'b' }], repository: { full_name: 'acme/site' } };

describe('callIdentity', () => {
  it("reads each sender's event type and delivery id where it puts them", () => {
    expect(callIdentity('github', { 'x-github-event': 'push', 'x-github-delivery': 'g-1' }, push)).toEqual({
      event: 'push',
      delivery: 'g-1',
    });
    expect(callIdentity('standard', { 'webhook-id': 'msg_1' }, { type: 'user.created' })).toEqual({
      event: 'user.created',
      delivery: 'msg_1',
    });
    expect(callIdentity('stripe', {}, { id: 'evt_1', type: 'invoice.paid' })).toEqual({
      event: 'invoice.paid',
      delivery: 'evt_1',
    });
    expect(
      callIdentity('slack', {}, { type: 'event_callback', event_id: 'Ev1', event: { type: 'app_mention' } }),
    ).toEqual({ event: 'app_mention', delivery: 'Ev1' });
    expect(callIdentity('slack', {}, { command: '/deploy', text: 'site' })).toEqual({
      event: '/deploy',
      delivery: null,
    });
    expect(callIdentity('legion', { 'x-github-event': 'push' }, { type: 'x' })).toEqual({
      event: null,
      delivery: null,
    });
    expect(callIdentity('stripe', {}, 'a text body')).toEqual({ event: null, delivery: null });
  });

  it("answers GitHub's ping and Slack's url_verification, and nothing else", () => {
    expect(handshakeAnswer('github', { event: 'ping', delivery: 'd' }, { zen: 'z' })).toEqual({
      kind: 'ping',
      body: { ping: true },
    });
    expect(
      handshakeAnswer(
        'slack',
        { event: 'url_verification', delivery: null },
        { type: 'url_verification', challenge: 'c-1' },
      ),
    ).toEqual({ kind: 'url_verification', body: { challenge: 'c-1' } });
    expect(handshakeAnswer('standard', { event: 'ping', delivery: 'd' }, {})).toBeNull();
    expect(
      handshakeAnswer('github', { event: 'push', delivery: 'd' }, { type: 'url_verification', challenge: 'c' }),
    ).toBeNull();
  });
});

describe('filterCall', () => {
  const call = { event: 'push', delivery: 'd-1', payload: push };

  it('lets through a listed event and refuses another, saying which', () => {
    expect(filterCall({ events: ['push', 'pull_request'], filter: null }, call)).toEqual({ pass: true });
    expect(filterCall({ events: ['pull_request'], filter: null }, call)).toEqual({
      pass: false,
      reason: 'event push is not one of pull_request',
    });
    expect(filterCall({ events: ['push'], filter: null }, { ...call, event: null })).toMatchObject({ pass: false });
  });

  it('evaluates the workflow condition language over payload, event and delivery', () => {
    const pass = (filter: string) => filterCall({ events: null, filter }, call).pass;
    expect(pass("payload.ref == 'refs/heads/main' && event == 'push'")).toBe(true);
    expect(pass("payload.ref == 'refs/heads/dev'")).toBe(false);
    expect(pass("payload.commits[1].id == 'b' && delivery in ['d-1', 'd-2']")).toBe(true);
    expect(pass('payload.missing.deep == null')).toBe(true);
    expect(pass("'site' in payload.repository.full_name")).toBe(true);
  });

  it('refuses a filter naming what is wrong and where', () => {
    expect(() => parseWebhookFilter("payload.ref = 'x'")).toThrow(
      /filter "payload.ref = 'x'": assignment \(=\) and === are not allowed; compare with == or != at column 13/,
    );
    expect(() => parseWebhookFilter('trigger.payload.ref')).toThrow(
      /"trigger.payload.ref": unknown name "trigger" \(a webhook filter reads payload/,
    );
    expect(() => parseWebhookFilter('event.name')).toThrow(
      /event is the sender's event \(a string\) and has no fields/,
    );
    expect(() => parseWebhookFilter('payload.run()')).toThrow(/calling a function is not allowed/);
  });
});

describe('{event} and {delivery} in the template', () => {
  it("render the sender's values, and nothing when it sent none", () => {
    expect(
      renderWebhookMessage('{event} on {payload.repository.full_name} ({delivery})', push, {
        event: 'push',
        delivery: 'g-1',
      }),
    ).toBe('push on acme/site (g-1)');
    expect(renderWebhookMessage('[{event}] [{delivery}] {events}', push)).toBe('[] [] {events}');
  });
});
