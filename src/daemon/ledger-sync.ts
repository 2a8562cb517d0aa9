/**
 * Devnet mode: the daemon registers itself on the ledger, bids on orders through the lease engine's
 * gate, and follows the ledger's events so that a lease closed on chain releases its addresses here.
 * Every ledger call is bounded by the client's timeout; failures back off and retry, and never block
 * the HTTP API (the Go provider stops bidding forever when its IP client hangs, F8).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { type LeaseEngine, type LeaseId, leaseKey, type OrderId } from '../lease/index.js';
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
export function leaseGate(engine: LeaseEngine): BidGate {
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
  readonly service: ProviderService;
  readonly logger: Logger;
  /** Called once the first reconciliation with the ledger is done. */
  readonly onSynced?: () => void;
}

const MAX_BACKOFF_MS = 30_000;
const PAGE = 100;

/** The daemon's link to the ledger: register, reconcile, then bid and follow events until stopped. */
export class LedgerSync {
  readonly #options: LedgerSyncOptions;
  #bids: BidEngine | undefined;

  constructor(options: LedgerSyncOptions) {
    this.#options = options;
  }

  /** Orders with a bid of ours still open. */
  openBids(): number {
    return this.#bids?.pendingOrders().length ?? 0;
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const options = this.#options;
    const { logger } = options;
    const retrying = async (
      what: string,
      step: () => Promise<Result<unknown, AppError>>,
    ): Promise<boolean> => {
      let wait = options.pollIntervalMs;
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

    if (!(await retrying('registering on the ledger', () => register(options)))) return;
    logger.log('info', 'registered on the ledger', { provider: options.provider, hostUri: options.hostUri });

    let cursor = 0;
    const synced = await retrying('reconciling with the ledger', async () => {
      // the cursor is read first: events after it are replayed, and every handler is idempotent
      const status = await options.ledger.status();
      if (!status.ok) return status;
      const leases = await options.ledger.listLeases({ provider: options.provider, state: 'active' });
      if (!leases.ok) return leases;
      const closed = await options.service.reconcile(
        new Set(leases.value.map((lease) => leaseKey(lease.id))),
      );
      if (!closed.ok) return closed;
      if (closed.value > 0) {
        logger.log('info', 'closed leases that ended while the provider was away', { closed: closed.value });
      }
      cursor = status.value.lastEventId;
      return ok(undefined);
    });
    if (!synced) return;
    options.onSynced?.();

    this.#bids = new BidEngine({
      ledger: options.ledger,
      provider: options.provider,
      gate: leaseGate(options.service.engine),
      pricing: options.pricing,
      pollIntervalMs: options.pollIntervalMs,
      onDecision: (record: DecisionRecord) =>
        logger.log(record.outcome === 'failed' ? 'warn' : 'info', describeDecision(record), {
          order: `${record.order.owner}/${record.order.dseq}/${record.order.gseq}/${record.order.oseq}`,
          outcome: record.outcome,
          ...(record.code === undefined ? {} : { code: record.code }),
        }),
      onError: (error) =>
        logger.log('warn', 'bid engine poll failed', { code: error.code, error: error.message }),
    });
    await Promise.all([this.#bids.run(signal), follow(options, cursor, signal)]);
  }
}

async function register(options: LedgerSyncOptions): Promise<Result<unknown, AppError>> {
  const { ledger, provider } = options;
  const account = await ledger.getAccount(provider);
  if (!account.ok && account.error.code !== 'ACCOUNT_NOT_FOUND') return account;
  if (!account.ok || account.value.pubkey === null) {
    const funded = await ledger.fundAccount({
      address: provider,
      amount: { denom: 'uakt', amount: '0' },
      pubkey: options.pubkey,
    });
    if (!funded.ok) return funded;
  }
  return ledger.registerProvider({
    address: provider,
    hostUri: options.hostUri,
    attributes: options.attributes,
  });
}

/**
 * Follows the event log from `start`: a lease of ours closed on chain is torn down here. A teardown that
 * fails is retried on later polls without holding up the events after it.
 */
async function follow(options: LedgerSyncOptions, start: number, signal: AbortSignal): Promise<void> {
  const { ledger, service, logger } = options;
  const retry = new Map<string, LeaseId>();
  const teardown = async (lease: LeaseId, why: string): Promise<void> => {
    const closed = await service.teardown(lease, why);
    if (closed.ok) retry.delete(leaseKey(lease));
    else {
      retry.set(leaseKey(lease), lease);
      logger.log('error', 'closing a lease failed; will retry', {
        lease: leaseKey(lease),
        code: closed.error.code,
        error: closed.error.message,
      });
    }
  };
  let cursor = start;
  let wait = options.pollIntervalMs;
  while (!signal.aborted) {
    for (const lease of [...retry.values()]) await teardown(lease, 'lease closed on chain (retry)');
    const page = await ledger.eventsSince(cursor, PAGE);
    if (!page.ok) {
      logger.log('warn', 'reading ledger events failed; retrying', {
        code: page.error.code,
        error: page.error.message,
      });
      if (!(await pause(wait, signal))) return;
      wait = Math.min(MAX_BACKOFF_MS, wait * 2);
      continue;
    }
    wait = options.pollIntervalMs;
    for (const event of page.value) {
      if (event.type === 'LeaseClosed' && event.lease.provider === options.provider) {
        await teardown(event.lease, `lease closed on chain (${event.reason})`);
      }
      cursor = event.id;
    }
    if (page.value.length < PAGE && !(await pause(options.pollIntervalMs, signal))) return;
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
