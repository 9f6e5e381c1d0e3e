import { describe, expect, it } from 'vitest';
import { parseReplLine } from '../../src/cli/repl.js';

describe('parseReplLine', () => {
  it('routes @mentions, plain text and commands', () => {
    expect(parseReplLine('@researcher find  leads\n')).toEqual({ kind: 'chat', agent: 'researcher', message: 'find  leads' });
    expect(parseReplLine('hello there')).toEqual({ kind: 'chat', agent: null, message: 'hello there' });
    expect(parseReplLine('/use writer')).toEqual({ kind: 'use', agent: 'writer' });
    expect(parseReplLine('/agents')).toEqual({ kind: 'agents' });
    expect(parseReplLine('/status')).toEqual({ kind: 'status' });
    expect(parseReplLine('/reset')).toEqual({ kind: 'reset' });
    expect(parseReplLine('/correct  Use  metric units, always. ')).toEqual({ kind: 'correct', text: 'Use  metric units, always.' });
    expect(parseReplLine('/help')).toEqual({ kind: 'help' });
    expect(parseReplLine(' /quit ')).toEqual({ kind: 'quit' });
    expect(parseReplLine('   ')).toEqual({ kind: 'empty' });
    expect(parseReplLine('/broadcast  status report, please ')).toEqual({ kind: 'broadcast', message: 'status report, please' });
    expect(parseReplLine('/blackboard get context/acme')).toEqual({ kind: 'blackboard', args: ['get', 'context/acme'] });
    expect(parseReplLine('/blackboard')).toEqual({ kind: 'blackboard', args: [] });
    expect(parseReplLine('/costs')).toEqual({ kind: 'costs', args: [] });
    expect(parseReplLine('/costs  week researcher ')).toEqual({ kind: 'costs', args: ['week', 'researcher'] });
  });

  it('explains what is wrong with a command', () => {
    expect(parseReplLine('/use')).toEqual({ kind: 'unknown', text: '/use needs an agent name: /use <agent>' });
    expect(parseReplLine('/broadcast')).toEqual({ kind: 'unknown', text: '/broadcast needs a message: /broadcast <message>' });
    expect(parseReplLine('/correct  ')).toEqual({ kind: 'unknown', text: '/correct needs the correction: /correct <text>' });
    expect(parseReplLine('/frobnicate')).toEqual({ kind: 'unknown', text: 'unknown command /frobnicate; /help lists the commands' });
  });

  it('treats an @mention without a message as text for the current agent', () => {
    expect(parseReplLine('@researcher')).toEqual({ kind: 'chat', agent: null, message: '@researcher' });
  });
});
