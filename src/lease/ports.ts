/**
 * The lease engine's one port: durable storage. The engine keeps its working state in memory, loads it
 * once at start-up and writes each mutation as one atomic change; adapters live in src/store.
 *
 * A caller may hand the engine opaque records of its own ({@link StoreDocument}: the daemon's deployed
 * manifests) to commit inside the mutation's change. That, not a transaction the caller opens around the
 * engine, is how a lease's addresses and its manifest change together: the engine applies a mutation to
 * its memory as soon as `commit` returns, so an outer transaction still able to roll back afterwards would
 * leave memory ahead of the disk, and the memory store has no transactions to nest. One change is one
 * commit point, which every adapter already makes all-or-nothing.
 */
import type { AppError, Result } from '../errors/index.js';
import type { QuarantineEntry } from '../ipam/index.js';
import type {
  AllocationRecord,
  AuditEntry,
  AuditEvent,
  AuditQuery,
  LeaseRecord,
  ReservationRecord,
} from './types.js';

/** Everything the engine needs to rebuild itself. */
export interface StoreSnapshot {
  readonly leases: readonly LeaseRecord[];
  readonly allocations: readonly AllocationRecord[];
  readonly quarantine: readonly QuarantineEntry[];
  readonly reservations: readonly ReservationRecord[];
}

/**
 * A record of the engine's caller committed with a change: JSON text under a namespace and a key (the
 * daemon's manifests: namespace `manifest`, key a lease key). The engine never reads it, and a store keeps
 * the text as given, without relating it to leases.
 */
export interface StoreDocument {
  readonly namespace: string;
  readonly key: string;
  /** JSON text; `null` removes the record. */
  readonly json: string | null;
}

/**
 * One atomic change. Applied in this order: removals (allocations by key, quarantine by address,
 * reservations by id), then upserts (leases by key, allocations by key replacing their addresses and
 * ports, quarantine by address, reservations by id), then audit appends, then documents in list order.
 */
export interface StoreChange {
  readonly leases: readonly LeaseRecord[];
  readonly allocations: readonly AllocationRecord[];
  readonly removedAllocations: readonly string[];
  readonly quarantine: readonly QuarantineEntry[];
  readonly removedQuarantine: readonly string[];
  readonly reservations: readonly ReservationRecord[];
  readonly removedReservations: readonly string[];
  readonly audit: readonly AuditEntry[];
  readonly documents?: readonly StoreDocument[];
}

/** A {@link StoreChange} holding only `parts`: every list not given is empty. */
export function storeChange(parts: Partial<StoreChange>): StoreChange {
  return {
    leases: [],
    allocations: [],
    removedAllocations: [],
    quarantine: [],
    removedQuarantine: [],
    reservations: [],
    removedReservations: [],
    audit: [],
    ...parts,
  };
}

/**
 * Durable storage for the lease engine. `commit` is all-or-nothing and must refuse, leaving the store
 * unchanged, a change that would give an address two holders (IP_IN_USE), bind an address's port and
 * protocol twice (PORT_IN_USE), give one owner two allocations for one endpoint name, allocate a
 * quarantined address, or reference a lease it does not hold.
 */
export interface LeaseStore {
  load(): Promise<Result<StoreSnapshot, AppError>>;
  commit(change: StoreChange): Promise<Result<void, AppError>>;
  queryAudit(query: AuditQuery): Promise<Result<readonly AuditEvent[], AppError>>;
  /** The documents of one namespace, in no particular order. */
  documents(
    namespace: string,
  ): Promise<Result<readonly { readonly key: string; readonly json: string }[], AppError>>;
  close(): Promise<void>;
}
