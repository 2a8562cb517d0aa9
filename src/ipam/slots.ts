/**
 * Per-key storage for the allocator. A slot holds one sharing key: its key, owner and bound ports, its
 * state and pool, the index of its address in each family, and its quarantine deadline, side by side in
 * one array, so that finding a key (the key table compares against the stored key) and then reading or
 * changing its state touches one record instead of one per field or per array.
 */
import type { Index } from './index-tree.js';
import type { Family } from './types.js';

/** Slot states. */
export const FREE = 0;
export const LIVE = 1;
export const QUARANTINED = 2;

/** Entries per slot in `refs`: key, owner, ports, meta, v4 index, v6 index, deadline. */
export const REFS = 7;
const KEY = 0;
const OWNER = 1;
const PORTS = 2;
/** (pool id + 1) * 4 + state. */
const META = 3;
const V4 = 4;
const V6 = 5;
const UNTIL = 6;
const NONE = -1; // no address of that family
const BIG = -2; // index beyond 2^53, kept in `big`

type Field = string | number | number[] | undefined;

/** Growable slot storage with a free list. */
export class Slots {
  /**
   * The records, REFS entries per slot. Numbers stay small integers (unboxed) in the usual case: indexes
   * below 2^31 and deadlines as an offset from the first deadline seen, which stays small for weeks.
   * Ports are sorted codes (port * 2, + 1 for UDP), or undefined when none.
   */
  readonly refs: Field[] = [];
  private readonly big = new Map<number, bigint>();
  private readonly freeList: number[] = [];
  /** One past the highest slot ever used. */
  private top = 0;
  private epoch = Number.NaN;

  /** One past the highest slot ever used; slots below it may be FREE. */
  get end(): number {
    return this.top;
  }

  /** A fresh slot for `key`, with no pool and no addresses. */
  take(key: string, owner: string, state: number): number {
    const { refs } = this;
    let slot = this.freeList.pop();
    if (slot === undefined) {
      slot = this.top++;
      refs.push(key, owner, undefined, state, NONE, NONE, 0);
      return slot;
    }
    const at = slot * REFS;
    refs[at + KEY] = key;
    refs[at + OWNER] = owner;
    refs[at + META] = state;
    refs[at + V4] = NONE;
    refs[at + V6] = NONE;
    return slot;
  }

  /** Returns a slot to the free list and drops its strings. */
  free(slot: number): void {
    const { refs } = this;
    const at = slot * REFS;
    if (refs[at + V4] === BIG) this.big.delete(slot * 2);
    if (refs[at + V6] === BIG) this.big.delete(slot * 2 + 1);
    refs[at + KEY] = '';
    refs[at + OWNER] = '';
    refs[at + PORTS] = undefined;
    refs[at + META] = FREE;
    refs[at + V4] = NONE;
    refs[at + V6] = NONE;
    this.freeList.push(slot);
  }

  key(slot: number): string {
    return this.refs[slot * REFS + KEY] as string;
  }

  /** Renames the slot's key (the key table must not hold it under the old name). */
  setKey(slot: number, key: string): void {
    this.refs[slot * REFS + KEY] = key;
  }

  owner(slot: number): string {
    return this.refs[slot * REFS + OWNER] as string;
  }

  setOwner(slot: number, owner: string): void {
    this.refs[slot * REFS + OWNER] = owner;
  }

  ports(slot: number): number[] | undefined {
    return this.refs[slot * REFS + PORTS] as number[] | undefined;
  }

  setPorts(slot: number, codes: number[] | undefined): void {
    this.refs[slot * REFS + PORTS] = codes;
  }

  state(slot: number): number {
    return (this.refs[slot * REFS + META] as number) & 3;
  }

  setState(slot: number, state: number): void {
    const at = slot * REFS + META;
    this.refs[at] = ((this.refs[at] as number) & ~3) | state;
  }

  /** Pool id, or -1 for none (an orphan). */
  pool(slot: number): number {
    return ((this.refs[slot * REFS + META] as number) >> 2) - 1;
  }

  setPool(slot: number, pool: number): void {
    const at = slot * REFS + META;
    this.refs[at] = ((pool + 1) << 2) | ((this.refs[at] as number) & 3);
  }

  index(slot: number, family: Family): Index | undefined {
    const raw = this.refs[slot * REFS + (family === 'v4' ? V4 : V6)] as number;
    if (raw === NONE) return undefined;
    return raw === BIG ? this.big.get(slot * 2 + (family === 'v4' ? 0 : 1)) : raw;
  }

  setIndex(slot: number, family: Family, index: Index | undefined): void {
    const at = slot * REFS + (family === 'v4' ? V4 : V6);
    const bigKey = slot * 2 + (family === 'v4' ? 0 : 1);
    if (this.refs[at] === BIG) this.big.delete(bigKey);
    if (index === undefined) {
      this.refs[at] = NONE;
    } else if (typeof index === 'number') {
      this.refs[at] = index;
    } else {
      this.refs[at] = BIG;
      this.big.set(bigKey, index);
    }
  }

  /** Whether the slot holds no address of either family. */
  empty(slot: number): boolean {
    const at = slot * REFS;
    return this.refs[at + V4] === NONE && this.refs[at + V6] === NONE;
  }

  until(slot: number): number {
    return (this.refs[slot * REFS + UNTIL] as number) + this.epoch;
  }

  setUntil(slot: number, until: number): void {
    if (Number.isNaN(this.epoch)) this.epoch = until;
    this.refs[slot * REFS + UNTIL] = until - this.epoch;
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
