// Errors that cross a process boundary carry a stable code and a message a user can
// act on. LegionError is thrown inside legion; ErrorBody is what goes on the wire.
import { z } from 'zod';

export const ErrorBodySchema = z.object({
  code: z.string(),
  message: z.string(),
  provider: z.string().optional(),
  status: z.number().int().optional(),
  path: z.string().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export const ErrorResponseSchema = z.object({ error: ErrorBodySchema });

export class LegionError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: Omit<ErrorBody, 'code' | 'message'>;

  constructor(code: string, message: string, status = 500, details: Omit<ErrorBody, 'code' | 'message'> = {}) {
    super(message);
    this.name = 'LegionError';
    this.code = code;
    this.status = status;
    this.details = details;
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message, ...this.details };
  }
}

export function errorBody(err: unknown): ErrorBody {
  if (err instanceof LegionError) return err.toBody();
  if (err instanceof Error) return { code: 'internal', message: err.message };
  return { code: 'internal', message: String(err) };
}
