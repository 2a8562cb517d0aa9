/**
 * Devnet mode: the daemon registers itself on the ledger, bids on orders through the lease engine's
 * gate, and follows the ledger's events so that a lease closed on chain releases its addresses here.
 * Every ledger call is bounded by the client's timeout; failures back off and retry, and never block
 * the HTTP API (the Go provider stops bidding forever when its IP client hangs, F8).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { type LeaseEngine, type LeaseId, leaseKey, type OrderId, orderKey } from '../lease/index.js';
import {
  BidEngine,
  type BidGate,
  type DecisionRecord,
  describeDecision,
  type MarketLedger,
  type PricingConfig,
} from '../market/index.js';
import type { Attribute } from '../sdl/index.js';
import type { Logger } from './logger.js';
import type { ProviderService } from './service.js';

/** The bid engine's gate over the lease engine: one address held per distinct IP endpoint of the group. */
function leaseGate(engine: LeaseEngine): BidGate {
  return {
    async reserve(key, spec) {
      const order = parseOrderKey(key);
      if (!order.ok) return order;
      const reserved = await engine.reserve(order.value, spec);
      return reserved.ok ? ok({ ips: reserved.value.count }) : reserved;
    },
    async unreserve(key) {
      const order = parseOrderKey(key);
      if (order.ok) await engine.unreserve(order.value);
    },
  };
}

/** `owner/dseq/gseq/oseq` back to an order id. */
function parseOrderKey(key: string): Result<OrderId, AppError> {
  const [owner, dseq, gseq, oseq, ...rest] = key.split('/');
  if (
    owner === undefined ||
    dseq === undefined ||
    gseq === undefined ||
    oseq === undefined ||
    rest.length > 0
  ) {
    return fail(appError('INVALID_INPUT', `"${key}" is not an order key`));
  }
  return ok({ owner, dseq, gseq: Number(gseq), oseq: Number(oseq) });
}

export interface LedgerSyncOptions {
  readonly ledger: MarketLedger;
  readonly provider: string;
  /** The provider's compressed public key (hex), recorded through the faucet if the ledger has none. */
  readonly pubkey: string;
  readonly hostUri: string;
  readonly attributes: readonly Attribute[];
  readonly pricing: PricingConfig;
  readonly pollIntervalMs: number;
  /** A bid not won within this is withdrawn and its reservation released (Akash's `--bid-timeout`). */
  readonly bidTimeoutMs?: number;
  /** Milliseconds since the epoch. */
  readonly now?: () => number;
  readonly service: ProviderService;
  readonly logger: Logger;
  /** Called once the first reconciliation with the ledger is done. */
  readonly onSynced?: () => void;
  /** Run (retried like registration) once registered: publishes the gateway certificate. */
  readonly afterRegister?: () => Promise<Result<unknown, AppError>>;
}

const MAX_BACKOFF_MS = 30_000;
const PAGE = 100;

/**
 * The daemon's link to the ledger. {@link run} registers, reconciles, then bids and follows events until
 * stopped; the steps are public so tests can drive them one at a time.
 */
export class LedgerSync {
  readonly #options: LedgerSyncOptions;
  readonly #bids: BidEngine;
  /** Id of the last ledger event handled. */
  #cursor = 0;
  /** Leases whose teardown failed: retried on every poll, without holding up later events. */
  readonly #retry = new Map<string, LeaseId>();

  constructor(options: LedgerSyncOptions) {
    this.#options = options;
    const { logger } = options;
    this.#bids = new BidEngine({
      ledger: options.ledger,
      provider: options.provider,
      gate: leaseGate(options.service.engine),
      pricing: options.pricing,
      pollIntervalMs: options.pollIntervalMs,
      ...(options.bidTimeoutMs === undefined ? {} : { bidTimeoutMs: options.bidTimeoutMs }),
      ...(options.now === undefined ? {} : { now: options.now }),
      onDecision: (record: DecisionRecord) =>
        logger.log(record.outcome === 'failed' ? 'warn' : 'info', describeDecision(record), {
          order: orderKey(record.order),
          outcome: record.outcome,
          ...(record.code === undefined ? {} : { code: record.code }),
        }),
      onError: (error) =>
        logger.log('warn', 'bid engine poll failed', { code: error.code, error: error.message }),
    });
  }

  /** The bid engine, driven by {@link run}. */
  get bids(): BidEngine {
    return this.#bids;
  }

  /** Orders with a bid of ours still open. */
  openBids(): number {
    return this.#bids.pendingOrders().length;
  }

  /** Records the provider's public key if the ledger has none, then registers (or updates) the provider. */
  async register(): Promise<Result<unknown, AppError>> {
    const { ledger, provider } = this.#options;
    const account = await ledger.getAccount(provider);
    if (!account.ok && account.error.code !== 'ACCOUNT_NOT_FOUND') return account;
    if (!account.ok || account.value.pubkey === null) {
      const funded = await ledger.fundAccount({
        address: provider,
        amount: { denom: 'uakt', amount: '0' },
        pubkey: this.#options.pubkey,
      });
      if (!funded.ok) return funded;
    }
    return ledger.registerProvider({
      address: provider,
      hostUri: this.#options.hostUri,
      attributes: this.#options.attributes,
    });
  }

  /**
   * Catches up with what the ledger did while the daemon was away, before bidding starts: closes every
   * lease held here that the ledger no longer has active, and releases every bid reservation whose order
   * is neither an active lease of ours (won, its manifest still to come) nor under an open bid of ours
   * (the bid engine takes those up again). A won lease closed before its manifest came left such a
   * reservation: the engine held it for the lease, and no one else knew of it. Then starts following
   * events from now. The cursor is read first: events after it are replayed, and every handler is idempotent.
   */
  async reconcile(): Promise<Result<{ readonly closed: number; readonly released: number }, AppError>> {
    const { ledger, provider, service } = this.#options;
    const status = await ledger.status();
    if (!status.ok) return status;
    const leases = await ledger.listLeases({ provider, state: 'active' });
    if (!leases.ok) return leases;
    const bids = await ledger.listBids({ provider, state: 'open' });
    if (!bids.ok) return bids;
    const closed = await service.reconcile(new Set(leases.value.map((lease) => leaseKey(lease.id))));
    if (!closed.ok) return closed;
    const wanted = new Set([...leases.value, ...bids.value].map((held) => orderKey(held.id)));
    let released = 0;
    for (const reservation of service.engine.reservations()) {
      if (wanted.has(reservation.id)) continue;
      const order = parseOrderKey(reservation.id);
      if (!order.ok) return order;
      const dropped = await service.engine.unreserve(order.value);
      if (!dropped.ok) return dropped;
      released++;
    }
    this.#cursor = status.value.lastEventId;
    return ok({ closed: closed.value, released });
  }

  /** Handles every event since the last poll: a lease of ours closed on chain is torn down here. */
  async pollEvents(): Promise<Result<number, AppError>> {
    const { ledger, provider } = this.#options;
    for (const lease of [...this.#retry.values()])
      await this.#teardown(lease, 'lease closed on chain (retry)');
    let handled = 0;
    for (;;) {
      const page = await ledger.eventsSince(this.#cursor, PAGE);
      if (!page.ok) return page;
      for (const event of page.value) {
        if (event.type === 'LeaseClosed' && event.lease.provider === provider) {
          await this.#teardown(event.lease, `lease closed on chain (${event.reason})`);
        }
        this.#cursor = event.id;
        handled++;
      }
      if (page.value.length < PAGE) return ok(handled);
    }
  }

  async #teardown(lease: LeaseId, why: string): Promise<void> {
    const closed = await this.#options.service.teardown(lease, why);
    if (closed.ok) {
      this.#retry.delete(leaseKey(lease));
      return;
    }
    this.#retry.set(leaseKey(lease), lease);
    this.#options.logger.log('error', 'closing a lease failed; will retry', {
      lease: leaseKey(lease),
      code: closed.error.code,
      error: closed.error.message,
    });
  }

  /** Runs until `signal` aborts; each step retries with backoff and never throws. */
  async run(signal: AbortSignal): Promise<void> {
    const { logger, pollIntervalMs } = this.#options;
    const retrying = async (
      what: string,
      step: () => Promise<Result<unknown, AppError>>,
    ): Promise<boolean> => {
      let wait = pollIntervalMs;
      while (!signal.aborted) {
        const done = await step();
        if (done.ok) return true;
        logger.log('warn', `${what} failed; retrying`, {
          code: done.error.code,
          error: done.error.message,
          retryMs: wait,
        });
        if (!(await pause(wait, signal))) return false;
        wait = Math.min(MAX_BACKOFF_MS, wait * 2);
      }
      return false;
    };

    if (!(await retrying('registering on the ledger', () => this.register()))) return;
    logger.log('info', 'registered on the ledger', {
      provider: this.#options.provider,
      hostUri: this.#options.hostUri,
    });
    const { afterRegister } = this.#options;
    if (afterRegister !== undefined && !(await retrying('publishing the gateway certificate', afterRegister)))
      return;
    const reconciled = await retrying('reconciling with the ledger', async () => {
      const done = await this.reconcile();
      if (done.ok && done.value.closed + done.value.released > 0) {
        logger.log('info', 'caught up with leases and orders that ended while the provider was away', {
          ...done.value,
        });
      }
      return done;
    });
    if (!reconciled) return;
    this.#options.onSynced?.();

    const follow = async (): Promise<void> => {
      while (!signal.aborted) {
        const polled = await retrying('reading ledger events', () => this.pollEvents());
        if (!polled || !(await pause(pollIntervalMs, signal))) return;
      }
    };
    await Promise.all([this.#bids.run(signal), follow()]);
  }
}

/** Waits, or resolves false as soon as `signal` aborts. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
