// Error codes: a code decides its HTTP status, and an error body received from another
// process keeps its code when legion knows it and falls back to the caller's otherwise.
import { describe, expect, it } from 'vitest';
import { errorBody, isErrorCode, LegionError, receivedError } from '../../src/shared/errors.js';

describe('error codes', () => {
  it('gives each code its own status', () => {
    expect(new LegionError('unknown_agent', 'no agent named x').status).toBe(404);
    expect(new LegionError('budget_exceeded', 'spent').status).toBe(402);
    expect(new LegionError('agent_unavailable', 'not in the fleet now').status).toBe(503);
  });

  it('knows its own codes and nothing else', () => {
    expect(isErrorCode('lane_full')).toBe(true);
    expect(isErrorCode('FST_ERR_CTP_BODY_TOO_LARGE')).toBe(false);
    expect(isErrorCode('toString')).toBe(false);
  });

  it('keeps a received code legion knows, with its details', () => {
    const err = receivedError(
      { code: 'provider_error', message: 'openai returned 500', provider: 'openai', status: 500 },
      'agent_error',
    );
    expect(err).toMatchObject({
      code: 'provider_error',
      status: 502,
      message: 'openai returned 500',
      details: { provider: 'openai', status: 500 },
    });
  });

  it('turns a received code it does not know into the fallback, naming the code in the message', () => {
    const err = receivedError(
      { code: 'FST_ERR_CTP_BODY_TOO_LARGE', message: 'Request body is too large' },
      'mesh_error',
    );
    expect(err.toBody()).toEqual({
      code: 'mesh_error',
      message: 'Request body is too large (FST_ERR_CTP_BODY_TOO_LARGE)',
    });
    expect(err.status).toBe(502);
  });

  it('reports anything thrown that is not a LegionError as internal', () => {
    expect(errorBody(new Error('boom'))).toEqual({ code: 'internal', message: 'boom' });
  });
});
