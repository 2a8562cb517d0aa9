/**
 * Fixed-point decimals with 18 fractional digits, the precision of Cosmos `sdk.Dec`.
 * A value is a bigint counting 10^-18 units, so sums and comparisons are exact.
 */
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';

/** Fractional digits of an on-chain decimal (`DecCoin.amount`). */
export const DEC_PLACES = 18;
/** 10^18: one whole unit in fixed-point form. */
export const DEC_ONE = 10n ** BigInt(DEC_PLACES);

const DECIMAL = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;
/** More digits than any uakt amount needs; bounds the work a hostile string can cause. */
const MAX_INTEGER_DIGITS = 40;

/** Parses a non-negative decimal string (`"12"`, `"0.5"`, up to 18 fractional digits) into fixed-point. */
export function parseDec(text: string): Result<bigint, AppError<'INVALID_INPUT'>> {
  const match = DECIMAL.exec(text);
  const whole = match?.[1];
  const fraction = match?.[2] ?? '';
  if (whole === undefined || whole.length > MAX_INTEGER_DIGITS || fraction.length > DEC_PLACES) {
    return fail(
      appError('INVALID_INPUT', `"${text.slice(0, 64)}" is not a decimal with at most ${DEC_PLACES} places`),
    );
  }
  return ok(BigInt(whole) * DEC_ONE + BigInt(fraction.padEnd(DEC_PLACES, '0')));
}

/** Prints fixed-point as Cosmos does: always 18 fractional digits (`"1.500000000000000000"`). */
export function formatDec(value: bigint): string {
  if (value < 0n) return '-' + formatDec(-value);
  const whole = value / DEC_ONE;
  const fraction = (value % DEC_ONE).toString().padStart(DEC_PLACES, '0');
  return `${whole}.${fraction}`;
}

/** Parses a non-negative integer amount (`Coin.amount`, e.g. uakt). */
export function parseUint(text: string): Result<bigint, AppError<'INVALID_INPUT'>> {
  if (!/^(0|[1-9][0-9]*)$/.test(text) || text.length > MAX_INTEGER_DIGITS) {
    return fail(appError('INVALID_INPUT', `"${text.slice(0, 64)}" is not a non-negative integer`));
  }
  return ok(BigInt(text));
}

/** Integer division rounding toward +infinity, for non-negative operands. */
export function ceilDiv(numerator: bigint, denominator: bigint): bigint {
  return (numerator + denominator - 1n) / denominator;
}

/** The smaller of two bigints (Math.min does not take them). */
export function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
