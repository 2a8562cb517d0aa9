/**
 * Sets of addresses as sorted, disjoint, non-adjacent inclusive bigint intervals.
 * Every operation is linear in the number of intervals (or logarithmic for lookups),
 * never in the number of addresses, so an IPv6 /64 costs the same as a /128.
 */

/** An inclusive interval `[start, end]`. */
export interface Interval {
  readonly start: bigint;
  readonly end: bigint;
}

/** A set of addresses: intervals sorted by start, disjoint and non-adjacent (so each set has one form). */
export type IntervalSet = readonly Interval[];

/** The empty set. */
export const EMPTY: IntervalSet = Object.freeze([]);

/** The block `base/prefixLength` in a `bits`-bit address space; `base` must have no host bits. */
export function fromCidr(base: bigint, prefixLength: number, bits: number): IntervalSet {
  const hostBits = BigInt(bits - prefixLength);
  return [{ start: base, end: base | ((1n << hostBits) - 1n) }];
}

/** The inclusive range `[start, end]` (empty when start > end). */
export function fromRange(start: bigint, end: bigint): IntervalSet {
  return start > end ? EMPTY : [{ start, end }];
}

/** Sorts and merges arbitrary (possibly overlapping or adjacent) intervals into canonical form. */
export function normalize(intervals: readonly Interval[]): IntervalSet {
  const sorted = intervals
    .filter((i) => i.start <= i.end)
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: Interval[] = [];
  for (const next of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && next.start <= last.end + 1n) {
      if (next.end > last.end) out[out.length - 1] = { start: last.start, end: next.end };
    } else {
      out.push(next);
    }
  }
  return out;
}

/** a ∪ b. */
export function union(a: IntervalSet, b: IntervalSet): IntervalSet {
  return normalize([...a, ...b]);
}

/** a ∖ b, by one merge pass over both sorted lists. */
export function subtract(a: IntervalSet, b: IntervalSet): IntervalSet {
  const out: Interval[] = [];
  let j = 0;
  for (const interval of a) {
    let start = interval.start;
    const end = interval.end;
    while (j < b.length && b[j]!.end < start) j++;
    let k = j;
    while (start <= end && k < b.length && b[k]!.start <= end) {
      const cut = b[k]!;
      if (cut.start > start) out.push({ start, end: cut.start - 1n });
      start = cut.end + 1n;
      k++;
    }
    if (start <= end) out.push({ start, end });
  }
  return out;
}

// Math.min/max reject bigints.
function maxOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function minOf(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/** a ∩ b. */
export function intersect(a: IntervalSet, b: IntervalSet): IntervalSet {
  const out: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    const start = maxOf(x.start, y.start);
    const end = minOf(x.end, y.end);
    if (start <= end) out.push({ start, end });
    if (x.end < y.end) i++;
    else j++;
  }
  return out;
}

/** Number of addresses in the set. */
export function size(set: IntervalSet): bigint {
  let total = 0n;
  for (const { start, end } of set) total += end - start + 1n;
  return total;
}

/** Position of the interval holding `x`, or of the first interval after it (binary search). */
function locate(set: IntervalSet, x: bigint): number {
  let lo = 0;
  let hi = set.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (set[mid]!.end < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether `x` is in the set. */
export function contains(set: IntervalSet, x: bigint): boolean {
  const at = set[locate(set, x)];
  return at !== undefined && at.start <= x;
}

/** The smallest member that is ≥ `cursor` (the issue's `firstFreeAfter` when the set holds free space). */
export function firstAtOrAfter(set: IntervalSet, cursor: bigint): bigint | undefined {
  const at = set[locate(set, cursor)];
  if (at === undefined) return undefined;
  return at.start > cursor ? at.start : cursor;
}

/**
 * A set with prefix counts, so the k-th member and the rank of a member are found by binary search.
 * The allocator addresses pool members by rank ("index"), which turns "lowest free address" into
 * "smallest index not yet taken".
 */
export class IndexedIntervals {
  readonly set: IntervalSet;
  readonly size: bigint;
  /** before[i] = number of members in intervals 0..i-1. */
  private readonly before: readonly bigint[];

  constructor(set: IntervalSet) {
    this.set = set;
    const before: bigint[] = [];
    let total = 0n;
    for (const { start, end } of set) {
      before.push(total);
      total += end - start + 1n;
    }
    this.before = before;
    this.size = total;
  }

  /** The member of rank `k` (0-based); `k` must be below `size`. */
  nth(k: bigint): bigint {
    const { before, set } = this;
    let lo = 0;
    let hi = before.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (before[mid]! <= k) lo = mid;
      else hi = mid - 1;
    }
    return set[lo]!.start + (k - before[lo]!);
  }

  /** The rank of `x`, or -1n when `x` is not a member. */
  rank(x: bigint): bigint {
    const i = locate(this.set, x);
    const at = this.set[i];
    if (at === undefined || at.start > x) return -1n;
    return this.before[i]! + (x - at.start);
  }
}
