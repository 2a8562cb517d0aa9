/**
 * The in-memory lease store: for tests and for running without a disk. It enforces the same
 * constraints as the SQLite store, and a refused change leaves it untouched (an undo log).
 */
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import type { QuarantineEntry } from '../ipam/index.js';
import {
  type AllocationRecord,
  type AuditEvent,
  type AuditQuery,
  type LeaseRecord,
  type LeaseStore,
  leaseKey,
  type ReservationRecord,
  type StoreChange,
  type StoreSnapshot,
} from '../lease/index.js';
import { auditPage } from './audit.js';

class Undo {
  private readonly steps: (() => void)[] = [];

  set<K, V>(map: Map<K, V>, key: K, value: V | undefined): void {
    const had = map.has(key);
    const old = map.get(key);
    this.steps.push(() => {
      if (had) map.set(key, old as V);
      else map.delete(key);
    });
    if (value === undefined) map.delete(key);
    else map.set(key, value);
  }

  push<T>(list: T[], value: T): void {
    this.steps.push(() => list.pop());
    list.push(value);
  }

  rollback(): void {
    for (let i = this.steps.length - 1; i >= 0; i--) this.steps[i]!();
  }
}

class Refused {
  constructor(readonly error: AppError) {}
}

/** An in-memory {@link LeaseStore}. */
export class MemoryLeaseStore implements LeaseStore {
  private readonly leases = new Map<string, LeaseRecord>();
  private readonly allocations = new Map<string, AllocationRecord>();
  /** address → allocation key */
  private readonly holders = new Map<string, string>();
  /** owner/endpoint → allocation key */
  private readonly names = new Map<string, string>();
  private readonly quarantine = new Map<string, QuarantineEntry>();
  private readonly reservations = new Map<string, ReservationRecord>();
  private readonly events: AuditEvent[] = [];
  /** namespace → key → JSON text */
  private readonly documentsByNamespace = new Map<string, Map<string, string>>();

  async load(): Promise<Result<StoreSnapshot>> {
    return ok({
      leases: [...this.leases.values()],
      allocations: [...this.allocations.values()],
      quarantine: [...this.quarantine.values()],
      reservations: [...this.reservations.values()],
    });
  }

  async commit(change: StoreChange): Promise<Result<void>> {
    const undo = new Undo();
    try {
      this.apply(change, undo);
      return ok(undefined);
    } catch (error) {
      if (!(error instanceof Refused)) throw error;
      undo.rollback();
      return fail(error.error);
    }
  }

  private removeAllocation(key: string, undo: Undo): void {
    const old = this.allocations.get(key);
    if (old === undefined) return;
    for (const address of old.addresses) undo.set(this.holders, address, undefined);
    undo.set(this.names, `${old.owner}/${old.endpoint}`, undefined);
    undo.set(this.allocations, key, undefined);
  }

  private apply(change: StoreChange, undo: Undo): void {
    for (const key of change.removedAllocations) this.removeAllocation(key, undo);
    for (const address of change.removedQuarantine) undo.set(this.quarantine, address, undefined);
    for (const id of change.removedReservations) undo.set(this.reservations, id, undefined);
    for (const lease of change.leases) undo.set(this.leases, leaseKey(lease.id), lease);
    for (const allocation of change.allocations) {
      this.removeAllocation(allocation.key, undo);
      if (!this.leases.has(allocation.lease)) {
        throw new Refused(appError('STORE_CORRUPT', `allocation ${allocation.key} names unknown lease`));
      }
      const name = `${allocation.owner}/${allocation.endpoint}`;
      if (this.names.has(name)) {
        throw new Refused(
          appError('IP_IN_USE', `${allocation.owner} already holds endpoint ${allocation.endpoint}`),
        );
      }
      undo.set(this.names, name, allocation.key);
      for (const address of allocation.addresses) {
        if (this.holders.has(address))
          throw new Refused(appError('IP_IN_USE', `${address} already has a holder`));
        if (this.quarantine.has(address)) {
          throw new Refused(appError('STORE_CORRUPT', `${address} is quarantined`));
        }
        undo.set(this.holders, address, allocation.key);
      }
      const slots = new Set(allocation.ports.map((port) => `${port.port}/${port.protocol}`));
      if (slots.size !== allocation.ports.length) {
        throw new Refused(appError('PORT_IN_USE', `a port is bound twice on ${allocation.key}`));
      }
      undo.set(this.allocations, allocation.key, allocation);
    }
    for (const entry of change.quarantine) {
      if (this.holders.has(entry.address)) {
        throw new Refused(appError('STORE_CORRUPT', `${entry.address} is quarantined while allocated`));
      }
      undo.set(this.quarantine, entry.address, entry);
    }
    for (const reservation of change.reservations) undo.set(this.reservations, reservation.id, reservation);
    for (const entry of change.audit) undo.push(this.events, { id: this.events.length + 1, ...entry });
    for (const document of change.documents ?? []) {
      let records = this.documentsByNamespace.get(document.namespace);
      if (records === undefined) {
        records = new Map();
        this.documentsByNamespace.set(document.namespace, records);
      }
      undo.set(records, document.key, document.json ?? undefined);
    }
  }

  async documents(namespace: string): Promise<Result<readonly { key: string; json: string }[]>> {
    const records = this.documentsByNamespace.get(namespace) ?? new Map<string, string>();
    return ok([...records].map(([key, json]) => ({ key, json })));
  }

  async queryAudit(query: AuditQuery): Promise<Result<readonly AuditEvent[]>> {
    const page = auditPage(query);
    if (!page.ok) return page;
    const { afterId, limit } = page.value;
    const out: AuditEvent[] = [];
    for (let i = afterId; i < this.events.length && out.length < limit; i++) {
      const event = this.events[i]!;
      if (query.owner !== undefined && event.owner !== query.owner) continue;
      if (query.address !== undefined && event.address !== query.address) continue;
      if (query.lease !== undefined && event.lease !== query.lease) continue;
      out.push(event);
    }
    return ok(out);
  }

  async close(): Promise<void> {}
}

/** A new, empty in-memory store. */
export function createMemoryStore(): MemoryLeaseStore {
  return new MemoryLeaseStore();
}
