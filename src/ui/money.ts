// US dollars exactly as `legion costs` prints them (src/shared/money.ts formatUsd; the
// page cannot import the mesh's modules, and tests/unit/dashboard-money.test.ts keeps
// the two in step): cents, or the first two significant digits below a cent.

export function usd(amount: number): string {
  const sign = amount < 0 ? '-' : '';
  const abs = Math.abs(amount);
  const decimals = abs === 0 || abs >= 0.01 ? 2 : Math.min(9, 1 - Math.floor(Math.log10(abs)));
  const text = abs.toFixed(decimals);
  return `${sign}$${decimals > 2 ? text.replace(/0+$/, '') : text}`;
}
