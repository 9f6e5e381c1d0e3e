// The budget decision for one reservation: pure, so it is tested directly. A call fits
// a limit when spent + reserved (by calls in flight) + its own worst case stays within
// the limit; the first limit it does not fit, in the order agent daily, agent monthly,
// fleet daily, fleet monthly, is the one the refusal names. Amounts are nano-dollars.
import { formatUsd, nanoToUsd, usdDecimals } from '../../shared/money.js';

export type BudgetWindow = 'daily' | 'monthly';

export interface BudgetLimitState {
  /** null: the fleet-wide limit. */
  agent: string | null;
  window: BudgetWindow;
  limitNano: number;
  spentNano: number;
  reservedNano: number;
}

export type BudgetDecision = { action: 'reserve' } | { action: 'refuse'; limit: BudgetLimitState; message: string };

export function decideReservation(limits: readonly BudgetLimitState[], amountNano: number): BudgetDecision {
  for (const limit of limits) {
    if (limit.spentNano + limit.reservedNano + amountNano > limit.limitNano) {
      return { action: 'refuse', limit, message: refusalMessage(limit, amountNano) };
    }
  }
  return { action: 'reserve' };
}

/** `budget exceeded for researcher: daily $5.00, spent $4.98, this call needs up to $0.04`.
 *  Every figure has the decimals the call's amount needs, so a call under a cent does not
 *  read as "spent $1.00 of $1.00". */
export function refusalMessage(limit: BudgetLimitState, amountNano: number): string {
  const decimals = usdDecimals(nanoToUsd(amountNano));
  const usd = (nano: number) => formatUsd(nanoToUsd(nano), decimals);
  const who = limit.agent === null ? 'fleet budget exceeded' : `budget exceeded for ${limit.agent}`;
  const inFlight = limit.reservedNano > 0 ? ` + ${usd(limit.reservedNano)} reserved by calls in flight` : '';
  return `${who}: ${limit.window} ${usd(limit.limitNano)}, spent ${usd(limit.spentNano)}${inFlight}, this call needs up to ${usd(amountNano)}`;
}
