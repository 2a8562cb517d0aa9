/**
 * The provider's bid engine: which orders to bid on, at what price, and keeping the inventory
 * reservation of each bid until the order is won or gone.
 *
 * Every order is decided on its own. A provider whose IP pool is exhausted still bids on orders
 * that need no IP, and a failure on one order (a gate error, a refused bid, even a thrown bug)
 * never stops the others; each refusal is recorded with its code.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type AppError, appError, type ErrorCode, fail, ok, type Result } from '../errors/index.js';
import { orderKey } from '../lease/index.js';
import { attributesSubsetOf, matchRequirements, matchResourcesRequirements } from './attributes.js';
import { parseDec } from './dec.js';
import { groupMaxPrice, validateGroupSpec } from './group.js';
import { DEFAULT_PRICING, type PricingConfig, quoteGroup } from './pricing.js';
import type {
  Attribute,
  Awaitable,
  BidId,
  DecCoin,
  GroupSpec,
  MarketEvent,
  MarketLedger,
  Order,
  OrderId,
} from './types.js';

/**
 * The provider's inventory, as the bid engine sees it (the lease engine implements it).
 * `reserve` holds what the group needs — its distinct leased IPs included — or fails with
 * INSUFFICIENT_IPS / NO_IP_SUPPORT (or another code); reserving the same key again replaces the hold.
 */
export interface BidGate {
  reserve(orderKey: string, spec: GroupSpec): Awaitable<Result<{ readonly ips: number }, AppError>>;
  unreserve(orderKey: string): Awaitable<void>;
}

/** What a provider bids with. */
export interface BidderProfile {
  readonly address: string;
  /** The provider's on-chain attributes. */
  readonly attributes: readonly Attribute[];
  readonly pricing: PricingConfig;
  /** Bid only on orders whose requirements include all of these (Go provider `--bid-attributes`). */
  readonly orderAttributes?: readonly Attribute[];
}

/** The outcome for one order: a bid (with the reservation held) or a refusal with its reason. */
export type BidDecision =
  | { readonly bid: true; readonly price: DecCoin; readonly ips: number }
  | { readonly bid: false; readonly reason: AppError };

/**
 * Whether `provider` would bid on `order`, and at what price, without touching inventory — Go's
 * `shouldBid` plus pricing: the order is open and not the provider's own; the provider's attributes
 * satisfy the placement (signed_by ignored: the devnet has no auditors) and its storage/GPU
 * capabilities; the order carries the provider's own order attributes; the group is valid; and the
 * price (see pricing.ts) is within the order's maximum.
 */
export function evaluateOrder(order: Order, provider: BidderProfile): Result<DecCoin, AppError> {
  const refuse = (code: ErrorCode, message: string) => fail(appError(code, message));
  const spec = order.spec;
  if (order.state !== 'open') return refuse('ORDER_NOT_OPEN', `order is ${order.state}`);
  if (order.id.owner === provider.address) return refuse('INVALID_INPUT', 'the order is the provider’s own');
  if (!matchRequirements(spec, provider.attributes)) {
    return refuse('ATTRIBUTE_MISMATCH', 'the provider lacks attributes the placement requires');
  }
  if (!attributesSubsetOf(provider.orderAttributes ?? [], spec.requirements.attributes)) {
    return refuse('ATTRIBUTE_MISMATCH', 'the order lacks attributes this provider requires of orders');
  }
  if (!matchResourcesRequirements(spec, provider.attributes)) {
    return refuse('ATTRIBUTE_MISMATCH', 'the provider lacks storage or GPU capabilities the order requires');
  }
  const valid = validateGroupSpec(spec);
  if (!valid.ok) return valid;
  const quote = quoteGroup(spec, provider.pricing);
  if (!quote.ok) return quote;
  const max = groupMaxPrice(spec);
  if (!max.ok) return max;
  const price = parseDec(quote.value.price.amount);
  if (!price.ok || price.value > max.value) {
    return refuse('BID_OVER_ORDER', `price ${quote.value.price.amount} is above the order's maximum`);
  }
  return ok(quote.value.price);
}

/**
 * Decides one order: {@link evaluateOrder}, then — last, so no refusal leaves a hold behind — the
 * gate reserves the group (its distinct leased IPs included). Only a `bid: true` decision holds a
 * reservation; the caller releases it if the bid cannot be posted.
 */
export async function decideBid(order: Order, provider: BidderProfile, gate: BidGate): Promise<BidDecision> {
  const price = evaluateOrder(order, provider);
  if (!price.ok) return { bid: false, reason: price.error };
  const held = await gate.reserve(orderKey(order.id), order.spec);
  if (!held.ok) return { bid: false, reason: held.error };
  return { bid: true, price: price.value, ips: held.value.ips };
}

/** The ledger calls the bid engine makes; {@link Ledger} and {@link LedgerClient} both provide them. */
export type BidEngineLedger = Pick<
  MarketLedger,
  'status' | 'eventsSince' | 'getOrder' | 'listOrders' | 'listBids' | 'getProvider' | 'createBid' | 'closeBid'
>;

/** One order's outcome, for logs and the CLI ("provider X did not bid on order Y: INSUFFICIENT_IPS"). */
export interface DecisionRecord {
  readonly order: OrderId;
  readonly provider: string;
  /**
   * `bid`: posted; `declined`: decided not to; `failed`: wanted to but the ledger or a bug said no; `expired`: the
   * bid waited longer than the bid timeout for its lease and was withdrawn, its reservation released.
   */
  readonly outcome: 'bid' | 'declined' | 'failed' | 'expired';
  readonly code?: ErrorCode;
  readonly message: string;
  readonly price?: DecCoin;
  readonly ips?: number;
}

/**
 * How long a bid waits for its lease before the provider withdraws it: Akash's provider `--bid-timeout` default.
 * Without it an order no one accepts holds its reservation (and so its IP addresses) forever.
 */
export const DEFAULT_BID_TIMEOUT_MS = 300_000;

export interface BidEngineOptions {
  readonly ledger: BidEngineLedger;
  /** The provider's account address; its attributes are read from the ledger. */
  readonly provider: string;
  readonly gate: BidGate;
  readonly pricing?: PricingConfig;
  readonly orderAttributes?: readonly Attribute[];
  /** Pause between polls when there is nothing new. Default 1000 ms. */
  readonly pollIntervalMs?: number;
  /** Longest pause after repeated ledger errors. Default 30 000 ms. */
  readonly maxBackoffMs?: number;
  /** A bid not won within this is withdrawn and its reservation released. Default {@link DEFAULT_BID_TIMEOUT_MS}. */
  readonly bidTimeoutMs?: number;
  /** Milliseconds since the epoch, for bid ages. Default `Date.now`. */
  readonly now?: () => number;
  /** Events fetched per request. Default 100. */
  readonly pageSize?: number;
  /** Called for every decision, in order. */
  readonly onDecision?: (record: DecisionRecord) => void;
  /** Called when a poll fails as a whole (ledger unreachable, provider not registered, ...). */
  readonly onError?: (error: AppError) => void;
}

/** Decisions kept for {@link BidEngine.recentDecisions}. */
const RECENT_DECISIONS = 256;
/** Outcomes worth another try on the next poll: the ledger may be back. */
const TRANSIENT: ReadonlySet<ErrorCode> = new Set(['UNAVAILABLE', 'NOT_READY']);

/**
 * Watches the ledger's event log and bids. Call {@link poll} for one step (tests), or {@link run}
 * until the signal aborts. Holds, per order it bid on, the gate reservation, and releases it when
 * the lease goes to someone else, the order closes, or its bid is closed.
 */
export class BidEngine {
  readonly #options: BidEngineOptions;
  readonly #pricing: PricingConfig;
  #cursor: number | undefined;
  #attributes: readonly Attribute[] = [];
  /** Orders with a reservation and a bid of ours still open, with when the bid was made. */
  readonly #pending = new Map<string, { readonly id: OrderId; readonly since: number }>();
  /** Orders decided against; forgotten when they close, or when our attributes change. */
  readonly #declined = new Set<string>();
  /** Orders declined for want of IPs: decided again once one of our reservations is released. */
  readonly #starved = new Map<string, OrderId>();
  /** Orders to decide again on the next poll after a transient failure. */
  readonly #retry = new Map<string, OrderId>();
  readonly #recent: DecisionRecord[] = [];

  constructor(options: BidEngineOptions) {
    this.#options = options;
    this.#pricing = options.pricing ?? DEFAULT_PRICING;
  }

  /** The last decisions, oldest first (at most 256). */
  recentDecisions(): readonly DecisionRecord[] {
    return [...this.#recent];
  }

  /** Keys of the orders whose reservation this engine holds while its bid is open. */
  pendingOrders(): readonly string[] {
    return [...this.#pending.keys()];
  }

  /**
   * One step: the first call catches up (re-reserves for our open bids, decides every open order);
   * every call then handles new events page by page. Returns the number of events handled.
   */
  async poll(): Promise<Result<number, AppError>> {
    const ledger = this.#options.ledger;
    // orders that failed transiently on an earlier poll; ones failing now wait for the next
    const retry = [...this.#retry.values()];
    if (this.#cursor === undefined) {
      const status = await ledger.status();
      if (!status.ok) return status;
      const refreshed = await this.#refreshProvider();
      if (!refreshed.ok) return refreshed;
      const resumed = await this.#resumeOpenBids();
      if (!resumed.ok) return resumed;
      const scanned = await this.#scanOpenOrders();
      if (!scanned.ok) return scanned;
      this.#cursor = status.value.lastEventId;
    }
    let handled = 0;
    const pageSize = this.#options.pageSize ?? 100;
    for (;;) {
      const page = await ledger.eventsSince(this.#cursor, pageSize);
      if (!page.ok) return page;
      for (const event of page.value) {
        const done = await this.#handle(event);
        if (!done.ok) return done;
        this.#cursor = event.id;
        handled++;
      }
      if (page.value.length < pageSize) break;
    }
    for (const id of retry) {
      this.#retry.delete(orderKey(id));
      await this.#decideOrder(id);
    }
    await this.#withdrawExpiredBids();
    return ok(handled);
  }

  /**
   * Withdraws every bid of ours older than the bid timeout, then releases its reservation and leaves the order
   * alone (the ledger would refuse a second bid anyway). Only an open bid is withdrawn: one the tenant accepted
   * meanwhile stays, and its LeaseCreated event hands the reservation to the lease. A withdrawal the ledger could
   * not take is tried again on the next poll, the reservation kept until then.
   */
  async #withdrawExpiredBids(): Promise<void> {
    const timeout = this.#options.bidTimeoutMs ?? DEFAULT_BID_TIMEOUT_MS;
    const now = (this.#options.now ?? Date.now)();
    for (const [key, bid] of [...this.#pending]) {
      if (now - bid.since < timeout) continue;
      let closed: Result<unknown, AppError>;
      try {
        closed = await this.#options.ledger.closeBid(
          { ...bid.id, provider: this.#options.provider },
          { ifOpen: true },
        );
      } catch (error) {
        closed = fail(appError('INTERNAL', `withdrawing the bid crashed: ${String(error)}`));
      }
      if (!closed.ok) {
        // not open any more: won or lost meanwhile, and that event (next page) settles the reservation
        if (closed.error.code !== 'BID_NOT_OPEN') this.#options.onError?.(closed.error);
        continue;
      }
      this.#pending.delete(key);
      this.#declined.add(key);
      await this.#release(key);
      this.#record({
        order: bid.id,
        outcome: 'expired',
        message: `no lease within ${timeout} ms: bid withdrawn, its reservation released`,
      });
    }
  }

  /** Polls until `signal` aborts: waits `pollIntervalMs` between polls, backing off on errors. */
  async run(signal: AbortSignal): Promise<void> {
    const interval = this.#options.pollIntervalMs ?? 1000;
    const maxBackoff = this.#options.maxBackoffMs ?? 30_000;
    let wait = interval;
    while (!signal.aborted) {
      let result: Result<number, AppError>;
      try {
        result = await this.poll();
      } catch (error) {
        result = fail(appError('INTERNAL', `bid engine poll crashed: ${String(error)}`));
      }
      if (result.ok) {
        wait = interval;
      } else {
        this.#options.onError?.(result.error);
        wait = Math.min(maxBackoff, wait * 2);
      }
      try {
        await sleep(wait, undefined, { signal });
      } catch {
        return;
      }
    }
  }

  async #refreshProvider(): Promise<Result<void, AppError>> {
    const provider = await this.#options.ledger.getProvider(this.#options.provider);
    if (!provider.ok) return provider;
    this.#attributes = provider.value.attributes;
    return ok(undefined);
  }

  /** After a restart: hold the reservation of each bid still open, or withdraw a bid we can no longer honour. */
  async #resumeOpenBids(): Promise<Result<void, AppError>> {
    const ledger = this.#options.ledger;
    const bids = await ledger.listBids({ provider: this.#options.provider, state: 'open' });
    if (!bids.ok) return bids;
    for (const bid of bids.value) {
      const key = orderKey(bid.id);
      if (this.#pending.has(key)) continue;
      const order = await ledger.getOrder(bid.id);
      if (!order.ok) return order;
      const held = await this.#isolate(() => this.#options.gate.reserve(key, order.value.spec));
      if (held.ok) {
        this.#pending.set(key, { id: pickOrderId(bid.id), since: bid.createdAt });
      } else {
        this.#declined.add(key);
        this.#record({
          order: bid.id,
          outcome: 'failed',
          code: held.error.code,
          message: held.error.message,
        });
        await ledger.closeBid(bid.id);
      }
    }
    return ok(undefined);
  }

  async #scanOpenOrders(): Promise<Result<void, AppError>> {
    const orders = await this.#options.ledger.listOrders({ state: 'open' });
    if (!orders.ok) return orders;
    for (const order of orders.value) await this.#decide(order);
    return ok(undefined);
  }

  async #handle(event: MarketEvent): Promise<Result<void, AppError>> {
    const me = this.#options.provider;
    switch (event.type) {
      case 'OrderCreated':
        await this.#decideOrder(event.order);
        return ok(undefined);
      case 'LeaseCreated':
        await this.#end(event.lease, event.lease.provider === me);
        return ok(undefined);
      case 'OrderClosed':
        await this.#end(event.order, false);
        return ok(undefined);
      case 'BidClosed':
        if (event.bid.provider === me) await this.#end(event.bid, false);
        return ok(undefined);
      case 'ProviderRegistered':
      case 'ProviderUpdated': {
        if (event.provider !== me) return ok(undefined);
        const refreshed = await this.#refreshProvider();
        if (!refreshed.ok) return refreshed;
        this.#declined.clear();
        this.#starved.clear();
        return this.#scanOpenOrders();
      }
      default:
        return ok(undefined);
    }
  }

  /** The order is over for us: keep the reservation if we won it (the lease engine takes it over), else release it. */
  async #end(id: OrderId, won: boolean): Promise<void> {
    const key = orderKey(id);
    this.#declined.delete(key);
    this.#starved.delete(key);
    this.#retry.delete(key);
    if (!this.#pending.delete(key) || won) return;
    await this.#release(key);
  }

  async #decideOrder(id: OrderId): Promise<void> {
    const key = orderKey(id);
    if (this.#pending.has(key) || this.#declined.has(key)) return;
    const order = await this.#options.ledger.getOrder(id);
    if (!order.ok) {
      this.#fail(id, order.error);
      return;
    }
    await this.#decide(order.value);
  }

  async #decide(order: Order): Promise<void> {
    const key = orderKey(order.id);
    if (this.#pending.has(key) || this.#declined.has(key) || order.state !== 'open') return;
    const profile: BidderProfile = {
      address: this.#options.provider,
      attributes: this.#attributes,
      pricing: this.#pricing,
      ...(this.#options.orderAttributes === undefined
        ? {}
        : { orderAttributes: this.#options.orderAttributes }),
    };
    let decision: BidDecision;
    try {
      decision = await decideBid(order, profile, this.#options.gate);
    } catch (error) {
      this.#fail(order.id, appError('INTERNAL', `deciding crashed: ${String(error)}`));
      return;
    }
    if (!decision.bid) {
      this.#declined.add(key);
      if (decision.reason.code === 'INSUFFICIENT_IPS') this.#starved.set(key, pickOrderId(order.id));
      this.#record({
        order: order.id,
        outcome: 'declined',
        code: decision.reason.code,
        message: decision.reason.message,
      });
      return;
    }
    const bidId: BidId = { ...pickOrderId(order.id), provider: this.#options.provider };
    let posted: Result<unknown, AppError>;
    try {
      posted = await this.#options.ledger.createBid({
        order: pickOrderId(order.id),
        provider: this.#options.provider,
        price: decision.price,
      });
    } catch (error) {
      posted = fail(appError('INTERNAL', `posting the bid crashed: ${String(error)}`));
    }
    if (!posted.ok && posted.error.code === 'BID_EXISTS') {
      const existing = await this.#options.ledger.listBids({
        ...pickOrderId(order.id),
        provider: bidId.provider,
      });
      if (existing.ok && existing.value.some((bid) => bid.state === 'open')) posted = ok(undefined);
    }
    if (!posted.ok) {
      await this.#release(key);
      this.#fail(order.id, posted.error);
      return;
    }
    this.#pending.set(key, { id: pickOrderId(order.id), since: (this.#options.now ?? Date.now)() });
    this.#record({
      order: order.id,
      outcome: 'bid',
      message: `bid ${decision.price.amount} ${decision.price.denom}/block`,
      price: decision.price,
      ips: decision.ips,
    });
  }

  #fail(id: OrderId, error: AppError): void {
    const key = orderKey(id);
    if (TRANSIENT.has(error.code)) this.#retry.set(key, pickOrderId(id));
    else this.#declined.add(key);
    this.#record({ order: id, outcome: 'failed', code: error.code, message: error.message });
  }

  #record(record: Omit<DecisionRecord, 'provider'>): void {
    const full: DecisionRecord = {
      ...record,
      order: pickOrderId(record.order),
      provider: this.#options.provider,
    };
    this.#recent.push(full);
    if (this.#recent.length > RECENT_DECISIONS) this.#recent.shift();
    this.#options.onDecision?.(full);
  }

  /** Runs a gate call so that a thrown bug becomes an INTERNAL failure of that one order. */
  async #isolate<T>(fn: () => Awaitable<Result<T, AppError>>): Promise<Result<T, AppError>> {
    try {
      return await fn();
    } catch (error) {
      return fail(appError('INTERNAL', `the bid gate crashed: ${String(error)}`));
    }
  }

  async #release(key: string): Promise<void> {
    const released = await this.#isolate(async () => {
      await this.#options.gate.unreserve(key);
      return ok(undefined);
    });
    if (!released.ok) {
      this.#options.onError?.(released.error);
      return;
    }
    // addresses came free: the orders turned down for want of them are decided again on the next poll
    for (const [starved, id] of this.#starved) {
      this.#declined.delete(starved);
      this.#retry.set(starved, id);
    }
    this.#starved.clear();
  }
}

function pickOrderId(id: OrderId): OrderId {
  return { owner: id.owner, dseq: id.dseq, gseq: id.gseq, oseq: id.oseq };
}

/** "provider X did not bid on order Y: CODE (message)", or "provider X bid P on order Y". */
export function describeDecision(record: DecisionRecord): string {
  const order = orderKey(record.order);
  if (record.outcome === 'bid') return `provider ${record.provider} bid on order ${order}: ${record.message}`;
  if (record.outcome === 'expired') {
    return `provider ${record.provider} withdrew its bid on order ${order}: ${record.message}`;
  }
  return `provider ${record.provider} did not bid on order ${order}: ${record.code} (${record.message})`;
}
