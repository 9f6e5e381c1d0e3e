// parseChannelText: the REPL's routing, as a paired user types it on a phone.
import { describe, expect, it } from 'vitest';
import { parseChannelText } from '../../../src/mesh/channels/commands.js';

describe('parseChannelText', () => {
  it('routes plain text to the current agent and @agent text to another', () => {
    expect(parseChannelText('hi there')).toEqual({ kind: 'chat', agent: null, text: 'hi there' });
    expect(parseChannelText('@writer draft it')).toEqual({ kind: 'chat', agent: 'writer', text: 'draft it' });
  });

  it('reads commands, with or without the bot name suffix', () => {
    expect(parseChannelText('/use writer')).toEqual({ kind: 'use', agent: 'writer' });
    expect(parseChannelText('/status@legion_bot')).toEqual({ kind: 'status' });
    expect(parseChannelText('/reset')).toEqual({ kind: 'reset' });
    expect(parseChannelText('/costs')).toEqual({ kind: 'costs' });
    expect(parseChannelText('/agents')).toEqual({ kind: 'agents' });
    expect(parseChannelText('/use')).toEqual({ kind: 'unknown', text: '/use needs an agent name: /use <agent>' });
    expect(parseChannelText('/frobnicate')).toEqual({
      kind: 'unknown',
      text: 'unknown command /frobnicate; /help lists the commands',
    });
  });
});
