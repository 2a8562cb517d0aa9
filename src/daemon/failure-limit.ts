/**
 * Rate limits on failed authentication, per source address. Every refused token costs this provider something (a
 * signature check, a ledger lookup for an account it has never seen), so a source that keeps failing is slowed
 * down: a token bucket of `burst` failures refilled at `perMinute`, after which its tenant routes answer 429
 * RATE_LIMITED with Retry-After, before any token is looked at. Sources that succeed are never counted. Behind a
 * reverse proxy every caller shares the proxy's address: give the proxy its own limits then.
 */
import { BoundedCache } from './bounded-cache.js';

export interface FailureLimit {
  /** Failures a source may have in a row before it waits. */
  readonly burst: number;
  /** How fast a source earns failures back; 0: no limit at all. */
  readonly perMinute: number;
}

/** Most sources tracked at once; the least recently failing ones are forgotten first. */
const MAX_SOURCES = 10_000;

/** Counts failures per source and says how long a source must wait. */
export class FailureLimiter {
  readonly #limit: FailureLimit;
  readonly #now: () => number;
  /** Failures a source may still have (fractional while refilling), as of `at`. */
  readonly #buckets: BoundedCache<string, { readonly left: number; readonly at: number }>;

  constructor(limit: FailureLimit, now: () => number, maxSources = MAX_SOURCES) {
    this.#limit = limit;
    this.#now = now;
    this.#buckets = new BoundedCache(maxSources, now);
  }

  /** Failures per millisecond earned back. */
  get #rate(): number {
    return this.#limit.perMinute / 60_000;
  }

  #left(source: string, now: number): number {
    const bucket = this.#buckets.get(source);
    if (bucket === undefined) return this.#limit.burst;
    return Math.min(this.#limit.burst, bucket.left + (now - bucket.at) * this.#rate);
  }

  /** Whole seconds `source` must wait before it may try again; 0 when it may now. */
  retryAfterSeconds(source: string): number {
    if (this.#limit.perMinute === 0) return 0;
    const left = this.#left(source, this.#now());
    return left >= 1 ? 0 : Math.ceil((1 - left) / this.#rate / 1000);
  }

  /** Records a failed attempt from `source`. */
  failed(source: string): void {
    if (this.#limit.perMinute === 0) return;
    const now = this.#now();
    const left = this.#left(source, now) - 1;
    // forgotten once full again: an absent source has a full bucket
    this.#buckets.set(source, { left, at: now }, now + (this.#limit.burst - left) / this.#rate);
  }
}
