/**
 * The engine's committed state (the store's content plus derived indexes) and the draft a mutation
 * works on. A draft overlays the committed state, is turned into one store change, and is applied
 * to the committed state only after the store accepted that change.
 */
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import type { IpamSnapshot, QuarantineEntry } from '../ipam/index.js';
import { endpointKey, leaseKey, nameKey } from './ids.js';
import type { StoreChange, StoreSnapshot } from './ports.js';
import type { AllocationRecord, AuditEntry, LeaseRecord, ReservationRecord } from './types.js';
import type { ViewSource } from './views.js';

export interface State {
  readonly leases: Map<string, LeaseRecord>;
  readonly allocations: Map<string, AllocationRecord>;
  readonly quarantine: Map<string, QuarantineEntry>;
  readonly reservations: Map<string, ReservationRecord>;
  /** Name key → the lease whose active or pending endpoint claims the name. */
  readonly claims: Map<string, string>;
  /** Name key → leases whose endpoint of that name is withheld. */
  readonly waiting: Map<string, ReadonlySet<string>>;
  /** Leases with a pending endpoint. */
  readonly pending: Map<string, true>;
  /** dseq → lease keys, for finding a deployment's leases. */
  readonly byDseq: Map<string, readonly string[]>;
}

/** A copy-on-write view of one committed map. */
class Overlay<K, V> {
  readonly changes = new Map<K, V | null>();
  constructor(private readonly base: ReadonlyMap<K, V>) {}

  get(key: K): V | undefined {
    const changed = this.changes.get(key);
    return changed === undefined ? this.base.get(key) : (changed ?? undefined);
  }

  set(key: K, value: V | undefined): void {
    this.changes.set(key, value ?? null);
  }

  applyTo(target: Map<K, V>): void {
    for (const [key, value] of this.changes) {
      if (value === null) target.delete(key);
      else target.set(key, value);
    }
  }

  upserts(): V[] {
    const out: V[] = [];
    for (const value of this.changes.values()) if (value !== null) out.push(value);
    return out;
  }

  removals(): K[] {
    const out: K[] = [];
    for (const [key, value] of this.changes) if (value === null) out.push(key);
    return out;
  }
}

/** The pending changes of one mutation; reads see the committed state with these changes on top. */
export class Draft implements ViewSource {
  readonly leases: Overlay<string, LeaseRecord>;
  readonly allocations: Overlay<string, AllocationRecord>;
  readonly quarantine: Overlay<string, QuarantineEntry>;
  readonly reservations: Overlay<string, ReservationRecord>;
  readonly claims: Overlay<string, string>;
  readonly waiting: Overlay<string, ReadonlySet<string>>;
  readonly pending: Overlay<string, true>;
  readonly byDseq: Overlay<string, readonly string[]>;
  readonly audit: AuditEntry[] = [];
  /** Name keys whose claim was dropped; a withheld endpoint may take them over. */
  readonly freed = new Set<string>();
  /** Name key → the addresses its holder released in this draft. */
  readonly released = new Map<string, readonly string[]>();

  constructor(
    readonly state: State,
    readonly now: number,
    readonly actor: string,
  ) {
    this.leases = new Overlay(state.leases);
    this.allocations = new Overlay(state.allocations);
    this.quarantine = new Overlay(state.quarantine);
    this.reservations = new Overlay(state.reservations);
    this.claims = new Overlay(state.claims);
    this.waiting = new Overlay(state.waiting);
    this.pending = new Overlay(state.pending);
    this.byDseq = new Overlay(state.byDseq);
  }

  lease(key: string): LeaseRecord | undefined {
    return this.leases.get(key);
  }

  allocation(key: string): AllocationRecord | undefined {
    return this.allocations.get(key);
  }

  claim(name: string): string | undefined {
    return this.claims.get(name);
  }

  record(entry: Omit<AuditEntry, 'at' | 'actor'>): void {
    this.audit.push(Object.freeze({ at: this.now, actor: this.actor, ...entry }));
  }

  /** Stores a lease and keeps the name indexes in step with its endpoints. */
  putLease(next: LeaseRecord): void {
    const key = leaseKey(next.id);
    const previous = this.leases.get(key);
    const owner = next.id.owner;
    if (previous === undefined) {
      this.byDseq.set(next.id.dseq, [...(this.byDseq.get(next.id.dseq) ?? []), key]);
    }
    for (const endpoint of previous?.endpoints ?? []) {
      const name = nameKey(owner, endpoint.name);
      if (endpoint.state === 'withheld') this.unwait(name, key);
      else if (this.claims.get(name) === key) {
        this.claims.set(name, undefined);
        this.freed.add(name);
      }
    }
    for (const endpoint of next.endpoints) {
      const name = nameKey(owner, endpoint.name);
      if (endpoint.state === 'withheld') {
        const set = new Set(this.waiting.get(name));
        set.add(key);
        this.waiting.set(name, set);
      } else this.claims.set(name, key);
    }
    this.pending.set(key, next.endpoints.some((endpoint) => endpoint.state === 'pending') ? true : undefined);
    this.leases.set(key, next);
  }

  private unwait(name: string, key: string): void {
    const set = new Set(this.waiting.get(name));
    set.delete(key);
    this.waiting.set(name, set.size === 0 ? undefined : set);
  }

  isEmpty(): boolean {
    return (
      this.audit.length === 0 &&
      this.leases.changes.size === 0 &&
      this.allocations.changes.size === 0 &&
      this.quarantine.changes.size === 0 &&
      this.reservations.changes.size === 0
    );
  }

  change(): StoreChange {
    return {
      leases: this.leases.upserts(),
      allocations: this.allocations.upserts(),
      removedAllocations: this.allocations.removals(),
      quarantine: this.quarantine.upserts(),
      removedQuarantine: this.quarantine.removals(),
      reservations: this.reservations.upserts(),
      removedReservations: this.reservations.removals(),
      audit: this.audit,
    };
  }

  /** Makes the draft the committed state; call only after the store committed `change()`. */
  apply(): void {
    this.leases.applyTo(this.state.leases);
    this.allocations.applyTo(this.state.allocations);
    this.quarantine.applyTo(this.state.quarantine);
    this.reservations.applyTo(this.state.reservations);
    this.claims.applyTo(this.state.claims);
    this.waiting.applyTo(this.state.waiting);
    this.pending.applyTo(this.state.pending);
    this.byDseq.applyTo(this.state.byDseq);
  }
}

function corrupt(message: string): { readonly ok: false; readonly error: AppError } {
  return fail(appError('STORE_CORRUPT', `stored lease state is inconsistent: ${message}`));
}

/** Builds the committed state from a store snapshot, refusing one that breaks the engine's invariants. */
export function buildState(snapshot: StoreSnapshot): Result<State> {
  const leases = new Map<string, LeaseRecord>();
  const claims = new Map<string, string>();
  const waiting = new Map<string, Set<string>>();
  const pending = new Map<string, true>();
  const byDseq = new Map<string, string[]>();
  const active: string[] = [];
  for (const lease of snapshot.leases) {
    const key = leaseKey(lease.id);
    if (leases.has(key)) return corrupt(`lease ${key} is stored twice`);
    leases.set(key, lease);
    const keys = byDseq.get(lease.id.dseq);
    if (keys === undefined) byDseq.set(lease.id.dseq, [key]);
    else keys.push(key);
    if (lease.state === 'closed' && lease.endpoints.length > 0)
      return corrupt(`closed lease ${key} has endpoints`);
    for (const endpoint of lease.endpoints) {
      const name = nameKey(lease.id.owner, endpoint.name);
      if (endpoint.state === 'withheld') {
        const set = waiting.get(name);
        if (set === undefined) waiting.set(name, new Set([key]));
        else set.add(key);
        continue;
      }
      const holder = claims.get(name);
      if (holder !== undefined) return corrupt(`endpoint name ${name} is claimed by ${holder} and ${key}`);
      claims.set(name, key);
      if (endpoint.state === 'pending') pending.set(key, true);
      else active.push(endpointKey(key, endpoint.name));
    }
  }
  const allocations = new Map<string, AllocationRecord>();
  for (const allocation of snapshot.allocations) {
    const endpoint = leases
      .get(allocation.lease)
      ?.endpoints.find((candidate) => candidate.name === allocation.endpoint);
    if (
      endpoint?.state !== 'active' ||
      allocation.key !== endpointKey(allocation.lease, allocation.endpoint)
    ) {
      return corrupt(`allocation ${allocation.key} belongs to no active endpoint`);
    }
    allocations.set(allocation.key, allocation);
  }
  if (allocations.size !== active.length) {
    const missing = active.find((key) => !allocations.has(key));
    return corrupt(`active endpoint ${missing} has no allocation`);
  }
  return ok({
    leases,
    allocations,
    quarantine: new Map(snapshot.quarantine.map((entry) => [entry.address, entry])),
    reservations: new Map(snapshot.reservations.map((reservation) => [reservation.id, reservation])),
    claims,
    waiting,
    pending,
    byDseq,
  });
}

/** The allocator's view of the committed state. */
export function ipamSnapshot(state: State): IpamSnapshot {
  return {
    allocations: [...state.allocations.values()],
    quarantine: [...state.quarantine.values()],
    reservations: [...state.reservations.values()].map(({ id, count, family }) => ({ id, count, family })),
  };
}

/** The committed state as a view source. */
export function committedSource(state: State): ViewSource {
  return {
    lease: (key) => state.leases.get(key),
    allocation: (key) => state.allocations.get(key),
    claim: (name) => state.claims.get(name),
  };
}
