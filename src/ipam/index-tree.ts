/**
 * An ordered map from address index (rank of an address inside its pool) to a slot number:
 * a B+tree whose inner nodes keep each child's entry count and largest key.
 *
 * The counts make "smallest index not in the map" a single root-to-leaf walk: while the keys are
 * exactly 0, 1, 2, … the key of rank r equals r, and since keys are distinct integers `key(r) - r`
 * never decreases, so the first gap is where that stops holding. Lowest-free allocation is therefore
 * O(log n) whether the pool is a /24 or an IPv6 /64, and never touches free addresses.
 */

/**
 * An index: a number while it is a safe integer, a bigint beyond (a pin deep inside a /64).
 * Each value has exactly one form, so `===` is equality and `<` compares across both.
 */
export type Index = number | bigint;

const LEAF_MAX = 128;
const INNER_MAX = 64;
const LEAF_MIN = LEAF_MAX >> 2;
const INNER_MIN = INNER_MAX >> 2;

/** Turns a bigint index into its one canonical form. */
export function toIndex(value: bigint): Index {
  return value <= 9007199254740991n ? Number(value) : value;
}

class Leaf {
  constructor(
    readonly keys: Index[],
    readonly vals: number[],
  ) {}
}

class Inner {
  constructor(
    readonly kids: Node[],
    /** Entries under each child. */
    readonly counts: number[],
    /** Largest key under each child; doubles as the search separator. */
    readonly maxs: Index[],
  ) {}
}

type Node = Leaf | Inner;

function countOf(node: Node): number {
  if (node instanceof Leaf) return node.keys.length;
  let total = 0;
  for (const c of node.counts) total += c;
  return total;
}

function maxOf(node: Node): Index {
  return node instanceof Leaf ? node.keys[node.keys.length - 1]! : node.maxs[node.maxs.length - 1]!;
}

function widthOf(node: Node): number {
  return node instanceof Leaf ? node.keys.length : node.kids.length;
}

/** First position whose key is ≥ k. */
function lowerBound(keys: readonly Index[], k: Index): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Child position for key k: the first child whose largest key is ≥ k, else the last child. */
function childFor(inner: Inner, k: Index): number {
  const at = lowerBound(inner.maxs, k);
  return at < inner.kids.length ? at : inner.kids.length - 1;
}

/** The ordered index → slot map described above. */
export class IndexTree {
  private root: Node = new Leaf([], []);
  private count = 0;

  /** Builds a tree from strictly increasing keys and their values in O(n). */
  static fromSorted(keys: readonly Index[], vals: readonly number[]): IndexTree {
    const tree = new IndexTree();
    if (keys.length === 0) return tree;
    let level: Node[] = [];
    for (let i = 0; i < keys.length; i += LEAF_MAX) {
      level.push(new Leaf(keys.slice(i, i + LEAF_MAX), vals.slice(i, i + LEAF_MAX)));
    }
    while (level.length > 1) {
      const up: Node[] = [];
      for (let i = 0; i < level.length; i += INNER_MAX) {
        const kids = level.slice(i, i + INNER_MAX);
        up.push(new Inner(kids, kids.map(countOf), kids.map(maxOf)));
      }
      level = up;
    }
    tree.root = level[0]!;
    tree.count = keys.length;
    return tree;
  }

  /** Number of entries. */
  get size(): number {
    return this.count;
  }

  /** The value stored at `k`, or -1. */
  get(k: Index): number {
    let node = this.root;
    while (node instanceof Inner) node = node.kids[childFor(node, k)]!;
    const at = lowerBound(node.keys, k);
    return node.keys[at] === k ? node.vals[at]! : -1;
  }

  /** Stores `v` at `k`, replacing any previous value. */
  set(k: Index, v: number): void {
    const split = this.insertInto(this.root, k, v);
    if (split !== undefined) {
      const kids = [this.root, split];
      this.root = new Inner(kids, kids.map(countOf), kids.map(maxOf));
    }
  }

  /** Removes `k`; returns its value, or -1 when absent. */
  delete(k: Index): number {
    const v = this.deleteFrom(this.root, k);
    if (v < 0) return v;
    this.count--;
    if (this.count === 0) this.root = new Leaf([], []);
    while (this.root instanceof Inner && this.root.kids.length === 1) this.root = this.root.kids[0]!;
    return v;
  }

  /** The smallest non-negative integer that is not a key (keys must be non-negative integers). */
  lowestGap(): number {
    let node = this.root;
    // Lowest-first allocation keeps the keys exactly 0..n-1 most of the time.
    if (maxOf(node) === this.count - 1) return this.count;
    let base = 0;
    while (node instanceof Inner) {
      const { kids, counts, maxs } = node;
      let j = 0;
      // A child is gap-free when its largest key equals the rank of its last entry.
      while (j < kids.length - 1 && maxs[j] === base + counts[j]! - 1) {
        base += counts[j]!;
        j++;
      }
      node = kids[j]!;
    }
    const { keys } = node;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! > base + mid) hi = mid;
      else lo = mid + 1;
    }
    return base + lo;
  }

  /** Keeps only the entries whose value passes `keep`, in one O(n) pass (for mass expiry). */
  retain(keep: (value: number) => boolean): void {
    const keys: Index[] = [];
    const vals: number[] = [];
    for (const [k, v] of this.entries()) {
      if (keep(v)) {
        keys.push(k);
        vals.push(v);
      }
    }
    const rebuilt = IndexTree.fromSorted(keys, vals);
    this.root = rebuilt.root;
    this.count = rebuilt.count;
  }

  /** All entries in key order. */
  *entries(): Generator<[Index, number]> {
    const stack: Node[] = [this.root];
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (node instanceof Leaf) {
        for (let i = 0; i < node.keys.length; i++) yield [node.keys[i]!, node.vals[i]!];
      } else {
        for (let i = node.kids.length - 1; i >= 0; i--) stack.push(node.kids[i]!);
      }
    }
  }

  /** Inserts into the subtree; returns a new right sibling when the node had to split. */
  private insertInto(node: Node, k: Index, v: number): Node | undefined {
    if (node instanceof Leaf) {
      const { keys, vals } = node;
      const at = lowerBound(keys, k);
      if (keys[at] === k) {
        vals[at] = v;
        return undefined;
      }
      this.count++;
      if (at === keys.length) {
        keys.push(k);
        vals.push(v);
      } else {
        keys.splice(at, 0, k);
        vals.splice(at, 0, v);
      }
      if (keys.length <= LEAF_MAX) return undefined;
      // Appends (the lowest-free pattern) leave the left leaf full instead of half empty.
      const cut = at === keys.length - 1 ? LEAF_MAX : keys.length >> 1;
      return new Leaf(keys.splice(cut), vals.splice(cut));
    }
    const j = childFor(node, k);
    const child = node.kids[j]!;
    const before = this.count;
    const split = this.insertInto(child, k, v);
    node.counts[j]! += this.count - before;
    if (k > node.maxs[j]!) node.maxs[j] = k;
    if (split === undefined) return undefined;
    node.kids.splice(j + 1, 0, split);
    node.counts.splice(j + 1, 0, countOf(split));
    node.counts[j]! -= node.counts[j + 1]!;
    node.maxs.splice(j + 1, 0, maxOf(split));
    node.maxs[j] = maxOf(child);
    if (node.kids.length <= INNER_MAX) return undefined;
    const cut = j + 1 === node.kids.length - 1 ? INNER_MAX : node.kids.length >> 1;
    return new Inner(node.kids.splice(cut), node.counts.splice(cut), node.maxs.splice(cut));
  }

  private deleteFrom(node: Node, k: Index): number {
    if (node instanceof Leaf) {
      const at = lowerBound(node.keys, k);
      if (node.keys[at] !== k) return -1;
      const v = node.vals[at]!;
      node.keys.splice(at, 1);
      node.vals.splice(at, 1);
      return v;
    }
    const j = childFor(node, k);
    const child = node.kids[j]!;
    const v = this.deleteFrom(child, k);
    if (v < 0) return v;
    node.counts[j]!--;
    if (node.counts[j] === 0) {
      node.kids.splice(j, 1);
      node.counts.splice(j, 1);
      node.maxs.splice(j, 1);
      return v;
    }
    node.maxs[j] = maxOf(child);
    if (widthOf(child) < (child instanceof Leaf ? LEAF_MIN : INNER_MIN)) this.mergeAround(node, j);
    return v;
  }

  /** Folds an underfull child into a neighbour when both fit in one node, keeping the tree shallow. */
  private mergeAround(parent: Inner, j: number): void {
    const limit = parent.kids[j] instanceof Leaf ? LEAF_MAX : INNER_MAX;
    for (const left of [j - 1, j]) {
      const right = left + 1;
      if (left < 0 || right >= parent.kids.length) continue;
      const a = parent.kids[left]!;
      const b = parent.kids[right]!;
      if (widthOf(a) + widthOf(b) > limit) continue;
      if (a instanceof Leaf && b instanceof Leaf) {
        a.keys.push(...b.keys);
        a.vals.push(...b.vals);
      } else if (a instanceof Inner && b instanceof Inner) {
        a.kids.push(...b.kids);
        a.counts.push(...b.counts);
        a.maxs.push(...b.maxs);
      }
      parent.counts[left]! += parent.counts[right]!;
      parent.maxs[left] = parent.maxs[right]!;
      parent.kids.splice(right, 1);
      parent.counts.splice(right, 1);
      parent.maxs.splice(right, 1);
      return;
    }
  }
}

/**
 * Collects (index, value) pairs in any order and bulk-loads a tree in O(n log n). Pairs whose index and
 * value pack into one exact double (index × 2^k + value) are sorted natively in a Float64Array, far
 * faster than a comparator sort; any others (huge IPv6 indexes) are merged in afterwards.
 */
export class TreeBuilder {
  private packed: Float64Array;
  private count = 0;
  private readonly spread: number;
  private readonly limit: number;
  private readonly others: [Index, number][] = [];

  /** `valueLimit` bounds the values (slot numbers) that will be added. */
  constructor(valueLimit: number, expected = 1024) {
    this.spread = 2 ** Math.ceil(Math.log2(valueLimit + 1));
    this.limit = Math.floor(Number.MAX_SAFE_INTEGER / this.spread);
    this.packed = new Float64Array(Math.max(16, expected));
  }

  add(index: Index, value: number): void {
    if (typeof index !== 'number' || index >= this.limit) {
      this.others.push([index, value]);
      return;
    }
    if (this.count === this.packed.length) {
      const grown = new Float64Array(this.count * 2);
      grown.set(this.packed);
      this.packed = grown;
    }
    this.packed[this.count++] = index * this.spread + value;
  }

  /** The tree, or the first index that was added twice. */
  build(): { readonly tree: IndexTree; readonly duplicate?: Index } {
    const { spread, count } = this;
    const packed = this.packed.subarray(0, count).sort();
    const keys: Index[] = [];
    const vals: number[] = [];
    for (let i = 0; i < count; i++) {
      const v = packed[i]!;
      const value = v % spread;
      keys.push((v - value) / spread);
      vals.push(value);
    }
    // Every packed index is below every other one, so the others simply follow.
    this.others.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [key, value] of this.others) {
      keys.push(key);
      vals.push(value);
    }
    for (let i = 1; i < keys.length; i++) {
      if (keys[i] === keys[i - 1]) return { tree: new IndexTree(), duplicate: keys[i]! };
    }
    return { tree: IndexTree.fromSorted(keys, vals) };
  }
}
