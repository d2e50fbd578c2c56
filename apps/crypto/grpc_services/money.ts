/**
 * Money as fixed-point integers, never floats. Balances, amounts and prices have 8 decimal
 * places (1 BTC = 100_000_000 units); market caps and volumes are cents; 24 h changes are
 * basis points. On the wire every one is a decimal string.
 */
export const UNIT_SCALE = 8;
export const CENT_SCALE = 2;

/**
 * The largest amount, balance, price or cap: 2^63 - 1, what a 64-bit integer column holds
 * (PostgreSQL BIGINT; SQLite INTEGER). 92,233,720,368.54775807 at 8 decimal places. Every write
 * is checked against it first, and the database refuses anything past it (CHECK constraints).
 */
export const MAX_UNITS = 2n ** 63n - 1n;

/** Parses "12.5" into 1250000000n at `scale`; returns an error message instead of throwing. */
export function parseDecimal(text: string, scale: number): bigint | string {
  const s = text.trim();
  if (s.length === 0) return 'is required';
  if (s.length > 40) return 'is too long';
  const m = /^(-)?(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) return `must be a decimal number like "12.5" (got ${JSON.stringify(text.slice(0, 40))})`;
  const [, minus, whole, frac = ''] = m;
  if (frac.length > scale) return `has more than ${scale} decimal places`;
  const value = BigInt(whole! + frac.padEnd(scale, '0'));
  return minus ? -value : value;
}

/** 1250000000n at scale 8 -> "12.5" (no trailing zeros; "0" for zero). */
export function formatDecimal(value: bigint, scale: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

/** balance (units) x price (units) -> USD value in units, rounded down. */
export function valueUnits(balanceUnits: bigint, priceUnits: bigint): bigint {
  return (balanceUnits * priceUnits) / 10n ** BigInt(UNIT_SCALE);
}
