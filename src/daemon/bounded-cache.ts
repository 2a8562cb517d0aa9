/**
 * A map with a size bound and an expiry per entry: the least recently used entry goes when it is full, and an
 * expired entry is never returned (and is dropped when met). What a cache keyed by caller input needs, since
 * every caller can make up new keys.
 */
export class BoundedCache<K, V> {
  readonly #max: number;
  readonly #now: () => number;
  /** Insertion order is recency order: a hit moves the entry to the end. */
  readonly #entries = new Map<K, { readonly value: V; readonly until: number }>();

  /** `max` entries at most; `now` in milliseconds. */
  constructor(max: number, now: () => number) {
    this.#max = Math.max(1, max);
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value of `key` while it has not expired. */
  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (entry.until <= this.#now()) return undefined;
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Keeps `value` until `until` (milliseconds since the epoch), dropping the least recently used entry if full. */
  set(key: K, value: V, until: number): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, until });
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }
}
