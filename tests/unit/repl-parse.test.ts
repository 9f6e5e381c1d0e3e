import { describe, expect, it } from 'vitest';
import { parseReplLine } from '../../src/cli/repl.js';

describe('parseReplLine', () => {
  it('routes @mentions, plain text and commands', () => {
    expect(parseReplLine('@researcher find  leads\n')).toEqual({
      kind: 'chat',
      agent: 'researcher',
      message: 'find  leads',
    });
    expect(parseReplLine('hello there')).toEqual({ kind: 'chat', agent: null, message: 'hello there' });
    expect(parseReplLine('/use writer')).toEqual({ kind: 'use', agent: 'writer' });
    expect(parseReplLine('/agents')).toEqual({ kind: 'agents' });
    expect(parseReplLine('/add')).toEqual({ kind: 'add', name: undefined });
    expect(parseReplLine('/add scout')).toEqual({ kind: 'add', name: 'scout' });
    expect(parseReplLine('/status')).toEqual({ kind: 'status' });
    expect(parseReplLine('/reset')).toEqual({ kind: 'reset' });
    expect(parseReplLine('/project')).toEqual({ kind: 'project' });
    expect(parseReplLine('/correct  Use  metric units, always. ')).toEqual({
      kind: 'correct',
      text: 'Use  metric units, always.',
    });
    expect(parseReplLine('/help')).toEqual({ kind: 'help' });
    expect(parseReplLine(' /quit ')).toEqual({ kind: 'quit' });
    expect(parseReplLine('   ')).toEqual({ kind: 'empty' });
    expect(parseReplLine('/broadcast  status report, please ')).toEqual({
      kind: 'broadcast',
      message: 'status report, please',
    });
    expect(parseReplLine('/blackboard get context/acme')).toEqual({
      kind: 'blackboard',
      args: ['get', 'context/acme'],
    });
    expect(parseReplLine('/blackboard')).toEqual({ kind: 'blackboard', args: [] });
    expect(parseReplLine('/costs')).toEqual({ kind: 'costs', args: [] });
    expect(parseReplLine('/costs  week researcher ')).toEqual({ kind: 'costs', args: ['week', 'researcher'] });
  });

  it('explains what is wrong with a command', () => {
    expect(parseReplLine('/use')).toEqual({ kind: 'unknown', text: '/use needs an agent name: /use <agent>' });
    expect(parseReplLine('/broadcast')).toEqual({
      kind: 'unknown',
      text: '/broadcast needs a message: /broadcast <message>',
    });
    expect(parseReplLine('/correct  ')).toEqual({
      kind: 'unknown',
      text: '/correct needs the correction: /correct <text>',
    });
    expect(parseReplLine('/add scout now')).toEqual({
      kind: 'unknown',
      text: '/add takes at most a name: /add [name]; it asks for the rest',
    });
    expect(parseReplLine('/frobnicate')).toEqual({
      kind: 'unknown',
      text: 'unknown command /frobnicate; /help lists the commands',
    });
  });

  it('parses /workflow with its input as JSON, the rest of the line', () => {
    expect(parseReplLine('/workflow')).toEqual({ kind: 'workflow', request: { action: 'list' } });
    expect(parseReplLine('/workflow list')).toEqual({ kind: 'workflow', request: { action: 'list' } });
    expect(parseReplLine('/workflow runs')).toEqual({ kind: 'workflow', request: { action: 'runs' } });
    expect(parseReplLine('/workflow run pipeline')).toEqual({
      kind: 'workflow',
      request: { action: 'run', name: 'pipeline', input: undefined },
    });
    expect(parseReplLine('/workflow run pipeline {"name": "Acme Corp", "tags": ["a b"]}')).toEqual({
      kind: 'workflow',
      request: { action: 'run', name: 'pipeline', input: { name: 'Acme Corp', tags: ['a b'] } },
    });
    expect(parseReplLine('/workflow run pipeline 42')).toEqual({
      kind: 'workflow',
      request: { action: 'run', name: 'pipeline', input: 42 },
    });
    expect(parseReplLine('/workflow status wfr_1')).toEqual({
      kind: 'workflow',
      request: { action: 'status', id: 'wfr_1' },
    });
    expect(parseReplLine('/workflow cancel wfr_1')).toEqual({
      kind: 'workflow',
      request: { action: 'cancel', id: 'wfr_1' },
    });
  });

  it('explains what is wrong with a /workflow command', () => {
    expect(parseReplLine('/workflow run')).toEqual({
      kind: 'unknown',
      text: '/workflow run needs a workflow name: /workflow run <name> [json input]',
    });
    expect(parseReplLine('/workflow run pipeline {name: 1}')).toEqual({
      kind: 'unknown',
      text: expect.stringMatching(/^\/workflow run pipeline: the input is not valid JSON: /),
    });
    expect(parseReplLine('/workflow status')).toEqual({
      kind: 'unknown',
      text: '/workflow status needs one run id: /workflow status <run id>',
    });
    expect(parseReplLine('/workflow cancel a b')).toEqual({
      kind: 'unknown',
      text: '/workflow cancel needs one run id: /workflow cancel <run id>',
    });
    expect(parseReplLine('/workflow start x')).toEqual({
      kind: 'unknown',
      text: 'usage: /workflow list | run <name> [json input] | status <run id> | cancel <run id> | runs',
    });
  });

  it('treats an @mention without a message as text for the current agent', () => {
    expect(parseReplLine('@researcher')).toEqual({ kind: 'chat', agent: null, message: '@researcher' });
  });
});
