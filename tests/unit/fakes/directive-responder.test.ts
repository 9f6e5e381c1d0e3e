import { describe, expect, it } from 'vitest';
import { directiveResponder, type FakeCall, type FakeMessage } from '../../fakes/fake-provider.js';

function callWith(messages: FakeMessage[]): FakeCall {
  return { provider: 'openai', headers: {}, body: {}, messages, tools: [] };
}

describe('directiveResponder', () => {
  it('echoes the last user message', () => {
    expect(
      directiveResponder(
        callWith([
          { role: 'system', content: 's' },
          { role: 'user', content: 'hi there' },
        ]),
      ),
    ).toEqual({ text: 'echo: hi there' });
  });

  it('calls the named tool with the JSON arguments, across lines', () => {
    expect(
      directiveResponder(callWith([{ role: 'user', content: 'call write_file {"path":"a",\n"content":"b"}' }])),
    ).toEqual({
      tool_calls: [{ name: 'write_file', arguments: { path: 'a', content: 'b' } }],
    });
  });

  it('says so when the arguments are not JSON', () => {
    expect(directiveResponder(callWith([{ role: 'user', content: 'call exec ls -la' }]))).toEqual({
      text: 'fake provider: the arguments of "call exec" are not JSON: ls -la',
    });
  });

  it('reports a tool result under the name of the tool that was called', () => {
    const step = directiveResponder(
      callWith([
        { role: 'user', content: 'call exec {"cmd":"ls"}' },
        { role: 'assistant', content: '', tool_calls: [{ id: 'c1', name: 'exec', arguments: '{"cmd":"ls"}' }] },
        { role: 'tool', tool_call_id: 'c1', content: 'a.txt' },
      ]),
    );
    expect(step).toEqual({ text: 'tool exec returned: a.txt' });
  });
});
