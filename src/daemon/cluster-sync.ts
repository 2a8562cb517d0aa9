/**
 * Keeps a Kubernetes cluster holding what the lease engine committed. The engine is the source of truth:
 * a cluster write that fails never undoes a commit; the lease is remembered as not yet realised and
 * retried on the maintain tick until it goes through. At start-up the cluster is brought in line
 * (CRD, pools, every lease) before the daemon reports ready; a cluster that does not answer is retried
 * with a bounded backoff, forever, never leaving the daemon stuck or dead (unlike Go's IP operator,
 * support#105, which never opened its barrier again).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Counter, Gauge, type Registry } from 'prom-client';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import type { PoolSpec } from '../ipam/index.js';
import {
  type LeaseEngine,
  type LeaseId,
  leaseKey,
  type PoolSyncResult,
  type RealizedLease,
  type Realizer,
  type ReconcileResult,
  type WriteCounts,
} from '../lease/index.js';
import type { Logger } from './logger.js';

/** A realizer ready to use (src/k8s's backend), and how to let go of its connections. */
export interface ClusterConnection {
  readonly backend: Realizer;
  close(): Promise<void>;
}

export interface ClusterSyncOptions {
  /** Opens a connection; called again after a failed start-up attempt, so rotated credentials are re-read. */
  readonly connect: () => Promise<Result<ClusterConnection>>;
  readonly engine: LeaseEngine;
  readonly pools: readonly PoolSpec[];
  readonly logger: Logger;
  /** The first wait after a failed start-up attempt; default 500 ms. */
  readonly retryMinMs?: number;
  /** Waits double up to this. */
  readonly retryMaxMs: number;
  /** Where the cluster gauges are registered. */
  readonly registry?: Registry;
}

/** A lease whose last cluster write failed. */
export interface UnrealisedLease {
  readonly lease: string;
  readonly code: string;
  readonly error: string;
}

/** Writes a drift check made: objects created, updated or deleted to undo changes made by hand. */
export interface RepairCounts {
  readonly created: number;
  readonly updated: number;
  readonly deleted: number;
}

/** One drift check: the pools and leases whose objects differed from the engine's, and what was written. */
export interface DriftReport {
  readonly pools: PoolSyncResult;
  readonly leases: readonly { readonly lease: string; readonly writes: WriteCounts }[];
  readonly repaired: RepairCounts;
  /** Leases the cluster refused in this check; written again on the maintain tick. */
  readonly unrealised: number;
}

/** What `/status` reports about the cluster. */
export interface ClusterSummary {
  /** The start-up sync is done. */
  readonly synced: boolean;
  /** Why the daemon is waiting on the cluster, while it is. */
  readonly waiting?: string;
  /** Leases committed but not yet written. */
  readonly pending: number;
  readonly unrealised: readonly UnrealisedLease[];
  /** Drift checks since start: how many ran, and the repairs they made in all. */
  readonly drift: { readonly checks: number; readonly repaired: RepairCounts; readonly lastError?: string };
}

/** One lease in the cluster, with MetalLB's word on each port, and whether our last write went through. */
export interface ClusterLeaseStatus extends RealizedLease {
  readonly realised: boolean;
  readonly error?: string;
}

function counted(writes: RepairCounts): boolean {
  return writes.created + writes.updated + writes.deleted > 0;
}

const NO_REPAIRS: RepairCounts = { created: 0, updated: 0, deleted: 0 };

export class ClusterSync {
  readonly #options: ClusterSyncOptions;
  #connection: ClusterConnection | undefined;
  #synced = false;
  #waiting: string | undefined;
  /** Leases to write, in the order the cluster should see them. */
  readonly #dirty = new Map<string, LeaseId>();
  readonly #unrealised = new Map<string, { readonly id: LeaseId; readonly error: AppError }>();
  /** The lease whose write (an engine write's, or a drift check's) is under way: one at a time. */
  #writing: string | undefined;
  #draining: Promise<void> | undefined;
  /** A drift check under way; engine writes wait for it, so the two never interleave on one lease. */
  #checking: Promise<unknown> | undefined;
  #drift: { checks: number; repaired: RepairCounts; lastError?: string } = {
    checks: 0,
    repaired: NO_REPAIRS,
  };
  #repairs: Counter<'write'> | undefined;

  constructor(options: ClusterSyncOptions) {
    this.#options = options;
    const registry = options.registry;
    if (registry !== undefined) {
      const self = this;
      new Gauge({
        name: 'akash_ip_k8s_synced',
        help: '1 once the cluster holds the engine state of start-up',
        registers: [registry],
        collect() {
          this.set(self.#synced ? 1 : 0);
        },
      });
      this.#repairs = new Counter({
        name: 'akash_ip_k8s_drift_repairs_total',
        help: 'Objects written by drift checks to undo changes made to the cluster by hand, by write',
        labelNames: ['write'],
        registers: [registry],
      });
      new Gauge({
        name: 'akash_ip_k8s_unrealised_leases',
        help: 'Leases whose last cluster write failed, retried on the maintain tick',
        registers: [registry],
        collect() {
          this.set(self.#unrealised.size);
        },
      });
    }
  }

  /**
   * The start-up barrier: installs the CRD, mirrors the pools and reconciles every lease of the engine.
   * Retries until it succeeds; `waiting` is told why each failed attempt is waiting. Resolves false when
   * `signal` aborts first. One lease the cluster refuses does not hold the barrier: it is left unrealised.
   */
  async start(signal: AbortSignal, waiting: (reason: string) => void): Promise<boolean> {
    const { logger } = this.#options;
    const minMs = this.#options.retryMinMs ?? 500;
    for (let attempt = 1; !signal.aborted; attempt++) {
      const done = await this.#startOnce();
      if (done.ok) {
        this.#synced = true;
        this.#waiting = undefined;
        return true;
      }
      await this.#connection?.close();
      this.#connection = undefined;
      const delayMs = Math.min(this.#options.retryMaxMs, minMs * 2 ** Math.min(attempt - 1, 20));
      this.#waiting = `the Kubernetes cluster is not ready (${done.error.code}: ${done.error.message}); attempt ${attempt}, next in ${delayMs} ms`;
      logger.log('warn', 'kubernetes not ready', {
        attempt,
        retryInMs: delayMs,
        code: done.error.code,
        error: done.error.message,
      });
      waiting(this.#waiting);
      try {
        await sleep(delayMs, undefined, { signal });
      } catch {
        break;
      }
    }
    return false;
  }

  async #startOnce(): Promise<Result<void>> {
    const { engine, logger, pools } = this.#options;
    if (this.#connection === undefined) {
      const connected = await this.#options.connect();
      if (!connected.ok) return connected;
      this.#connection = connected.value;
    }
    const { backend } = this.#connection;
    const crd = await backend.prepare();
    if (!crd.ok) return crd;
    const synced = await backend.syncPools(pools);
    if (!synced.ok) return synced;
    const reconciled = await backend.reconcile(engine.leases());
    if (!reconciled.ok) return reconciled;
    this.#unrealisedFrom(reconciled.value);
    logger.log('info', 'kubernetes synced', {
      pools: synced.value,
      writes: reconciled.value.writes,
      unrealised: reconciled.value.failures.map((failure) => ({
        lease: failure.lease,
        code: failure.error.code,
        error: failure.error.message,
      })),
    });
    return ok(undefined);
  }

  /** After a full reconcile, the leases it could not write are exactly the unrealised ones. */
  #unrealisedFrom(reconciled: ReconcileResult): void {
    this.#unrealised.clear();
    if (reconciled.failures.length === 0) return;
    const ids = new Map(this.#options.engine.leases().map((lease) => [lease.key, lease.id]));
    for (const failure of reconciled.failures) {
      const id = ids.get(failure.lease);
      if (id !== undefined) this.#unrealised.set(failure.lease, { id, error: failure.error });
    }
  }

  /**
   * A drift check: compares every object of this provider in the cluster (and the pools) with the engine
   * and writes only what differs, so a Service or `ProviderLeasedIP` deleted or changed by hand is put
   * back with the engine's address. Objects without our managed-by label are never read for it. Waits for
   * engine writes under way; commits made meanwhile are written right after it.
   */
  async checkDrift(): Promise<Result<DriftReport>> {
    if (!this.#synced || this.#connection === undefined) {
      return fail(appError('NOT_READY', this.#waiting ?? 'the Kubernetes cluster is not synced yet'));
    }
    // Checked and claimed in one synchronous step, so no drain or other check can start in between.
    while (this.#draining !== undefined || this.#checking !== undefined) {
      await (this.#draining ?? this.#checking);
    }
    const check = this.#checkOnce(this.#connection.backend);
    this.#checking = check.finally(() => {
      this.#checking = undefined;
      if (this.#dirty.size > 0) this.#kick();
    });
    return check;
  }

  async #checkOnce(backend: Realizer): Promise<Result<DriftReport>> {
    const { engine, logger, pools } = this.#options;
    const synced = await backend.syncPools(pools);
    // a lease the check is repairing is, like one an engine write is on, held only in part: not realised yet
    const reconciled = synced.ok
      ? await backend
          .reconcile(engine.leases(), (lease) => {
            this.#writing = lease;
          })
          .finally(() => {
            this.#writing = undefined;
          })
      : synced;
    if (!reconciled.ok) {
      this.#drift.lastError = `${reconciled.error.code}: ${reconciled.error.message}`;
      logger.log('warn', 'kubernetes drift check failed', {
        code: reconciled.error.code,
        error: reconciled.error.message,
      });
      return reconciled;
    }
    this.#unrealisedFrom(reconciled.value);
    const poolsWritten = synced.ok ? synced.value : { created: [], updated: [], deleted: [] };
    const { writes, changed, failures } = reconciled.value;
    const repaired: RepairCounts = {
      created: writes.created + poolsWritten.created.length,
      updated: writes.updated + poolsWritten.updated.length,
      deleted: writes.deleted + poolsWritten.deleted.length,
    };
    const total = this.#drift.repaired;
    this.#drift = {
      checks: this.#drift.checks + 1,
      repaired: {
        created: total.created + repaired.created,
        updated: total.updated + repaired.updated,
        deleted: total.deleted + repaired.deleted,
      },
    };
    for (const write of ['created', 'updated', 'deleted'] as const) {
      if (repaired[write] > 0) this.#repairs?.inc({ write }, repaired[write]);
    }
    const report: DriftReport = {
      pools: poolsWritten,
      leases: changed,
      repaired,
      unrealised: failures.length,
    };
    if (counted(repaired)) logger.log('warn', 'kubernetes drift repaired', { ...report });
    for (const failure of failures) {
      logger.log('warn', 'kubernetes drift repair failed; retried on the maintain tick', {
        lease: failure.lease,
        code: failure.error.code,
        error: failure.error.message,
      });
    }
    return ok(report);
  }

  /** Runs a drift check every `intervalMs` until `signal` aborts. */
  async checkDriftEvery(intervalMs: number, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await sleep(intervalMs, undefined, { signal });
      } catch {
        return;
      }
      await this.checkDrift();
    }
  }

  /** Queues the leases a commit touched, in the order given (a migration's source before its destination). */
  committed(ids: readonly LeaseId[]): void {
    for (const id of ids) {
      const key = leaseKey(id);
      this.#dirty.delete(key);
      this.#dirty.set(key, id);
    }
    if (this.#synced) this.#kick();
  }

  /** The maintain tick: writes again every lease whose last write failed. */
  retry(): Promise<void> {
    if (!this.#synced) return Promise.resolve();
    this.committed([...this.#unrealised.values()].map((entry) => entry.id));
    return this.idle();
  }

  /** Resolves when no write is queued or under way. */
  async idle(): Promise<void> {
    while (this.#draining !== undefined || this.#checking !== undefined) {
      await (this.#draining ?? this.#checking);
    }
  }

  #kick(): void {
    if (this.#connection === undefined || this.#checking !== undefined) return;
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = undefined;
      if (this.#dirty.size > 0) this.#kick();
    });
  }

  async #drain(): Promise<void> {
    const { engine, logger } = this.#options;
    const backend = this.#connection?.backend;
    if (backend === undefined) return;
    for (const [key, id] of this.#dirty) {
      this.#dirty.delete(key);
      // The engine's state now, not at commit: a later commit of the same lease is already in it.
      const view = engine.lease(id);
      this.#writing = key;
      const written = await (view?.state === 'active' ? backend.apply(view) : backend.remove(id)).finally(
        () => {
          this.#writing = undefined;
        },
      );
      if (written.ok) {
        const was = this.#unrealised.delete(key);
        if (was || counted(written.value)) {
          logger.log('info', 'lease written to kubernetes', { lease: key, writes: written.value });
        }
        continue;
      }
      this.#unrealised.set(key, { id, error: written.error });
      logger.log('warn', 'kubernetes write failed; retried on the maintain tick', {
        lease: key,
        code: written.error.code,
        error: written.error.message,
      });
      if (written.error.code === 'K8S_UNAVAILABLE') {
        // No answer: the rest would wait out the same timeout each. They go on the next tick.
        for (const [rest, restId] of this.#dirty) {
          this.#unrealised.set(rest, { id: restId, error: written.error });
          this.#dirty.delete(rest);
        }
        return;
      }
    }
  }

  summary(): ClusterSummary {
    return {
      synced: this.#synced,
      ...(this.#waiting === undefined ? {} : { waiting: this.#waiting }),
      pending: this.#dirty.size,
      unrealised: [...this.#unrealised].map(([lease, { error }]) => ({
        lease,
        code: error.code,
        error: error.message,
      })),
      drift: { ...this.#drift },
    };
  }

  /** The lease as the cluster holds it now (one read), with MetalLB's confirmation of each port. */
  async lease(id: LeaseId): Promise<Result<ClusterLeaseStatus>> {
    const backend = this.#connection?.backend;
    if (backend === undefined || !this.#synced) {
      return fail(appError('NOT_READY', this.#waiting ?? 'the Kubernetes cluster is not synced yet'));
    }
    const status = await backend.status(id);
    if (!status.ok) return status;
    const failed = this.#unrealised.get(leaseKey(id));
    // Mid-write the lease is neither queued nor failed, and the cluster holds only part of it: not realised yet.
    const realised = failed === undefined && !this.#dirty.has(leaseKey(id)) && this.#writing !== leaseKey(id);
    return ok({
      ...status.value,
      realised,
      ...(failed === undefined ? {} : { error: failed.error.message }),
    });
  }

  /** Waits for writes under way, then drops the connection. */
  async close(): Promise<void> {
    await this.idle();
    await this.#connection?.close();
    this.#connection = undefined;
  }
}
