// Random identifiers and secrets, and the one way legion compares secrets.
import { randomBytes, timingSafeEqual, hash } from 'node:crypto';

export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(9).toString('base64url')}`;
}

export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * Constant-time comparison; different lengths compare unequal without leaking where.
 * One-shot hash(): it runs on every authenticated request, and a Hash object costs ~6x more.
 */
export function secretsEqual(given: string, expected: string): boolean {
  const a = hash('sha256', given, 'buffer');
  const b = hash('sha256', expected, 'buffer');
  return timingSafeEqual(a, b) && given.length === expected.length;
}

export function sha256Hex(data: string | Buffer): string {
  return hash('sha256', data, 'hex');
}
