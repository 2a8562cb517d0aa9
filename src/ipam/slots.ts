/**
 * Per-key storage for the allocator. A slot holds one sharing key: its state, pool, the index of its
 * address in each family, and its quarantine deadline, packed as four doubles in one Float64Array so that
 * touching a slot costs one cache line, not one per field. Strings and port lists sit in plain arrays.
 */
import type { Index } from './index-tree.js';
import type { Family } from './types.js';

/** Slot states. */
export const FREE = 0;
export const LIVE = 1;
export const QUARANTINED = 2;

const STRIDE = 4; // meta, v4 index, v6 index, until
/** Entries per slot in `refs`: key, owner, ports. */
export const REFS = 3;
const NONE = -1; // no address of that family
const BIG = -2; // index beyond 2^53, kept in `big`

/** Growable slot storage with a free list. */
export class Slots {
  /** meta = (pool id + 1) * 4 + state; then the two indexes and the deadline. */
  private rec = new Float64Array(1024 * STRIDE);
  private readonly big = new Map<number, bigint>();
  private readonly freeList: number[] = [];
  /** One past the highest slot ever used. */
  private top = 0;
  /**
   * Key, owner and bound ports of each slot, side by side (stride REFS) so that freeing or releasing a slot
   * touches one cache line. Ports are sorted codes (port * 2, + 1 for UDP), or undefined when none.
   */
  readonly refs: (string | number[] | undefined)[] = [];

  /** One past the highest slot ever used; slots below it may be FREE. */
  get end(): number {
    return this.top;
  }

  /** Makes room for `count` slots in all. */
  reserve(count: number): void {
    if (count * STRIDE <= this.rec.length) return;
    const next = new Float64Array(count * STRIDE);
    next.set(this.rec);
    this.rec = next;
  }

  /** A fresh slot for `key`, with no pool and no addresses. */
  take(key: string, owner: string, state: number): number {
    let slot = this.freeList.pop();
    if (slot === undefined) {
      slot = this.top++;
      if (slot * STRIDE === this.rec.length) this.reserve(slot * 2);
      this.refs.push(key, owner, undefined);
    } else {
      this.refs[slot * REFS] = key;
      this.refs[slot * REFS + 1] = owner;
    }
    const at = slot * STRIDE;
    this.rec[at] = state;
    this.rec[at + 1] = NONE;
    this.rec[at + 2] = NONE;
    return slot;
  }

  /** Returns a slot to the free list and drops its strings. */
  free(slot: number): void {
    const { rec } = this;
    const at = slot * STRIDE;
    if (rec[at + 1] === BIG) this.big.delete(slot * 2);
    if (rec[at + 2] === BIG) this.big.delete(slot * 2 + 1);
    rec[at] = FREE;
    rec[at + 1] = NONE;
    rec[at + 2] = NONE;
    this.refs[slot * REFS] = '';
    this.refs[slot * REFS + 1] = '';
    this.refs[slot * REFS + 2] = undefined;
    this.freeList.push(slot);
  }

  key(slot: number): string {
    return this.refs[slot * REFS] as string;
  }

  /** Renames the slot's key (the key table must not hold it under the old name). */
  setKey(slot: number, key: string): void {
    this.refs[slot * REFS] = key;
  }

  owner(slot: number): string {
    return this.refs[slot * REFS + 1] as string;
  }

  setOwner(slot: number, owner: string): void {
    this.refs[slot * REFS + 1] = owner;
  }

  ports(slot: number): number[] | undefined {
    return this.refs[slot * REFS + 2] as number[] | undefined;
  }

  setPorts(slot: number, codes: number[] | undefined): void {
    this.refs[slot * REFS + 2] = codes;
  }

  state(slot: number): number {
    return this.rec[slot * STRIDE]! & 3;
  }

  setState(slot: number, state: number): void {
    const at = slot * STRIDE;
    this.rec[at] = (this.rec[at]! & ~3) | state;
  }

  /** Pool id, or -1 for none (an orphan). */
  pool(slot: number): number {
    return (this.rec[slot * STRIDE]! >> 2) - 1;
  }

  setPool(slot: number, pool: number): void {
    const at = slot * STRIDE;
    this.rec[at] = ((pool + 1) << 2) | (this.rec[at]! & 3);
  }

  index(slot: number, family: Family): Index | undefined {
    const raw = this.rec[slot * STRIDE + (family === 'v4' ? 1 : 2)]!;
    if (raw === NONE) return undefined;
    return raw === BIG ? this.big.get(slot * 2 + (family === 'v4' ? 0 : 1)) : raw;
  }

  setIndex(slot: number, family: Family, index: Index | undefined): void {
    const at = slot * STRIDE + (family === 'v4' ? 1 : 2);
    const bigKey = slot * 2 + (family === 'v4' ? 0 : 1);
    if (this.rec[at] === BIG) this.big.delete(bigKey);
    if (index === undefined) {
      this.rec[at] = NONE;
    } else if (typeof index === 'number') {
      this.rec[at] = index;
    } else {
      this.rec[at] = BIG;
      this.big.set(bigKey, index);
    }
  }

  /** Whether the slot holds no address of either family. */
  empty(slot: number): boolean {
    const at = slot * STRIDE;
    return this.rec[at + 1] === NONE && this.rec[at + 2] === NONE;
  }

  until(slot: number): number {
    return this.rec[slot * STRIDE + 3]!;
  }

  setUntil(slot: number, until: number): void {
    this.rec[slot * STRIDE + 3] = until;
  }
}

/**
 * Quarantine deadlines in order. Releases arrive with non-decreasing deadlines when the clock does not go
 * back, so a push is an append and an expiry a pop from the front: O(1) each. An out-of-order deadline
 * (clock stepped back) is inserted in place. Entries may be stale; the reader checks the slot.
 */
export class DeadlineQueue {
  private untils: number[] = [];
  private slots: number[] = [];
  private head = 0;

  get size(): number {
    return this.untils.length - this.head;
  }

  /** The earliest deadline, or Infinity. */
  peek(): number {
    return this.head < this.untils.length ? this.untils[this.head]! : Number.POSITIVE_INFINITY;
  }

  push(until: number, slot: number): void {
    const { untils, slots } = this;
    if (untils.length === this.head || untils[untils.length - 1]! <= until) {
      untils.push(until);
      slots.push(slot);
      return;
    }
    let lo = this.head;
    let hi = untils.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (untils[mid]! <= until) lo = mid + 1;
      else hi = mid;
    }
    untils.splice(lo, 0, until);
    slots.splice(lo, 0, slot);
  }

  /** Removes every entry due at `now` (deadline ≤ now) and returns their slots, earliest first. */
  takeDue(now: number): number[] {
    const { untils, slots, head } = this;
    let lo = head;
    let hi = untils.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (untils[mid]! <= now) lo = mid + 1;
      else hi = mid;
    }
    const due = slots.slice(head, lo);
    if (lo === untils.length) {
      this.untils = [];
      this.slots = [];
      this.head = 0;
    } else if (lo >= 4096 && lo * 2 >= untils.length) {
      this.untils = untils.slice(lo);
      this.slots = slots.slice(lo);
      this.head = 0;
    } else {
      this.head = lo;
    }
    return due;
  }
}
