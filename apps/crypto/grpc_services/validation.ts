import { GrpcError, Status } from 'cfg-grpc';
import { formatDecimal, MAX_UNITS, parseDecimal, UNIT_SCALE } from './money.ts';

const invalid = (message: string): never => {
  throw new GrpcError(Status.INVALID_ARGUMENT, message);
};

/** "btc " -> "BTC"; letters and digits, 1 to 16 characters. */
export function symbolOf(raw: string, field = 'Symbol'): string {
  const symbol = raw.trim().toUpperCase();
  if (symbol.length === 0) invalid(`${field} is required`);
  if (symbol.length > 16) invalid(`${field} must be at most 16 characters`);
  if (!/^[A-Z0-9]+$/.test(symbol)) invalid(`${field} must contain only letters A-Z and digits`);
  return symbol;
}

/** A positive amount with at most 8 decimal places, in units. */
export function amountOf(raw: string, field = 'amount'): bigint {
  const parsed = parseDecimal(raw, UNIT_SCALE);
  if (typeof parsed === 'string') return invalid(`${field} ${parsed}`);
  if (parsed <= 0n) invalid(`${field} must be greater than zero`);
  if (parsed > MAX_UNITS) invalid(`${field} must be at most ${formatDecimal(MAX_UNITS, UNIT_SCALE)}`);
  return parsed;
}

/** A non-negative decimal at `scale` (prices, market caps). */
export function nonNegativeOf(raw: string, field: string, scale: number, required = true): bigint {
  if (!required && raw.trim() === '') return 0n;
  const parsed = parseDecimal(raw, scale);
  if (typeof parsed === 'string') return invalid(`${field} ${parsed}`);
  if (parsed < 0n) invalid(`${field} must not be negative`);
  if (parsed > MAX_UNITS) invalid(`${field} must be at most ${formatDecimal(MAX_UNITS, scale)}`);
  return parsed;
}

/** 1 to 128 printable ASCII characters. */
export function idempotencyKeyOf(raw: string, field = 'idempotency_key'): string {
  if (raw.length === 0) invalid(`${field} is required (a unique string per operation; retries reuse it)`);
  if (raw.length > 128 || !/^[\x21-\x7e]+$/.test(raw)) invalid(`${field} must be 1 to 128 printable ASCII characters`);
  return raw;
}

/** A 24 h change in percent ("-1.5"), as basis points; "" (or blanks) is undefined: left as it is. */
export function changeBpsOf(raw: string, field = 'change_24h_percent'): number | undefined {
  if (raw.trim() === '') return undefined;
  const bps = parseDecimal(raw, 2);
  if (typeof bps === 'string') return invalid(`${field} ${bps}`);
  if (bps < -100_00n || bps > 1_000_000_00n) invalid(`${field} must be between -100 and 1000000`);
  return Number(bps);
}

/** page_size: 0 means the default; 1..max. */
export function pageSizeOf(size: number, fallback: number, max = 100, field = 'page_size'): number {
  if (size === 0) return fallback;
  if (size < 0 || size > max) invalid(`${field} must be between 1 and ${max}`);
  return size;
}

/** Opaque page tokens: base64url of the offset. */
export function offsetOf(token: string): number {
  if (token === '') return 0;
  const decoded = Buffer.from(token, 'base64url').toString();
  const m = /^o:(\d{1,9})$/.exec(decoded);
  if (!m) invalid('page_token is not valid (pass next_page_token from the previous page)');
  return Number(m![1]);
}

export function tokenFor(offset: number, pageSize: number, total: number): string {
  return offset + pageSize < total ? Buffer.from(`o:${offset + pageSize}`).toString('base64url') : '';
}
