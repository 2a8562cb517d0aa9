/**
 * The lease engine's second port, for faces that make an outside system hold what the engine committed
 * (src/k8s realizes leases as Kubernetes objects MetalLB serves). The engine stays the source of truth: a
 * realizer writes the committed state and reports what the outside system holds; it never decides.
 */
import type { AppError, Result } from '../errors/index.js';
import type { PoolSpec } from '../ipam/index.js';
import type { Declaration, LeaseId, LeaseView } from './types.js';

/** Writes one call made; `unchanged` counts objects already right. */
export interface WriteCounts {
  readonly created: number;
  readonly updated: number;
  readonly deleted: number;
  readonly unchanged: number;
}

/** One declaration as the outside system holds it. */
export interface RealizedPort {
  readonly declaration: Declaration;
  /** The addresses the realization pins (our IPAM's choice). */
  readonly addresses: readonly string[];
  readonly sharingKey: string;
  /** The name of the record of the declaration; undefined when only its route exists. */
  readonly resource?: string;
  /** The route that carries the traffic (Kubernetes: `namespace/name` of the Service); undefined when only the record exists. */
  readonly service?: string;
  /** What the load balancer reports it serves. */
  readonly assigned: readonly string[];
  /** The load balancer serves exactly the pinned addresses. */
  readonly confirmed: boolean;
  /** For an unconfirmed port, the load balancer's latest complaint about it. */
  readonly problem?: string;
}

/** One lease's realization, as read back. */
export interface RealizedLease {
  readonly id: LeaseId;
  readonly key: string;
  readonly ports: readonly RealizedPort[];
  /** Every port is confirmed. */
  readonly confirmed: boolean;
}

export interface ReconcileResult {
  readonly writes: WriteCounts;
  /** The leases whose realization differed from the engine's, with the writes that made them match. */
  readonly changed: readonly { readonly lease: string; readonly writes: WriteCounts }[];
  /** Leases that could not all be written; every other lease was still handled. */
  readonly failures: readonly { readonly lease: string; readonly error: AppError }[];
}

export interface PoolSyncResult {
  readonly created: readonly string[];
  readonly updated: readonly string[];
  readonly deleted: readonly string[];
}

/** Makes an outside system hold the engine's leases and pools. */
export interface Realizer {
  /** Readies the system for leases (Kubernetes: the CRD and the manifest namespace). */
  prepare(): Promise<Result<void>>;
  /** Makes the system's address pools mirror ours; pools it did not make are never touched. */
  syncPools(pools: readonly PoolSpec[]): Promise<Result<PoolSyncResult>>;
  /**
   * Full sync: every lease given is applied; every lease of this provider found but not given is removed.
   * `writing` is told each lease's key before its objects are compared and written, so a caller can tell a lease
   * a repair is under way on from one that is whole.
   */
  reconcile(
    leases: readonly LeaseView[],
    writing?: (lease: string) => void,
  ): Promise<Result<ReconcileResult>>;
  /** Makes one lease's realization match its view; a closed lease loses it all. */
  apply(lease: LeaseView): Promise<Result<WriteCounts>>;
  /** Removes exactly this lease's realization. */
  remove(id: LeaseId): Promise<Result<WriteCounts>>;
  /** The lease as the system holds it now. */
  status(id: LeaseId): Promise<Result<RealizedLease>>;
}
