// The task guard's decisions, one model answer at a time: the iteration budget and the
// loop guard for the same tool call repeated with the same arguments.
import { describe, expect, it } from 'vitest';
import { TaskGuard, callSignature } from '../../src/agent/task/guard.js';
import type { LlmChatResponse, ToolCall } from '../../src/shared/wire/llm.js';

function answer(calls: Array<[name: string, args: string]> = []): LlmChatResponse {
  const toolCalls: ToolCall[] = calls.map(([name, args], i) => ({ id: `c${i}`, name, arguments: args }));
  return {
    provider: 'scripted',
    model: 'scripted/model',
    message: { role: 'assistant', content: calls.length ? '' : 'final', tool_calls: toolCalls },
    finish_reason: calls.length ? 'tool_calls' : 'stop',
    usage: { prompt_tokens: 1, completion_tokens: 1 },
  };
}

describe('callSignature', () => {
  it('compares arguments by meaning, not by spelling', () => {
    const a = callSignature({ id: '1', name: 'exec', arguments: '{"command":"ls","timeout_s":5}' });
    const b = callSignature({ id: '2', name: 'exec', arguments: ' { "timeout_s": 5, "command": "ls" } ' });
    expect(a).toBe(b);
    expect(callSignature({ id: '3', name: 'exec', arguments: '{"command":"ls -la"}' })).not.toBe(a);
    expect(callSignature({ id: '4', name: 'read_file', arguments: '{"command":"ls","timeout_s":5}' })).not.toBe(a);
    expect(callSignature({ id: '5', name: 'list_files', arguments: '' })).toBe(
      callSignature({ id: '6', name: 'list_files', arguments: '{}' }),
    );
    expect(callSignature({ id: '7', name: 'x', arguments: '{broken' })).toBe('x {broken');
  });
});

describe('TaskGuard', () => {
  it('trips on the third identical call in a row, across answers', () => {
    const guard = new TaskGuard(20);
    expect(guard.inspect(answer([['read_file', '{"path":"a"}']]))).toEqual({ action: 'continue' });
    expect(guard.inspect(answer([['read_file', '{"path":"a"}']]))).toEqual({ action: 'continue' });
    const decision = guard.inspect(answer([['read_file', '{ "path": "a" }']]));
    expect(decision).toMatchObject({ action: 'loop_guard', repeats: 3, call: { name: 'read_file' } });
  });

  it('counts repeats inside one answer too', () => {
    const guard = new TaskGuard(20);
    const same: [string, string] = ['exec', '{"command":"date"}'];
    expect(guard.inspect(answer([same, same, same]))).toMatchObject({ action: 'loop_guard', repeats: 3 });
  });

  it('does not trip when the arguments change or another step comes between', () => {
    const guard = new TaskGuard(20);
    for (let i = 0; i < 6; i++)
      expect(guard.inspect(answer([['read_file', `{"path":"page-${i}"}`]]))).toEqual({ action: 'continue' });
    const repeat: [string, string] = ['read_file', '{"path":"same"}'];
    expect(guard.inspect(answer([repeat]))).toEqual({ action: 'continue' });
    expect(guard.inspect(answer([repeat]))).toEqual({ action: 'continue' });
    expect(guard.inspect(answer([['list_files', '{}']]))).toEqual({ action: 'continue' });
    expect(guard.inspect(answer([repeat]))).toEqual({ action: 'continue' });
    expect(guard.inspect(answer([repeat]))).toEqual({ action: 'continue' });
    expect(guard.inspect(answer())).toEqual({ action: 'continue' });
    expect(guard.inspect(answer([repeat]))).toEqual({ action: 'continue' });
  });

  it('stops an answer that still wants tools at the last iteration, and lets a final answer through', () => {
    const guard = new TaskGuard(3);
    expect(guard.inspect(answer([['read_file', '{"path":"1"}']]))).toEqual({ action: 'continue' });
    expect(guard.inspect(answer([['read_file', '{"path":"2"}']]))).toEqual({ action: 'continue' });
    expect(guard.exhausted).toBe(false);
    expect(guard.inspect(answer([['read_file', '{"path":"3"}']]))).toEqual({
      action: 'iteration_limit',
      iterations: 3,
    });
    expect(guard.exhausted).toBe(true);

    const last = new TaskGuard(2);
    last.inspect(answer([['read_file', '{"path":"1"}']]));
    expect(last.inspect(answer())).toEqual({ action: 'continue' });
    expect(last.iterations).toBe(2);
  });
});
