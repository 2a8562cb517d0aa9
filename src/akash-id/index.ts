/**
 * Akash's deployment sequence number (dseq), in one place: a uint64 above 0, carried as decimal text so no
 * value above 2^53 loses a digit. Every face parses a dseq here, under one rule, and orders dseqs here.
 */

const UINT64_MAX = 18446744073709551615n;
const CANONICAL = /^[1-9][0-9]{0,19}$/;
const DIGITS = /^[0-9]{1,20}$/;

/** What a refusal of a dseq says, wherever one is refused. */
export const DSEQ_RULE = 'must be a uint64 above 0 in decimal';

/** True for a dseq as Akash prints it: canonical decimal (no sign, no leading zeros), 1 … 2^64-1. */
export function isDseq(text: string): boolean {
  return CANONICAL.test(text) && BigInt(text) <= UINT64_MAX;
}

/**
 * A dseq read the way Go's `strconv.ParseUint` reads a path segment (leading zeros allowed), as canonical text;
 * undefined when it is not a uint64 above 0.
 */
export function dseqOf(text: string): string | undefined {
  if (!DIGITS.test(text)) return undefined;
  const value = BigInt(text);
  return value === 0n || value > UINT64_MAX ? undefined : value.toString();
}

/** Orders two canonical dseqs numerically (their text order is not their number order). */
export function compareDseq(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

export { quoteLargeIntegers, stringifyUint64s } from './uint64-json.js';
