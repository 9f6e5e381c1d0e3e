// Money in legion: amounts are integer nano-dollars (1e-9 USD) inside the mesh, so
// running totals add up exactly however many calls they sum; USD numbers appear only
// at the edges (config, wire, text). A price with up to 3 decimals per million tokens
// is a whole number of nano-dollars per token.

export const NANO_PER_USD = 1_000_000_000;

export function usdToNano(usd: number): number {
  return Math.round(usd * NANO_PER_USD);
}

export function nanoToUsd(nano: number): number {
  return nano / NANO_PER_USD;
}

/** Decimals that show `usd` to its first two significant digits, and never fewer than
 *  cents, so a cheap call never reads as free. */
export function usdDecimals(usd: number): number {
  const abs = Math.abs(usd);
  if (abs === 0 || abs >= 0.01) return 2;
  return Math.min(9, 1 - Math.floor(Math.log10(abs)));
}

/** `$4.98`, `$0.00037`; with `decimals`, exactly that many (to line figures up). */
export function formatUsd(usd: number, decimals?: number): string {
  const sign = usd < 0 ? '-' : '';
  const abs = Math.abs(usd);
  if (decimals !== undefined) return `${sign}$${abs.toFixed(decimals)}`;
  const text = abs.toFixed(usdDecimals(abs));
  return `${sign}$${usdDecimals(abs) > 2 ? text.replace(/0+$/, '') : text}`;
}
