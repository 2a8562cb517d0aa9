/**
 * The devnet marketplace: an embedded ledger standing in for the Akash chain (deployments, orders,
 * bids, leases, escrow, providers, an event log), its HTTP API and typed client, Akash attribute
 * matching, bid pricing, and the provider bid engine with its inventory gate.
 */
export {
  type AuditedAttributes,
  attributesSubsetOf,
  globMatch,
  matchRequirements,
  matchResourcesRequirements,
  validateAttributes,
} from './attributes.js';
export {
  type BidDecision,
  type BidderProfile,
  BidEngine,
  type BidEngineLedger,
  type BidEngineOptions,
  type BidGate,
  DEFAULT_BID_TIMEOUT_MS,
  type DecisionRecord,
  decideBid,
  describeDecision,
  evaluateOrder,
} from './bid-engine.js';
export { DEC_ONE, DEC_PLACES, formatDec, parseDec } from './dec.js';
export { groupMaxPrice, leasedIpCount, validateGroupSpec } from './group.js';
export { type ErrorBody, errorResponse } from './http-error.js';
export { jsonDepth, MAX_JSON_DEPTH, parseJsonExact, parseJsonText } from './json-text.js';
export {
  DEFAULT_MIN_DEPOSIT,
  Ledger,
  type LedgerOptions,
  MAX_BLOCKS_PER_ADVANCE,
  MAX_EVENTS_PER_PAGE,
} from './ledger.js';
export { createLedgerApi, DEFAULT_MAX_BODY_BYTES, type LedgerApiOptions } from './ledger-api.js';
export { DEFAULT_MAX_SKEW_MS, SIGNATURE_HEADERS, signRequest } from './ledger-auth.js';
export { LedgerClient, type LedgerClientOptions } from './ledger-client.js';
export { type BlockClockOptions, type LedgerServer, runBlockClock, serveLedger } from './ledger-server.js';
export {
  DEFAULT_AKT_USD,
  DEFAULT_BLOCK_SECONDS,
  DEFAULT_IP_USD_PER_MONTH,
  DEFAULT_MONTH_DAYS,
  DEFAULT_PRICING,
  type PriceQuote,
  type PricingConfig,
  quoteGroup,
} from './pricing.js';
export { groupSpecSchema, parseWith } from './schemas.js';
export {
  type Account,
  type Awaitable,
  type Bid,
  type BidFilter,
  type BidId,
  type BidState,
  type Certificate,
  type CertificateFilter,
  type CertificateId,
  type CertificateState,
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
  type DeploymentState,
  type DepositInput,
  type Escrow,
  type FundAccountInput,
  type Group,
  type GroupId,
  type Lease,
  type LeaseClosedReason,
  type LeaseFilter,
  type LeaseId,
  type LeaseState,
  type LedgerStatus,
  type MarketEvent,
  type MarketEventBody,
  type MarketEventType,
  type MarketLedger,
  type Order,
  type OrderFilter,
  type OrderId,
  type OrderState,
  type Provider,
  type RegisterProviderInput,
  type UpdateDeploymentInput,
} from './types.js';
