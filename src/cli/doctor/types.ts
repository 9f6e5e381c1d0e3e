// What one `legion doctor` check answers: ok, warn (worth fixing, legion still runs),
// fail (legion will not work until it is fixed) or skip (could not be checked, and the
// detail says why). Anything not ok carries a hint: the command or edit that fixes it.
// Invariant: no detail or hint ever holds a secret (a key, not even a prefix of one).

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** Short name of what was checked, for example `docker` or `port 8420`. */
  check: string;
  status: CheckStatus;
  detail: string;
  /** How to fix it; present whenever status is warn or fail. */
  hint?: string;
}

export const ok = (check: string, detail: string): CheckResult => ({ check, status: 'ok', detail });
export const skip = (check: string, detail: string): CheckResult => ({ check, status: 'skip', detail });
export const warn = (check: string, detail: string, hint: string): CheckResult => ({
  check,
  status: 'warn',
  detail,
  hint,
});
export const fail = (check: string, detail: string, hint: string): CheckResult => ({
  check,
  status: 'fail',
  detail,
  hint,
});

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
