/**
 * Which address families a lease's endpoints get in operator mode. The Go provider's `ProviderLeasedIP`
 * objects name no family and its CRD must not gain a field, so the operator learns it elsewhere:
 * - the provider-wide default, `--ip-family` (IPv4, as the Go operator);
 * - with `--akash-rest`, the order's group on chain: its placement attributes, read with daemon mode's rule
 *   (src/lease family.ts: `ip-lease-ipv6` dual-stack, `ip-lease-ipv6-only` IPv6, none the default).
 * A lease whose family cannot be known yet waits, with the reason: it is never given a guess that a later
 * answer could turn into another address.
 */
import { type AppError, appError, fail, type Result } from '../errors/index.js';
import type { FamilyRequest } from '../ipam/index.js';
import { type LeaseId, requestedFamily } from '../lease/index.js';
import type { Attribute } from '../sdl/index.js';
import { readDeploymentGroups } from './akash-rest.js';

/** The family a lease gets, or why it cannot be told yet. */
export type FamilyAnswer = { readonly family: FamilyRequest } | { readonly waiting: string };

/** Where the operator learns each new lease's family. */
export interface LeaseFamilies {
  /** The family of a lease whose order asks for none: `--ip-family`. */
  readonly fallback: FamilyRequest;
  familyOf(lease: LeaseId): FamilyAnswer;
  /** Forgets the deployments (`owner/dseq`) not in `keep`: their leases are gone. */
  retain(keep: ReadonlySet<string>): void;
  stop(): void;
}

/** `--ip-family` values: the names providers read, the engine's families. */
export const IP_FAMILY = { ipv4: 'v4', ipv6: 'v6', dual: 'dual' } as const satisfies Record<
  string,
  FamilyRequest
>;

/** How a family is named to people (flags, logs, errors). */
export function familyFlagName(family: FamilyRequest): keyof typeof IP_FAMILY {
  return family === 'v4' ? 'ipv4' : family === 'v6' ? 'ipv6' : 'dual';
}

/** Every lease gets the provider-wide default. */
export function fixedFamilies(fallback: FamilyRequest): LeaseFamilies {
  return { fallback, familyOf: () => ({ family: fallback }), retain: () => {}, stop: () => {} };
}

export interface ChainFamiliesOptions {
  /** The Akash REST (LCD) base URL, e.g. `https://api.akashnet.net`. */
  readonly url: string;
  readonly fallback: FamilyRequest;
  /** Told when an answer came in or a backoff ran out: the caller asks again (a reconcile pass). */
  readonly onChange: () => void;
  /** A failed read of a deployment is retried after this, doubling; default 2 s to 5 min. */
  readonly backoff?: { readonly minMs: number; readonly maxMs: number };
  /** One read's limit; default 10 s. */
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

type Entry =
  | { readonly kind: 'known'; readonly groups: ReadonlyMap<number, readonly Attribute[]> }
  | { readonly kind: 'reading'; readonly attempts: number }
  | { readonly kind: 'failed'; readonly attempts: number; readonly retryAt: number; readonly reason: string };

function deploymentKey(lease: LeaseId): string {
  return `${lease.owner}/${lease.dseq}`;
}

/**
 * Families from the chain: one read per deployment (`deployments/info` holds every group), cached for
 * good once read, since a group's placement never changes on chain. A failed read backs off for that
 * deployment alone; reads run in the background, so no lease ever waits on another's.
 */
export class ChainFamilies implements LeaseFamilies {
  readonly fallback: FamilyRequest;
  readonly #options: ChainFamiliesOptions;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #cancel = new AbortController();
  #stopped = false;

  constructor(options: ChainFamiliesOptions) {
    this.#options = options;
    this.fallback = options.fallback;
    this.#now = options.now ?? Date.now;
  }

  familyOf(lease: LeaseId): FamilyAnswer {
    const key = deploymentKey(lease);
    const entry = this.#entries.get(key);
    if (entry?.kind === 'known') {
      const attributes = entry.groups.get(lease.gseq);
      if (attributes === undefined) {
        return { waiting: `deployment ${key} on chain has no group ${lease.gseq}` };
      }
      return { family: requestedFamily(attributes) ?? this.fallback };
    }
    if (entry?.kind === 'failed' && entry.retryAt > this.#now()) {
      return { waiting: `reading its order from the chain failed (${entry.attempts}×): ${entry.reason}` };
    }
    if (entry?.kind !== 'reading') this.#read(key, lease, entry?.attempts ?? 0);
    return { waiting: "reading its order's placement attributes from the chain" };
  }

  retain(keep: ReadonlySet<string>): void {
    for (const key of this.#entries.keys()) {
      if (keep.has(key)) continue;
      this.#entries.delete(key);
      clearTimeout(this.#timers.get(key));
      this.#timers.delete(key);
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#cancel.abort();
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #read(key: string, lease: LeaseId, attempts: number): void {
    this.#entries.set(key, { kind: 'reading', attempts });
    const timeoutMs = this.#options.timeoutMs ?? 10_000;
    void readDeploymentGroups(this.#options.url, lease.owner, lease.dseq, timeoutMs, this.#cancel.signal)
      .then((read) => this.#settle(key, attempts, read))
      .catch(() =>
        this.#settle(key, attempts, fail(appError('INTERNAL', 'reading the order failed unexpectedly'))),
      );
  }

  #settle(
    key: string,
    attempts: number,
    read: Result<ReadonlyMap<number, readonly Attribute[]>, AppError>,
  ): void {
    // Forgotten meanwhile (its leases are gone) or stopped: the answer is of no use.
    if (this.#stopped || this.#entries.get(key)?.kind !== 'reading') return;
    if (read.ok) {
      this.#entries.set(key, { kind: 'known', groups: read.value });
    } else {
      const { minMs, maxMs } = this.#options.backoff ?? { minMs: 2000, maxMs: 300_000 };
      const delay = Math.min(maxMs, minMs * 2 ** Math.min(attempts, 30));
      const retryAt = this.#now() + delay;
      this.#entries.set(key, { kind: 'failed', attempts: attempts + 1, retryAt, reason: read.error.message });
      const timer = setTimeout(() => {
        this.#timers.delete(key);
        this.#options.onChange();
      }, delay);
      timer.unref();
      this.#timers.set(key, timer);
    }
    this.#options.onChange();
  }
}

/** The families source the flags ask for. */
export function leaseFamilies(
  fallback: FamilyRequest,
  akashRest: string | undefined,
  onChange: () => void,
): LeaseFamilies {
  return akashRest === undefined
    ? fixedFamilies(fallback)
    : new ChainFamilies({ url: akashRest, fallback, onChange });
}
