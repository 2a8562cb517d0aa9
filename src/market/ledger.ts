/**
 * The devnet chain: Akash's deployment, market, escrow and provider modules on one SQLite file.
 * Every state change runs in one IMMEDIATE transaction together with the events it emits, so the
 * event log and the state can never disagree.
 *
 * Escrow: a deployment's deposit leaves the owner's account into its escrow. On every block, each
 * active lease is paid its bid price from that escrow (whole uakt reach the provider's account as
 * they accrue). When the escrow cannot pay a whole block for all its leases, what is left is paid
 * out in lease order, the escrow stands at zero, and the deployment closes with reason
 * `insufficient_funds`, closing its leases. The escrow can therefore never go negative. Closing a
 * deployment refunds the whole uakt left in escrow to the owner.
 */
import Database from 'better-sqlite3';
import { DSEQ_RULE, isDseq } from '../akash-id/index.js';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { isAddress, parsePublicKey } from '../identity/index.js';
import { orderKey } from '../lease/index.js';
import { preparePrivateFile } from '../store/index.js';
import { checkPublication } from '../x509/index.js';
import { matchRequirements, matchResourcesRequirements, validateAttributes } from './attributes.js';
import { DEC_ONE, formatDec, minBig, parseDec, parseUint } from './dec.js';
import { groupMaxPrice, validateGroupSpec } from './group.js';
import { migrate } from './ledger-schema.js';
import {
  type Account,
  type Bid,
  type BidFilter,
  type BidId,
  type BidState,
  type Certificate,
  type CertificateFilter,
  type CertificateId,
  type CloseBidOptions,
  type CloseLeaseInput,
  type Coin,
  type CreateBidInput,
  type CreateCertificateInput,
  type CreateDeploymentInput,
  DENOM,
  type Deployment,
  type DeploymentClosedReason,
  type DeploymentFilter,
  type DeploymentId,
  type DepositInput,
  type FundAccountInput,
  type GroupSpec,
  type Lease,
  type LeaseClosedReason,
  type LeaseFilter,
  type LeaseId,
  type LedgerStatus,
  type MarketEvent,
  type MarketEventBody,
  type MarketLedger,
  type Order,
  type OrderFilter,
  type OrderId,
  type OrderState,
  type Provider,
  type RegisterProviderInput,
  type UpdateDeploymentInput,
} from './types.js';

export interface LedgerOptions {
  /** SQLite file path, or `:memory:` for a throwaway ledger. */
  readonly path: string;
  /** Milliseconds since the epoch; injected so tests control time. */
  readonly now?: () => number;
  /** Smallest deposit a deployment may open with, in uakt. Default 500 000 (0.5 AKT, as on mainnet). */
  readonly minDeposit?: bigint;
  /**
   * Blocks an open bid may wait for its lease before the ledger closes it (BidClosed), so a provider that died
   * mid-bid, or never withdraws, cannot hold an order's bid open forever. Default: never, as on Akash's chain,
   * where providers withdraw their own bids (`--bid-timeout`); the devnet sets it as a safety net behind theirs.
   */
  readonly bidTtlBlocks?: number;
}

/** Default smallest deployment deposit, uakt. */
export const DEFAULT_MIN_DEPOSIT = 500_000n;
/** Most events one `eventsSince` call returns. */
export const MAX_EVENTS_PER_PAGE = 1000;
/** Most blocks one `advanceBlocks` call may add. */
export const MAX_BLOCKS_PER_ADVANCE = 10_000_000;

const HASH = /^[0-9a-f]{64}$/;
const HOST_URI = /^https?:\/\/[^\s/?#]+(?:\/[^\s?#]*)?$/;

interface DeploymentRow {
  owner: string;
  dseq: string;
  state: Deployment['state'];
  hash: string;
  escrow_balance: string;
  escrow_deposited: string;
  escrow_transferred: string;
  settled_height: number;
  created_height: number;
  closed_height: number | null;
  closed_reason: DeploymentClosedReason | null;
}
interface GroupRow {
  gseq: number;
  state: OrderState;
  spec: string;
}
interface OrderRow {
  owner: string;
  dseq: string;
  gseq: number;
  oseq: number;
  state: OrderState;
  created_height: number;
  spec: string;
}
interface BidRow {
  owner: string;
  dseq: string;
  gseq: number;
  oseq: number;
  provider: string;
  state: BidState;
  price: string;
  created_height: number;
  created_at: number;
}
interface LeaseRow {
  owner: string;
  dseq: string;
  gseq: number;
  oseq: number;
  provider: string;
  state: Lease['state'];
  price: string;
  paid: string;
  created_height: number;
  closed_height: number | null;
  closed_reason: LeaseClosedReason | null;
}
interface ProviderRow {
  address: string;
  host_uri: string;
  attributes: string;
  created_height: number;
}
interface CertificateRow {
  owner: string;
  serial: string;
  state: Certificate['state'];
  cert: string;
  pubkey: string;
  created_height: number;
}
interface EventRow {
  id: number;
  height: number;
  time: number;
  type: MarketEvent['type'];
  payload: string;
}

const ORDER_KEY = 'owner = ? AND dseq = ? AND gseq = ? AND oseq = ?';
const BID_KEY = `${ORDER_KEY} AND provider = ?`;
const ORDER_SELECT =
  'SELECT o.owner, o.dseq, o.gseq, o.oseq, o.state, o.created_height, g.spec FROM orders o ' +
  'JOIN groups g ON g.owner = o.owner AND g.dseq = o.dseq AND g.gseq = o.gseq';

/** The order's key columns, in the order ORDER_KEY's placeholders take them. */
function orderParams(id: OrderId): [string, string, number, number] {
  return [id.owner, id.dseq, id.gseq, id.oseq];
}
function bidKey(id: BidId): [string, string, number, number, string] {
  return [id.owner, id.dseq, id.gseq, id.oseq, id.provider];
}

/** A stored amount; the schema only ever holds ones we wrote, so a bad one is corruption. */
function stored(text: string): bigint {
  const value = parseDec(text);
  if (!value.ok) throw new Error(`ledger corrupt: bad stored amount "${text}"`);
  return value.value;
}

/** Carries a failure out of a transaction callback so that better-sqlite3 rolls back. */
class Rollback extends Error {
  constructor(readonly failure: { readonly ok: false; readonly error: AppError }) {
    super('rollback');
  }
}

/** The in-process devnet ledger. Synchronous; one instance owns its database file. */
export class Ledger implements MarketLedger {
  readonly #db: Database.Database;
  readonly #now: () => number;
  readonly #minDeposit: bigint;
  readonly #bidTtlBlocks: number | undefined;
  readonly #statements = new Map<string, Database.Statement>();

  private constructor(db: Database.Database, options: LedgerOptions) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.#minDeposit = options.minDeposit ?? DEFAULT_MIN_DEPOSIT;
    this.#bidTtlBlocks = options.bidTtlBlocks;
  }

  /** Opens (creating if needed) and migrates a ledger database. */
  static open(options: LedgerOptions): Result<Ledger, AppError> {
    let db: Database.Database;
    try {
      if (options.path !== ':memory:') preparePrivateFile(options.path);
      db = new Database(options.path);
    } catch (error) {
      return fail(appError('UNAVAILABLE', `cannot open the ledger at ${options.path}: ${String(error)}`));
    }
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    const migrated = migrate(db);
    if (!migrated.ok) {
      db.close();
      return migrated;
    }
    return ok(new Ledger(db, options));
  }

  /** Closes the database; the instance is unusable afterwards. */
  close(): void {
    this.#db.close();
  }

  // ---- chain ------------------------------------------------------------------------------------

  status(): Result<LedgerStatus, AppError> {
    const last = this.#get<{ id: number | null }>('SELECT max(id) AS id FROM events');
    return ok({ height: this.#height(), lastEventId: last?.id ?? 0 });
  }

  eventsSince(after: number, limit = 100): Result<readonly MarketEvent[], AppError> {
    if (!Number.isSafeInteger(after) || after < 0) {
      return fail(appError('INVALID_INPUT', 'the event cursor must be an integer ≥ 0'));
    }
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_EVENTS_PER_PAGE) {
      return fail(appError('INVALID_INPUT', `the event limit must be 1..${MAX_EVENTS_PER_PAGE}`));
    }
    const rows = this.#all<EventRow>('SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?', after, limit);
    return ok(
      rows.map(
        (row) =>
          ({
            ...(JSON.parse(row.payload) as object),
            type: row.type,
            id: row.id,
            height: row.height,
            time: row.time,
          }) as MarketEvent,
      ),
    );
  }

  advanceBlocks(count = 1): Result<LedgerStatus, AppError> {
    if (!Number.isSafeInteger(count) || count < 1 || count > MAX_BLOCKS_PER_ADVANCE) {
      return fail(appError('INVALID_INPUT', `a block advance must be 1..${MAX_BLOCKS_PER_ADVANCE} blocks`));
    }
    return this.#tx(() => {
      const target = this.#height() + count;
      this.#run('UPDATE chain SET height = ?', target);
      const active = this.#all<DeploymentRow>("SELECT * FROM deployments WHERE state = 'active'");
      for (const deployment of active) this.#settle(deployment, target);
      if (this.#bidTtlBlocks !== undefined) this.#closeStaleBids(target - this.#bidTtlBlocks);
      return this.status();
    });
  }

  // ---- accounts ---------------------------------------------------------------------------------

  fundAccount(input: FundAccountInput): Result<Account, AppError> {
    if (!isAddress(input.address)) return fail(badAddress(input.address));
    const amount = uakt(input.amount);
    if (!amount.ok) return amount;
    let pubkey: string | undefined;
    if (input.pubkey !== undefined) {
      const key = parsePublicKey(input.pubkey);
      if (!key.ok) return key;
      pubkey = Buffer.from(key.value).toString('hex');
    }
    return this.#tx(() => {
      const existing = this.#account(input.address);
      if (existing === undefined) {
        this.#run(
          'INSERT INTO accounts (address, pubkey, balance) VALUES (?, ?, ?)',
          input.address,
          pubkey ?? null,
          amount.value.toString(),
        );
      } else {
        if (pubkey !== undefined && existing.pubkey !== null && existing.pubkey !== pubkey) {
          return fail(appError('INVALID_INPUT', `account ${input.address} already has another public key`));
        }
        this.#credit(input.address, amount.value);
        if (pubkey !== undefined && existing.pubkey === null) {
          this.#run('UPDATE accounts SET pubkey = ? WHERE address = ?', pubkey, input.address);
        }
      }
      return ok(this.#account(input.address)!);
    });
  }

  getAccount(address: string): Result<Account, AppError> {
    const account = this.#account(address);
    return account === undefined ? fail(accountNotFound(address)) : ok(account);
  }

  // ---- deployments ------------------------------------------------------------------------------

  createDeployment(
    input: CreateDeploymentInput,
  ): Result<{ readonly deployment: Deployment; readonly orders: readonly Order[] }, AppError> {
    if (!HASH.test(input.hash)) return fail(badHash());
    if (input.groups.length === 0)
      return fail(appError('INVALID_INPUT', 'a deployment needs at least one group'));
    for (const group of input.groups) {
      const valid = validateGroupSpec(group);
      if (!valid.ok) return valid;
    }
    const deposit = uakt(input.deposit);
    if (!deposit.ok) return deposit;
    if (deposit.value < this.#minDeposit) {
      return fail(
        appError('INVALID_INPUT', `the deposit must be at least ${this.#minDeposit} ${DENOM}`, {
          minDeposit: this.#minDeposit.toString(),
        }),
      );
    }
    if (input.dseq !== undefined && !isDseq(input.dseq)) {
      return fail(appError('INVALID_INPUT', `dseq ${DSEQ_RULE}`));
    }
    return this.#tx(() => {
      const owner = this.#account(input.owner);
      if (owner === undefined) return fail(accountNotFound(input.owner));
      if (BigInt(owner.balance) < deposit.value) return fail(insufficientFunds(input.owner, deposit.value));
      const height = this.#height();
      let dseq = input.dseq;
      if (dseq === undefined) {
        const last = this.#get<{ dseq: string }>(
          'SELECT dseq FROM deployments WHERE owner = ? ORDER BY length(dseq) DESC, dseq DESC LIMIT 1',
          input.owner,
        );
        const next = BigInt(last?.dseq ?? '0') + 1n;
        dseq = (next > BigInt(height) ? next : BigInt(height)).toString();
        if (!isDseq(dseq))
          return fail(appError('INVALID_INPUT', 'no dseq is left after the last one; pass a dseq'));
      } else if (this.#deploymentRow({ owner: input.owner, dseq }) !== undefined) {
        return fail(appError('DEPLOYMENT_EXISTS', `deployment ${input.owner}/${dseq} already exists`));
      }
      this.#debit(input.owner, deposit.value);
      this.#run(
        `INSERT INTO deployments (owner, dseq, state, hash, escrow_balance, escrow_deposited, escrow_transferred,
           settled_height, created_height) VALUES (?, ?, 'active', ?, ?, ?, ?, ?, ?)`,
        input.owner,
        dseq,
        input.hash,
        formatDec(deposit.value * DEC_ONE),
        deposit.value.toString(),
        formatDec(0n),
        height,
        height,
      );
      const id: DeploymentId = { owner: input.owner, dseq };
      this.#emit({ type: 'DeploymentCreated', deployment: id, hash: input.hash });
      this.#emit({
        type: 'EscrowDeposited',
        deployment: id,
        amount: { denom: DENOM, amount: deposit.value.toString() },
      });
      input.groups.forEach((spec, index) => {
        const gseq = index + 1;
        this.#run(
          "INSERT INTO groups (owner, dseq, gseq, state, spec) VALUES (?, ?, ?, 'open', ?)",
          input.owner,
          dseq,
          gseq,
          JSON.stringify(spec),
        );
        this.#run(
          "INSERT INTO orders (owner, dseq, gseq, oseq, state, created_height) VALUES (?, ?, ?, 1, 'open', ?)",
          input.owner,
          dseq,
          gseq,
          height,
        );
        this.#emit({ type: 'OrderCreated', order: { ...id, gseq, oseq: 1 } });
      });
      const orders = this.#all<OrderRow>(
        `${ORDER_SELECT} WHERE o.owner = ? AND o.dseq = ? ORDER BY o.gseq`,
        input.owner,
        dseq,
      );
      return ok({ deployment: this.#deployment(this.#deploymentRow(id)!), orders: orders.map(toOrder) });
    });
  }

  updateDeployment(input: UpdateDeploymentInput): Result<Deployment, AppError> {
    if (!HASH.test(input.hash)) return fail(badHash());
    return this.#tx(() => {
      const row = this.#activeDeployment(input.id);
      if (!row.ok) return row;
      if (row.value.hash !== input.hash) {
        this.#run(
          'UPDATE deployments SET hash = ? WHERE owner = ? AND dseq = ?',
          input.hash,
          input.id.owner,
          input.id.dseq,
        );
        this.#emit({ type: 'DeploymentUpdated', deployment: deploymentId(row.value), hash: input.hash });
      }
      return ok(this.#deployment(this.#deploymentRow(input.id)!));
    });
  }

  depositDeployment(input: DepositInput): Result<Deployment, AppError> {
    const amount = uakt(input.amount);
    if (!amount.ok) return amount;
    if (amount.value === 0n) return fail(appError('INVALID_INPUT', 'a deposit must be above zero'));
    return this.#tx(() => {
      const row = this.#activeDeployment(input.id);
      if (!row.ok) return row;
      const owner = this.#account(input.id.owner)!;
      if (BigInt(owner.balance) < amount.value) return fail(insufficientFunds(input.id.owner, amount.value));
      this.#debit(input.id.owner, amount.value);
      this.#run(
        'UPDATE deployments SET escrow_balance = ?, escrow_deposited = ? WHERE owner = ? AND dseq = ?',
        formatDec(stored(row.value.escrow_balance) + amount.value * DEC_ONE),
        (BigInt(row.value.escrow_deposited) + amount.value).toString(),
        input.id.owner,
        input.id.dseq,
      );
      this.#emit({
        type: 'EscrowDeposited',
        deployment: deploymentId(row.value),
        amount: { denom: DENOM, amount: amount.value.toString() },
      });
      return ok(this.#deployment(this.#deploymentRow(input.id)!));
    });
  }

  closeDeployment(id: DeploymentId): Result<Deployment, AppError> {
    return this.#tx(() => {
      const row = this.#activeDeployment(id);
      if (!row.ok) return row;
      this.#closeDeployment(row.value, 'owner', 'deployment_closed', this.#height());
      return ok(this.#deployment(this.#deploymentRow(id)!));
    });
  }

  getDeployment(id: DeploymentId): Result<Deployment, AppError> {
    const row = this.#deploymentRow(id);
    return row === undefined ? fail(deploymentNotFound(id)) : ok(this.#deployment(row));
  }

  listDeployments(filter: DeploymentFilter = {}): Result<readonly Deployment[], AppError> {
    const [where, params] = whereOf({ owner: filter.owner, state: filter.state });
    const rows = this.#all<DeploymentRow>(
      `SELECT * FROM deployments ${where} ORDER BY owner, length(dseq), dseq`,
      ...params,
    );
    return ok(rows.map((row) => this.#deployment(row)));
  }

  // ---- providers --------------------------------------------------------------------------------

  registerProvider(input: RegisterProviderInput): Result<Provider, AppError> {
    if (!isAddress(input.address)) return fail(badAddress(input.address));
    if (!HOST_URI.test(input.hostUri)) {
      return fail(appError('INVALID_INPUT', `host URI "${input.hostUri}" must be an http(s) URL`));
    }
    const attributes = validateAttributes(input.attributes, false);
    if (!attributes.ok) return attributes;
    return this.#tx(() => {
      if (this.#account(input.address) === undefined) return fail(accountNotFound(input.address));
      const existing = this.#get<ProviderRow>('SELECT * FROM providers WHERE address = ?', input.address);
      if (existing === undefined) {
        this.#run(
          'INSERT INTO providers (address, host_uri, attributes, created_height) VALUES (?, ?, ?, ?)',
          input.address,
          input.hostUri,
          JSON.stringify(input.attributes),
          this.#height(),
        );
        this.#emit({ type: 'ProviderRegistered', provider: input.address });
      } else {
        this.#run(
          'UPDATE providers SET host_uri = ?, attributes = ? WHERE address = ?',
          input.hostUri,
          JSON.stringify(input.attributes),
          input.address,
        );
        this.#emit({ type: 'ProviderUpdated', provider: input.address });
      }
      return this.getProvider(input.address);
    });
  }

  getProvider(address: string): Result<Provider, AppError> {
    const row = this.#get<ProviderRow>('SELECT * FROM providers WHERE address = ?', address);
    return row === undefined
      ? fail(appError('PROVIDER_NOT_FOUND', `no provider ${address} is registered`))
      : ok(toProvider(row));
  }

  listProviders(): Result<readonly Provider[], AppError> {
    return ok(this.#all<ProviderRow>('SELECT * FROM providers ORDER BY address').map(toProvider));
  }

  // ---- orders -----------------------------------------------------------------------------------

  getOrder(id: OrderId): Result<Order, AppError> {
    const row = this.#get<OrderRow>(
      `${ORDER_SELECT} WHERE o.owner = ? AND o.dseq = ? AND o.gseq = ? AND o.oseq = ?`,
      ...orderParams(id),
    );
    return row === undefined ? fail(orderNotFound(id)) : ok(toOrder(row));
  }

  listOrders(filter: OrderFilter = {}): Result<readonly Order[], AppError> {
    const [where, params] = whereOf({
      'o.owner': filter.owner,
      'o.dseq': filter.dseq,
      'o.state': filter.state,
    });
    const rows = this.#all<OrderRow>(
      `${ORDER_SELECT} ${where} ORDER BY o.owner, length(o.dseq), o.dseq, o.gseq, o.oseq`,
      ...params,
    );
    return ok(rows.map(toOrder));
  }

  // ---- bids -------------------------------------------------------------------------------------

  createBid(input: CreateBidInput): Result<Bid, AppError> {
    if (input.price.denom !== DENOM) return fail(appError('INVALID_INPUT', `bids are priced in ${DENOM}`));
    const price = parseDec(input.price.amount);
    if (!price.ok) return price;
    if (price.value === 0n) return fail(appError('INVALID_INPUT', 'a bid price must be above zero'));
    const id: BidId = { ...pickOrderId(input.order), provider: input.provider };
    return this.#tx(() => {
      const provider = this.getProvider(input.provider);
      if (!provider.ok) return provider;
      const order = this.getOrder(input.order);
      if (!order.ok) return order;
      if (order.value.state !== 'open') return fail(orderNotOpen(order.value));
      if (input.provider === id.owner)
        return fail(appError('INVALID_INPUT', 'a provider cannot bid on its own order'));
      if (this.#bidRow(id) !== undefined) {
        return fail(
          appError('BID_EXISTS', `provider ${input.provider} has already bid on order ${orderKey(id)}`),
        );
      }
      const spec = order.value.spec;
      const max = groupMaxPrice(spec);
      if (!max.ok) return max;
      if (price.value > max.value) {
        return fail(
          appError(
            'BID_OVER_ORDER',
            `bid ${input.price.amount} is above the order's maximum ${formatDec(max.value)}`,
            {
              max: formatDec(max.value),
            },
          ),
        );
      }
      if (!matchRequirements(spec, provider.value.attributes)) {
        return fail(
          appError(
            'ATTRIBUTE_MISMATCH',
            `provider ${input.provider} lacks attributes order ${orderKey(id)} requires`,
          ),
        );
      }
      if (!matchResourcesRequirements(spec, provider.value.attributes)) {
        return fail(
          appError(
            'ATTRIBUTE_MISMATCH',
            `provider ${input.provider} lacks storage or GPU capabilities order ${orderKey(id)} requires`,
          ),
        );
      }
      const amount = formatDec(price.value);
      this.#run(
        "INSERT INTO bids (owner, dseq, gseq, oseq, provider, state, price, created_height, created_at) VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?)",
        ...bidKey(id),
        amount,
        this.#height(),
        this.#now(),
      );
      this.#emit({ type: 'BidCreated', bid: id, price: { denom: DENOM, amount } });
      return ok(toBid(this.#bidRow(id)!));
    });
  }

  closeBid(id: BidId, options: CloseBidOptions = {}): Result<Bid, AppError> {
    return this.#tx(() => {
      const bid = this.#bidRow(id);
      if (bid === undefined) return fail(bidNotFound(id));
      if (bid.state === 'active' && options.ifOpen !== true) {
        this.#endLease(this.#leaseRow(id)!, 'provider', this.#height());
      } else if (bid.state === 'open') {
        this.#run(`UPDATE bids SET state = 'closed' WHERE ${BID_KEY}`, ...bidKey(id));
        this.#emit({ type: 'BidClosed', bid: pickBidId(bid) });
      } else {
        return fail(appError('BID_NOT_OPEN', `bid ${bidText(id)} is ${bid.state}`));
      }
      return ok(toBid(this.#bidRow(id)!));
    });
  }

  getBid(id: BidId): Result<Bid, AppError> {
    const row = this.#bidRow(id);
    return row === undefined ? fail(bidNotFound(id)) : ok(toBid(row));
  }

  listBids(filter: BidFilter = {}): Result<readonly Bid[], AppError> {
    const { owner, dseq, gseq, oseq, provider, state } = filter;
    const [where, params] = whereOf({ owner, dseq, gseq, oseq, provider, state });
    const rows = this.#all<BidRow>(
      `SELECT * FROM bids ${where} ORDER BY owner, length(dseq), dseq, gseq, oseq, provider`,
      ...params,
    );
    return ok(rows.map(toBid));
  }

  // ---- leases -----------------------------------------------------------------------------------

  createLease(id: BidId): Result<Lease, AppError> {
    return this.#tx(() => {
      const bid = this.#bidRow(id);
      if (bid === undefined) return fail(bidNotFound(id));
      if (bid.state !== 'open') return fail(appError('BID_NOT_OPEN', `bid ${bidText(id)} is ${bid.state}`));
      const order = this.getOrder(id);
      if (!order.ok) return order;
      if (order.value.state !== 'open') return fail(orderNotOpen(order.value));
      const deployment = this.#activeDeployment(id);
      if (!deployment.ok) return deployment;
      const price = stored(bid.price);
      if (stored(deployment.value.escrow_balance) < price) {
        return fail(
          appError(
            'INSUFFICIENT_FUNDS',
            `the escrow of ${id.owner}/${id.dseq} cannot pay one block of this lease; deposit more`,
          ),
        );
      }
      this.#run(
        "INSERT INTO leases (owner, dseq, gseq, oseq, provider, state, price, paid, created_height) VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?)",
        ...bidKey(id),
        bid.price,
        formatDec(0n),
        this.#height(),
      );
      this.#run(`UPDATE bids SET state = 'active' WHERE ${BID_KEY}`, ...bidKey(id));
      this.#run(
        `UPDATE bids SET state = 'lost' WHERE ${ORDER_KEY} AND provider <> ? AND state = 'open'`,
        ...bidKey(id),
      );
      this.#run(`UPDATE orders SET state = 'active' WHERE ${ORDER_KEY}`, ...orderParams(id));
      this.#run(
        "UPDATE groups SET state = 'active' WHERE owner = ? AND dseq = ? AND gseq = ?",
        id.owner,
        id.dseq,
        id.gseq,
      );
      this.#emit({ type: 'LeaseCreated', lease: pickBidId(bid), price: { denom: DENOM, amount: bid.price } });
      return ok(toLease(this.#leaseRow(id)!));
    });
  }

  closeLease(input: CloseLeaseInput): Result<Lease, AppError> {
    return this.#tx(() => {
      const lease = this.#leaseRow(input.id);
      if (lease === undefined) return fail(appError('LEASE_NOT_FOUND', `no lease ${bidText(input.id)}`));
      if (input.actor !== lease.owner && input.actor !== lease.provider) {
        return fail(appError('FORBIDDEN', 'only the lease owner or its provider may close it'));
      }
      if (lease.state !== 'active')
        return fail(appError('LEASE_CLOSED', `lease ${bidText(input.id)} is already closed`));
      this.#endLease(lease, input.actor === lease.owner ? 'owner' : 'provider', this.#height());
      return ok(toLease(this.#leaseRow(input.id)!));
    });
  }

  getLease(id: LeaseId): Result<Lease, AppError> {
    const row = this.#leaseRow(id);
    return row === undefined
      ? fail(appError('LEASE_NOT_FOUND', `no lease ${bidText(id)}`))
      : ok(toLease(row));
  }

  listLeases(filter: LeaseFilter = {}): Result<readonly Lease[], AppError> {
    const { owner, dseq, provider, state } = filter;
    const [where, params] = whereOf({ owner, dseq, provider, state });
    const rows = this.#all<LeaseRow>(
      `SELECT * FROM leases ${where} ORDER BY owner, length(dseq), dseq, gseq, oseq, provider`,
      ...params,
    );
    return ok(rows.map(toLease));
  }

  /** The public key (compressed, 33 bytes) on record for an account; used to verify signed requests. */
  publicKeyOf(address: string): Uint8Array | undefined {
    const pubkey = this.#account(address)?.pubkey;
    return pubkey === null || pubkey === undefined ? undefined : Uint8Array.from(Buffer.from(pubkey, 'hex'));
  }

  // ---- certificates (Akash's cert module) -------------------------------------------------------

  createCertificate(input: CreateCertificateInput): Result<Certificate, AppError> {
    if (!isAddress(input.owner)) return fail(badAddress(input.owner));
    const checked = checkPublication(input.owner, input.cert, input.pubkey);
    if (!checked.ok) return checked;
    const { serial } = checked.value;
    return this.#tx(() => {
      if (this.#account(input.owner) === undefined) return fail(accountNotFound(input.owner));
      const existing = this.#certificateRow({ owner: input.owner, serial });
      if (existing !== undefined) {
        return fail(
          appError(
            'CERTIFICATE_EXISTS',
            `${input.owner} already published a certificate with serial ${serial}`,
          ),
        );
      }
      this.#run(
        `INSERT INTO certificates (owner, serial, state, cert, pubkey, created_height) VALUES (?, ?, 'valid', ?, ?, ?)`,
        input.owner,
        serial,
        input.cert,
        input.pubkey,
        this.#height(),
      );
      return ok(toCertificate(this.#certificateRow({ owner: input.owner, serial })!));
    });
  }

  revokeCertificate(id: CertificateId): Result<Certificate, AppError> {
    return this.#tx(() => {
      const row = this.#certificateRow(id);
      if (row === undefined || row.state !== 'valid') {
        return fail(
          appError('CERTIFICATE_NOT_FOUND', `${id.owner} has no valid certificate with serial ${id.serial}`),
        );
      }
      this.#run(
        `UPDATE certificates SET state = 'revoked' WHERE owner = ? AND serial = ?`,
        id.owner,
        id.serial,
      );
      return ok(toCertificate({ ...row, state: 'revoked' }));
    });
  }

  listCertificates(filter: CertificateFilter = {}): Result<readonly Certificate[], AppError> {
    const [where, params] = whereOf({ owner: filter.owner, serial: filter.serial, state: filter.state });
    const rows = this.#all<CertificateRow>(
      `SELECT * FROM certificates ${where} ORDER BY owner, length(serial), serial`,
      ...params,
    );
    return ok(rows.map(toCertificate));
  }

  #certificateRow(id: CertificateId): CertificateRow | undefined {
    return this.#get<CertificateRow>(
      'SELECT * FROM certificates WHERE owner = ? AND serial = ?',
      id.owner,
      id.serial,
    );
  }

  // ---- internals --------------------------------------------------------------------------------

  #tx<T>(fn: () => Result<T, AppError>): Result<T, AppError> {
    try {
      return this.#db
        .transaction(() => {
          const result = fn();
          if (!result.ok) throw new Rollback(result);
          return result;
        })
        .immediate();
    } catch (error) {
      if (error instanceof Rollback) return error.failure;
      throw error;
    }
  }

  #statement(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #get<T>(sql: string, ...params: unknown[]): T | undefined {
    return this.#statement(sql).get(...params) as T | undefined;
  }

  #all<T>(sql: string, ...params: unknown[]): T[] {
    return this.#statement(sql).all(...params) as T[];
  }

  #run(sql: string, ...params: unknown[]): void {
    this.#statement(sql).run(...params);
  }

  /** Closes every bid still open that was made at or before `height`. */
  #closeStaleBids(height: number): void {
    const stale = this.#all<BidRow>(
      "SELECT * FROM bids WHERE state = 'open' AND created_height <= ?",
      height,
    );
    for (const bid of stale) {
      this.#run(`UPDATE bids SET state = 'closed' WHERE ${BID_KEY}`, ...bidKey(bid));
      this.#emit({ type: 'BidClosed', bid: pickBidId(bid) });
    }
  }

  #height(): number {
    return this.#get<{ height: number }>('SELECT height FROM chain')!.height;
  }

  #emit(body: MarketEventBody): void {
    const { type, ...payload } = body;
    this.#run(
      'INSERT INTO events (height, time, type, payload) VALUES (?, ?, ?, ?)',
      this.#height(),
      this.#now(),
      type,
      JSON.stringify(payload),
    );
  }

  #account(address: string): Account | undefined {
    return this.#get<Account>('SELECT address, pubkey, balance FROM accounts WHERE address = ?', address);
  }

  #credit(address: string, amount: bigint): void {
    if (amount === 0n) return;
    const balance = BigInt(this.#account(address)!.balance);
    this.#run('UPDATE accounts SET balance = ? WHERE address = ?', (balance + amount).toString(), address);
  }

  #debit(address: string, amount: bigint): void {
    this.#credit(address, -amount);
  }

  #deploymentRow(id: DeploymentId): DeploymentRow | undefined {
    return this.#get<DeploymentRow>(
      'SELECT * FROM deployments WHERE owner = ? AND dseq = ?',
      id.owner,
      id.dseq,
    );
  }

  #activeDeployment(id: DeploymentId): Result<DeploymentRow, AppError> {
    const row = this.#deploymentRow(id);
    if (row === undefined) return fail(deploymentNotFound(id));
    if (row.state !== 'active') {
      return fail(appError('DEPLOYMENT_CLOSED', `deployment ${id.owner}/${id.dseq} is closed`));
    }
    return ok(row);
  }

  #deployment(row: DeploymentRow): Deployment {
    const groups = this.#all<GroupRow>(
      'SELECT gseq, state, spec FROM groups WHERE owner = ? AND dseq = ? ORDER BY gseq',
      row.owner,
      row.dseq,
    );
    return {
      id: deploymentId(row),
      state: row.state,
      hash: row.hash,
      groups: groups.map((group) => ({
        gseq: group.gseq,
        state: group.state,
        spec: JSON.parse(group.spec) as GroupSpec,
      })),
      escrow: {
        balance: row.escrow_balance,
        deposited: row.escrow_deposited,
        transferred: row.escrow_transferred,
        settledHeight: row.settled_height,
      },
      createdHeight: row.created_height,
      closedHeight: row.closed_height,
      closedReason: row.closed_reason,
    };
  }

  #bidRow(id: BidId): BidRow | undefined {
    return this.#get<BidRow>(`SELECT * FROM bids WHERE ${BID_KEY}`, ...bidKey(id));
  }

  #leaseRow(id: LeaseId): LeaseRow | undefined {
    return this.#get<LeaseRow>(`SELECT * FROM leases WHERE ${BID_KEY}`, ...bidKey(id));
  }

  /** Pays each lease `price × blocks` from escrow up to `target`, closing the deployment if the escrow runs dry. */
  #settle(deployment: DeploymentRow, target: number): void {
    const leases = this.#all<LeaseRow>(
      "SELECT * FROM leases WHERE owner = ? AND dseq = ? AND state = 'active' ORDER BY gseq, oseq, provider",
      deployment.owner,
      deployment.dseq,
    );
    let balance = stored(deployment.escrow_balance);
    let transferred = stored(deployment.escrow_transferred);
    const rate = leases.reduce((sum, lease) => sum + stored(lease.price), 0n);
    const blocks = BigInt(target - deployment.settled_height);
    const affordable = rate === 0n ? blocks : balance / rate;
    const paidBlocks = minBig(affordable, blocks);
    let remainder = balance - rate * paidBlocks;
    for (const lease of leases) {
      let amount = stored(lease.price) * paidBlocks;
      if (paidBlocks < blocks) {
        // the block that cannot be paid in full takes what is left, in lease order
        const part = minBig(remainder, stored(lease.price));
        remainder -= part;
        amount += part;
      }
      this.#pay(lease, amount);
      transferred += amount;
      balance -= amount;
    }
    this.#run(
      'UPDATE deployments SET escrow_balance = ?, escrow_transferred = ?, settled_height = ? WHERE owner = ? AND dseq = ?',
      formatDec(balance),
      formatDec(transferred),
      target,
      deployment.owner,
      deployment.dseq,
    );
    if (paidBlocks < blocks) {
      const dryAt = deployment.settled_height + Number(paidBlocks) + 1;
      this.#closeDeployment(
        this.#deploymentRow(deploymentId(deployment))!,
        'insufficient_funds',
        'insufficient_funds',
        dryAt,
      );
    }
  }

  /** Adds to a lease's paid total and moves the newly whole uakt into the provider's account. */
  #pay(lease: LeaseRow, amount: bigint): void {
    if (amount === 0n) return;
    const before = stored(lease.paid);
    const after = before + amount;
    this.#run(`UPDATE leases SET paid = ? WHERE ${BID_KEY}`, formatDec(after), ...bidKey(lease));
    this.#credit(lease.provider, after / DEC_ONE - before / DEC_ONE);
  }

  /** Closes a lease and with it its bid, order and group. */
  #endLease(lease: LeaseRow, reason: LeaseClosedReason, height: number): void {
    const id = pickBidId(lease);
    this.#run(
      `UPDATE leases SET state = 'closed', closed_height = ?, closed_reason = ? WHERE ${BID_KEY}`,
      height,
      reason,
      ...bidKey(id),
    );
    this.#run(`UPDATE bids SET state = 'closed' WHERE ${BID_KEY}`, ...bidKey(id));
    this.#run(`UPDATE orders SET state = 'closed' WHERE ${ORDER_KEY}`, ...orderParams(id));
    this.#run(
      "UPDATE groups SET state = 'closed' WHERE owner = ? AND dseq = ? AND gseq = ?",
      id.owner,
      id.dseq,
      id.gseq,
    );
    this.#emit({ type: 'LeaseClosed', lease: id, reason });
    this.#emit({ type: 'BidClosed', bid: id });
    this.#emit({ type: 'OrderClosed', order: pickOrderId(id) });
  }

  /** Closes every lease, bid and order of a deployment, refunds whole uakt left in escrow, and closes it. */
  #closeDeployment(
    row: DeploymentRow,
    reason: DeploymentClosedReason,
    leaseReason: LeaseClosedReason,
    height: number,
  ): void {
    const key = [row.owner, row.dseq] as const;
    for (const lease of this.#all<LeaseRow>(
      "SELECT * FROM leases WHERE owner = ? AND dseq = ? AND state = 'active'",
      ...key,
    )) {
      this.#endLease(lease, leaseReason, height);
    }
    for (const bid of this.#all<BidRow>(
      "SELECT * FROM bids WHERE owner = ? AND dseq = ? AND state = 'open'",
      ...key,
    )) {
      this.#run(`UPDATE bids SET state = 'closed' WHERE ${BID_KEY}`, ...bidKey(bid));
      this.#emit({ type: 'BidClosed', bid: pickBidId(bid) });
    }
    for (const order of this.#all<OrderRow>(
      `${ORDER_SELECT} WHERE o.owner = ? AND o.dseq = ? AND o.state <> 'closed'`,
      ...key,
    )) {
      this.#run(`UPDATE orders SET state = 'closed' WHERE ${ORDER_KEY}`, ...orderParams(order));
      this.#emit({ type: 'OrderClosed', order: pickOrderId(order) });
    }
    this.#run("UPDATE groups SET state = 'closed' WHERE owner = ? AND dseq = ?", ...key);
    const balance = stored(this.#deploymentRow(deploymentId(row))!.escrow_balance);
    const refund = balance / DEC_ONE;
    this.#credit(row.owner, refund);
    this.#run(
      "UPDATE deployments SET state = 'closed', escrow_balance = ?, closed_height = ?, closed_reason = ? WHERE owner = ? AND dseq = ?",
      formatDec(balance - refund * DEC_ONE),
      height,
      reason,
      ...key,
    );
    this.#emit({ type: 'DeploymentClosed', deployment: deploymentId(row), reason });
  }
}

function uakt(coin: Coin): Result<bigint, AppError> {
  if (coin.denom !== DENOM)
    return fail(appError('INVALID_INPUT', `amounts are in ${DENOM}, not ${coin.denom}`));
  return parseUint(coin.amount);
}

/** A WHERE clause of equalities over the defined fields (field names are ours, never user input). */
function whereOf(fields: Readonly<Record<string, string | number | undefined>>): [string, unknown[]] {
  const entries = Object.entries(fields).filter(([, value]) => value !== undefined);
  if (entries.length === 0) return ['', []];
  return [`WHERE ${entries.map(([name]) => `${name} = ?`).join(' AND ')}`, entries.map(([, value]) => value)];
}

function deploymentId(row: { owner: string; dseq: string }): DeploymentId {
  return { owner: row.owner, dseq: row.dseq };
}
function pickOrderId(row: OrderId): OrderId {
  return { owner: row.owner, dseq: row.dseq, gseq: row.gseq, oseq: row.oseq };
}
function pickBidId(row: BidId): BidId {
  return { ...pickOrderId(row), provider: row.provider };
}
function bidText(id: BidId): string {
  return `${orderKey(id)}/${id.provider}`;
}

function toOrder(row: OrderRow): Order {
  return {
    id: pickOrderId(row),
    state: row.state,
    spec: JSON.parse(row.spec) as GroupSpec,
    createdHeight: row.created_height,
  };
}
function toBid(row: BidRow): Bid {
  return {
    id: pickBidId(row),
    state: row.state,
    price: { denom: DENOM, amount: row.price },
    createdHeight: row.created_height,
    createdAt: row.created_at,
  };
}
function toLease(row: LeaseRow): Lease {
  return {
    id: pickBidId(row),
    state: row.state,
    price: { denom: DENOM, amount: row.price },
    paid: row.paid,
    createdHeight: row.created_height,
    closedHeight: row.closed_height,
    closedReason: row.closed_reason,
  };
}
function toCertificate(row: CertificateRow): Certificate {
  return {
    owner: row.owner,
    serial: row.serial,
    state: row.state,
    cert: row.cert,
    pubkey: row.pubkey,
    createdHeight: row.created_height,
  };
}

function toProvider(row: ProviderRow): Provider {
  return {
    address: row.address,
    hostUri: row.host_uri,
    attributes: JSON.parse(row.attributes) as Provider['attributes'],
    createdHeight: row.created_height,
  };
}

function badAddress(address: string): AppError {
  return appError('INVALID_INPUT', `"${address.slice(0, 80)}" is not an akash1 account address`);
}
function badHash(): AppError {
  return appError(
    'INVALID_INPUT',
    'the deployment hash must be 64 lowercase hex digits (sha256 of the manifest)',
  );
}
function accountNotFound(address: string): AppError {
  return appError('ACCOUNT_NOT_FOUND', `no account ${address}; fund it from the faucet first`);
}
function insufficientFunds(address: string, needed: bigint): AppError {
  return appError('INSUFFICIENT_FUNDS', `account ${address} has less than ${needed} ${DENOM}`, {
    needed: needed.toString(),
  });
}
function deploymentNotFound(id: DeploymentId): AppError {
  return appError('DEPLOYMENT_NOT_FOUND', `no deployment ${id.owner}/${id.dseq}`);
}
function orderNotFound(id: OrderId): AppError {
  return appError('ORDER_NOT_FOUND', `no order ${orderKey(id)}`);
}
function orderNotOpen(order: Order): AppError {
  return appError('ORDER_NOT_OPEN', `order ${orderKey(order.id)} is ${order.state}`);
}
function bidNotFound(id: BidId): AppError {
  return appError('BID_NOT_FOUND', `no bid ${bidText(id)}`);
}
