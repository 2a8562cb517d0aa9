/**
 * The devnet marketplace's domain: the chain objects of Akash's deployment, market and escrow modules
 * (ids, states, events), and the one interface every ledger — in-process or over HTTP — offers.
 */
import type { AppError, Result } from '../errors/index.js';
// The one place this module reaches into src/sdl (its index.ts door does not exist yet).
import { type Attribute, type DecCoin, ENDPOINT_KIND, type GroupSpec } from '../sdl/manifest-types.js';

export { type Attribute, type DecCoin, ENDPOINT_KIND, type GroupSpec };

/** The only denomination the devnet knows. */
export const DENOM = 'uakt';

/** An integer amount (`Coin` in Cosmos); `amount` is a base-10 integer string. */
export interface Coin {
  readonly denom: string;
  readonly amount: string;
}

export interface DeploymentId {
  readonly owner: string;
  /** uint64 as a decimal string, as Akash JSON prints it. */
  readonly dseq: string;
}
export interface GroupId extends DeploymentId {
  readonly gseq: number;
}
export interface OrderId extends GroupId {
  readonly oseq: number;
}
export interface BidId extends OrderId {
  readonly provider: string;
}
/** A lease has the id of the bid it was made from. */
export type LeaseId = BidId;

export type DeploymentState = 'active' | 'closed';
export type OrderState = 'open' | 'active' | 'closed';
export type BidState = 'open' | 'active' | 'lost' | 'closed';
export type LeaseState = 'active' | 'closed';
/** Why a lease ended: closed by one side, or its deployment closed, or the escrow ran dry. */
export type LeaseClosedReason = 'owner' | 'provider' | 'deployment_closed' | 'insufficient_funds';
export type DeploymentClosedReason = 'owner' | 'insufficient_funds';

export interface Account {
  readonly address: string;
  /** Compressed secp256k1 public key (hex), known once the account has been registered with one. */
  readonly pubkey: string | null;
  /** Spendable uakt (integer string). */
  readonly balance: string;
}

export interface Provider {
  readonly address: string;
  /** Base URI of the provider's daemon, e.g. `https://127.0.0.1:8443`. */
  readonly hostUri: string;
  readonly attributes: readonly Attribute[];
  readonly createdHeight: number;
}

/** The deployment's escrow account: `balance` is fixed-point uakt (18 places) and never negative. */
export interface Escrow {
  readonly balance: string;
  /** Total uakt deposited (integer string). */
  readonly deposited: string;
  /** Total paid out to providers (18 places). */
  readonly transferred: string;
  readonly settledHeight: number;
}

export interface Group {
  readonly gseq: number;
  readonly state: OrderState;
  readonly spec: GroupSpec;
}

export interface Deployment {
  readonly id: DeploymentId;
  readonly state: DeploymentState;
  /** The manifest version (sha256, lowercase hex), as in `MsgCreateDeployment.hash`. */
  readonly hash: string;
  readonly groups: readonly Group[];
  readonly escrow: Escrow;
  readonly createdHeight: number;
  readonly closedHeight: number | null;
  readonly closedReason: DeploymentClosedReason | null;
}

export interface Order {
  readonly id: OrderId;
  readonly state: OrderState;
  readonly spec: GroupSpec;
  readonly createdHeight: number;
}

export interface CloseBidOptions {
  readonly ifOpen?: boolean;
}

export interface Bid {
  readonly id: BidId;
  readonly state: BidState;
  /** Price per block. */
  readonly price: DecCoin;
  readonly createdHeight: number;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

export interface Lease {
  readonly id: LeaseId;
  readonly state: LeaseState;
  /** Price per block. */
  readonly price: DecCoin;
  /** Total the provider has been paid so far (uakt, 18 places). */
  readonly paid: string;
  readonly createdHeight: number;
  readonly closedHeight: number | null;
  readonly closedReason: LeaseClosedReason | null;
}

/** The chain event kinds the devnet emits. */
export type MarketEventBody =
  | { readonly type: 'DeploymentCreated'; readonly deployment: DeploymentId; readonly hash: string }
  | { readonly type: 'DeploymentUpdated'; readonly deployment: DeploymentId; readonly hash: string }
  | {
      readonly type: 'DeploymentClosed';
      readonly deployment: DeploymentId;
      readonly reason: DeploymentClosedReason;
    }
  | { readonly type: 'EscrowDeposited'; readonly deployment: DeploymentId; readonly amount: Coin }
  | { readonly type: 'OrderCreated'; readonly order: OrderId }
  | { readonly type: 'OrderClosed'; readonly order: OrderId }
  | { readonly type: 'BidCreated'; readonly bid: BidId; readonly price: DecCoin }
  | { readonly type: 'BidClosed'; readonly bid: BidId }
  | { readonly type: 'LeaseCreated'; readonly lease: LeaseId; readonly price: DecCoin }
  | { readonly type: 'LeaseClosed'; readonly lease: LeaseId; readonly reason: LeaseClosedReason }
  | { readonly type: 'ProviderRegistered'; readonly provider: string }
  | { readonly type: 'ProviderUpdated'; readonly provider: string };

export type MarketEventType = MarketEventBody['type'];

/** One entry of the event log; ids grow by one per event, in commit order. */
export type MarketEvent = MarketEventBody & {
  readonly id: number;
  readonly height: number;
  /** Milliseconds since the epoch. */
  readonly time: number;
};

export interface LedgerStatus {
  readonly height: number;
  /** Id of the newest event, 0 when there is none. */
  readonly lastEventId: number;
}

export interface FundAccountInput {
  readonly address: string;
  readonly amount: Coin;
  /** Records the account's public key (hex) if it has none yet. */
  readonly pubkey?: string;
}
export interface CreateDeploymentInput {
  readonly owner: string;
  readonly groups: readonly GroupSpec[];
  readonly hash: string;
  readonly deposit: Coin;
  /** Defaults to the current height, or the owner's last dseq + 1 if that is taken. */
  readonly dseq?: string;
}
export interface UpdateDeploymentInput {
  readonly id: DeploymentId;
  readonly hash: string;
}
export interface DepositInput {
  readonly id: DeploymentId;
  readonly amount: Coin;
}
export interface RegisterProviderInput {
  readonly address: string;
  readonly hostUri: string;
  readonly attributes: readonly Attribute[];
}
export interface CreateBidInput {
  readonly order: OrderId;
  readonly provider: string;
  readonly price: DecCoin;
}
export interface CloseLeaseInput {
  readonly id: LeaseId;
  /** The account closing it: the lease's owner or its provider. */
  readonly actor: string;
}

export interface DeploymentFilter {
  readonly owner?: string;
  readonly state?: DeploymentState;
}
export interface OrderFilter {
  readonly owner?: string;
  readonly dseq?: string;
  readonly state?: OrderState;
}
export interface BidFilter {
  readonly owner?: string;
  readonly dseq?: string;
  readonly gseq?: number;
  readonly oseq?: number;
  readonly provider?: string;
  readonly state?: BidState;
}
export interface LeaseFilter {
  readonly owner?: string;
  readonly dseq?: string;
  readonly provider?: string;
  readonly state?: LeaseState;
}

export type CertificateState = 'valid' | 'revoked';
/** An account certificate as Akash's cert module keeps it (`MsgCreateCertificate`), with its serial. */
export interface Certificate {
  readonly owner: string;
  /** The certificate's serial number in decimal; unique per owner. */
  readonly serial: string;
  readonly state: CertificateState;
  /** PEM `CERTIFICATE`. */
  readonly cert: string;
  /** PEM public key (SubjectPublicKeyInfo). */
  readonly pubkey: string;
  readonly createdHeight: number;
}
export interface CreateCertificateInput {
  readonly owner: string;
  readonly cert: string;
  readonly pubkey: string;
}
export interface CertificateId {
  readonly owner: string;
  readonly serial: string;
}
export interface CertificateFilter {
  readonly owner?: string;
  readonly serial?: string;
  readonly state?: CertificateState;
}

/** A value, or a promise of one: the in-process ledger answers synchronously, the HTTP client asynchronously. */
export type Awaitable<T> = T | Promise<T>;
type Answer<T> = Awaitable<Result<T, AppError>>;

/**
 * Everything the devnet chain offers. {@link Ledger} implements it in-process (synchronously) and
 * {@link LedgerClient} over HTTP; code that takes a `MarketLedger` must `await` each call.
 */
export interface MarketLedger {
  status(): Answer<LedgerStatus>;
  /** Events with id > `after`, oldest first, at most `limit` (default 100, max 1000). */
  eventsSince(after: number, limit?: number): Answer<readonly MarketEvent[]>;
  /** Mints uakt into an account (the devnet faucet), creating it if needed. */
  fundAccount(input: FundAccountInput): Answer<Account>;
  getAccount(address: string): Answer<Account>;
  /** Moves the block clock forward, settling every escrow; returns the new height. */
  advanceBlocks(count?: number): Answer<LedgerStatus>;

  createDeployment(input: CreateDeploymentInput): Answer<{
    readonly deployment: Deployment;
    readonly orders: readonly Order[];
  }>;
  updateDeployment(input: UpdateDeploymentInput): Answer<Deployment>;
  depositDeployment(input: DepositInput): Answer<Deployment>;
  closeDeployment(id: DeploymentId): Answer<Deployment>;
  getDeployment(id: DeploymentId): Answer<Deployment>;
  listDeployments(filter?: DeploymentFilter): Answer<readonly Deployment[]>;

  registerProvider(input: RegisterProviderInput): Answer<Provider>;
  getProvider(address: string): Answer<Provider>;
  listProviders(): Answer<readonly Provider[]>;

  getOrder(id: OrderId): Answer<Order>;
  listOrders(filter?: OrderFilter): Answer<readonly Order[]>;

  createBid(input: CreateBidInput): Answer<Bid>;
  /**
   * Withdraws a bid (by its provider); closing an active bid closes its lease too, unless `ifOpen`: then a bid that
   * is no longer open is left as it is (BID_NOT_OPEN), so a provider giving up on a bid never ends a lease won
   * meanwhile.
   */
  closeBid(id: BidId, options?: CloseBidOptions): Answer<Bid>;
  getBid(id: BidId): Answer<Bid>;
  listBids(filter?: BidFilter): Answer<readonly Bid[]>;

  /** Accepts a bid (by the order's owner). */
  createLease(bid: BidId): Answer<Lease>;
  closeLease(input: CloseLeaseInput): Answer<Lease>;
  getLease(id: LeaseId): Answer<Lease>;
  listLeases(filter?: LeaseFilter): Answer<readonly Lease[]>;

  /** Publishes an account certificate (by its owner): self-signed P-256, CN = the owner, serial not yet used. */
  createCertificate(input: CreateCertificateInput): Answer<Certificate>;
  /** Revokes a valid certificate (by its owner); it stays listed, in state `revoked`. */
  revokeCertificate(id: CertificateId): Answer<Certificate>;
  listCertificates(filter?: CertificateFilter): Answer<readonly Certificate[]>;
}
