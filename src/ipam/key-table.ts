/**
 * Sharing key → slot: an open-addressing hash table over two Int32Arrays (slot, hash).
 *
 * A `Map<string, number>` costs about twice the time and heap at a million keys: every probe and every
 * rehash dereferences the key string to read its hash, a cache miss each time. Here hashes sit next to the
 * slots, so a string is compared only when the full 32-bit hash matches. The key strings themselves are not
 * stored; the caller's slot → key array is consulted instead.
 */

const EMPTY = -1;

/** Scratch space for {@link hashOf}: keys up to 1024 UTF-16 units encode into it (≤ 3 bytes each, plus padding). */
const scratch = new Uint8Array(4096);
const scratchWords = new Int32Array(scratch.buffer);
const SCRATCH_KEY_LENGTH = 1024;
const utf8 = new TextEncoder();

/** One MurmurHash3 (x86, 32-bit) round folding `k` into `h`. */
function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number, length: number): number {
  h ^= length;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * MurmurHash3 over the key, seeded per table so collisions cannot be precomputed.
 *
 * V8 spends about 2-3 ns on each `charCodeAt` of a key built by concatenation (a cons string), so a
 * typical 50-character key costs ~160 ns that way. Encoding it into a scratch buffer first is one native
 * copy, after which the hash reads four bytes per step: ~75 ns. Longer keys take the per-character path.
 * Lone surrogates encode as U+FFFD, which can only make two keys share a hash, never a slot: the table
 * compares the strings themselves on a hash match.
 */
function hashOf(key: string, seed: number): number {
  let h = seed;
  if (key.length <= SCRATCH_KEY_LENGTH) {
    const { written } = utf8.encodeInto(key, scratch);
    // Zero the tail of the last word, so bytes of a longer earlier key cannot leak in.
    scratch[written] = 0;
    scratch[written + 1] = 0;
    scratch[written + 2] = 0;
    const words = (written + 3) >>> 2;
    for (let i = 0; i < words; i++) h = mix(h, scratchWords[i]!);
    return finish(h, written);
  }
  const n = key.length;
  let i = 0;
  for (; i + 1 < n; i += 2) h = mix(h, key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16));
  if (i < n) h = mix(h, key.charCodeAt(i));
  return finish(h, n);
}

/** The key → slot map; `refs[slot * stride]` must hold the key of every slot stored. */
export class KeyTable {
  /** Pairs (slot, hash) side by side, so a probe touches one cache line. */
  private cells = new Int32Array(128).fill(EMPTY);
  /** Slot → its cell, or -1, so removing a slot needs no hashing. */
  private cellOf = new Int32Array(1024).fill(EMPTY);
  private count = 0;
  private readonly seed = (Math.random() * 0x100000000) | 0;

  constructor(
    private readonly refs: readonly unknown[],
    private readonly stride: number,
  ) {}

  /** Number of keys. */
  get size(): number {
    return this.count;
  }

  /** Grows the table once for `count` keys in all, instead of doubling step by step. */
  reserve(count: number): void {
    let length = this.cells.length;
    while (count * 4 > length) length *= 2;
    if (length > this.cells.length) this.resize(length);
  }

  /**
   * The table's hash of `key`. A caller that looks a key up and then stores it passes the hash to both,
   * hashing once (remembering the last key here instead would cost a string comparison per call).
   */
  hash(key: string): number {
    return hashOf(key, this.seed);
  }

  /** The slot stored for `key`, or -1. */
  get(key: string, hash = this.hash(key)): number {
    const at = this.find(key, hash);
    return at < 0 ? EMPTY : this.cells[at]!;
  }

  /** Stores `slot` for `key`; returns the slot it replaces (now forgotten), or -1. */
  set(key: string, slot: number, hash = this.hash(key)): number {
    if (slot >= this.cellOf.length) {
      let length = this.cellOf.length;
      while (slot >= length) length *= 2;
      const grown = new Int32Array(length).fill(EMPTY);
      grown.set(this.cellOf);
      this.cellOf = grown;
    }
    const at = this.find(key, hash);
    if (at >= 0) {
      const previous = this.cells[at]!;
      this.cellOf[previous] = EMPTY;
      this.cells[at] = slot;
      this.cellOf[slot] = at;
      return previous;
    }
    if ((this.count + 1) * 4 > this.cells.length) this.resize(this.cells.length * 2);
    this.place(slot, hash);
    this.count++;
    return EMPTY;
  }

  /** Removes `slot` if a key maps to it. */
  delete(slot: number): void {
    const { cells, cellOf } = this;
    let at = slot < cellOf.length ? cellOf[slot]! : EMPTY;
    if (at < 0) return;
    cellOf[slot] = EMPTY;
    const mask = cells.length - 2;
    // Backward-shift deletion: pull later members of the probe run into the hole, so no tombstones pile up.
    let next = (at + 2) & mask;
    while (cells[next] !== EMPTY) {
      const home = (cells[next + 1]! << 1) & mask;
      if (((next - home) & mask) >= ((next - at) & mask)) {
        cells[at] = cells[next]!;
        cells[at + 1] = cells[next + 1]!;
        cellOf[cells[at]!] = at;
        at = next;
      }
      next = (next + 2) & mask;
    }
    cells[at] = EMPTY;
    this.count--;
    if (cells.length > 128 && this.count * 16 < cells.length) this.resize(cells.length / 2);
  }

  /**
   * Removes many slots in one rebuild (for a mass expiry). Membership is looked up in a bitset, so the scan
   * over the table stays in cache instead of touching each slot's record.
   */
  deleteMany(slots: ArrayLike<number>): void {
    const { cellOf } = this;
    const gone = new Uint32Array((cellOf.length >>> 5) + 1);
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      if (slot >= cellOf.length || cellOf[slot] === EMPTY) continue;
      gone[slot >>> 5]! |= 1 << (slot & 31);
      cellOf[slot] = EMPTY;
      this.count--;
    }
    const old = this.cells;
    // Same size: a mass expiry is usually followed by as many new keys, which would only grow it back.
    this.cells = new Int32Array(old.length).fill(EMPTY);
    for (let i = 0; i < old.length; i += 2) {
      const slot = old[i]!;
      if (slot !== EMPTY && (gone[slot >>> 5]! & (1 << (slot & 31))) === 0) this.place(slot, old[i + 1]!);
    }
  }

  /** Cell position of `key`, or -1. */
  private find(key: string, hash: number): number {
    const { cells, refs, stride } = this;
    const mask = cells.length - 2;
    for (let at = (hash << 1) & mask; ; at = (at + 2) & mask) {
      const slot = cells[at]!;
      if (slot === EMPTY) return -1;
      if (cells[at + 1] === hash && refs[slot * stride] === key) return at;
    }
  }

  private place(slot: number, hash: number): void {
    const { cells } = this;
    const mask = cells.length - 2;
    let at = (hash << 1) & mask;
    while (cells[at] !== EMPTY) at = (at + 2) & mask;
    cells[at] = slot;
    cells[at + 1] = hash;
    this.cellOf[slot] = at;
  }

  private resize(length: number): void {
    const old = this.cells;
    this.cells = new Int32Array(length).fill(EMPTY);
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] !== EMPTY) this.place(old[i]!, old[i + 1]!);
    }
  }
}
