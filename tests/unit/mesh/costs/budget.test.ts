// The budget decision: spent + in flight + this call against each limit, in order, and
// the refusal an operator reads.
import { describe, expect, it } from 'vitest';
import { decideReservation, type BudgetLimitState } from '../../../../src/mesh/costs/budget.js';
import { formatUsd, usdToNano } from '../../../../src/shared/money.js';

const limit = (over: Partial<BudgetLimitState> & Pick<BudgetLimitState, 'limitNano'>): BudgetLimitState => ({
  agent: 'researcher',
  window: 'daily',
  spentNano: 0,
  reservedNano: 0,
  ...over,
});

describe('decideReservation', () => {
  it('refuses with the limit, the spending and the worst case of the call', () => {
    expect(
      decideReservation([limit({ limitNano: usdToNano(5), spentNano: usdToNano(4.96) })], usdToNano(0.04)),
    ).toEqual({ action: 'reserve' });
    expect(
      decideReservation([limit({ limitNano: usdToNano(5), spentNano: usdToNano(4.96) })], usdToNano(0.04) + 1),
    ).toMatchObject({ action: 'refuse' });
    const daily = limit({ limitNano: usdToNano(5), spentNano: usdToNano(4.98) });
    expect(decideReservation([daily], usdToNano(0.04))).toEqual({
      action: 'refuse',
      limit: daily,
      message: 'budget exceeded for researcher: daily $5.00, spent $4.98, this call needs up to $0.04',
    });
  });

  it('counts what calls in flight have reserved, and says so', () => {
    const daily = limit({ limitNano: usdToNano(5), spentNano: usdToNano(4.5), reservedNano: usdToNano(0.47) });
    const decision = decideReservation([daily], usdToNano(0.04));
    expect(decision).toMatchObject({
      action: 'refuse',
      message:
        'budget exceeded for researcher: daily $5.00, spent $4.50 + $0.47 reserved by calls in flight, this call needs up to $0.04',
    });
  });

  it('names the first limit the call does not fit: agent before fleet, daily before monthly', () => {
    const limits = [
      limit({ limitNano: usdToNano(10), spentNano: usdToNano(1) }),
      limit({ window: 'monthly', limitNano: usdToNano(100), spentNano: usdToNano(99.99) }),
      limit({ agent: null, limitNano: usdToNano(20), spentNano: usdToNano(19.99) }),
    ];
    expect(decideReservation(limits, usdToNano(0.02))).toMatchObject({
      action: 'refuse',
      message: 'budget exceeded for researcher: monthly $100.00, spent $99.99, this call needs up to $0.02',
    });
    expect(decideReservation(limits.slice(2), usdToNano(0.02))).toMatchObject({
      action: 'refuse',
      message: 'fleet budget exceeded: daily $20.00, spent $19.99, this call needs up to $0.02',
    });
  });

  it('reserves when no limit applies, and refuses everything under a zero budget', () => {
    expect(decideReservation([], usdToNano(1000))).toEqual({ action: 'reserve' });
    expect(decideReservation([limit({ limitNano: 0 })], 1)).toMatchObject({ action: 'refuse' });
  });
});

describe('formatUsd', () => {
  it('shows cents, and the first digits of amounts under a cent', () => {
    expect(formatUsd(5)).toBe('$5.00');
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(0.04005)).toBe('$0.04');
    expect(formatUsd(0.00037)).toBe('$0.00037');
    expect(formatUsd(0.0025)).toBe('$0.0025');
  });
});
