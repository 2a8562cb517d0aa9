/**
 * The lease engine's one port: durable storage. The engine keeps its working state in memory, loads it
 * once at start-up and writes each mutation as one atomic change; adapters live in src/store.
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
 * One atomic change. Applied in this order: removals (allocations by key, quarantine by address,
 * reservations by id), then upserts (leases by key, allocations by key replacing their addresses and
 * ports, quarantine by address, reservations by id), then audit appends.
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
  close(): Promise<void>;
}
