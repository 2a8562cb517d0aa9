/**
 * The lease engine's domain: leases, their IP declarations and endpoint states, the ledger rows the
 * store keeps, the audit trail, and the views the engine hands out. Pure data, no behaviour.
 */
import type { Allocation, Capacity, Family, FamilyRequest, Protocol } from '../ipam/index.js';

/** An on-chain lease, as Go's `mtypes.LeaseID` prints it. */
export interface LeaseId {
  readonly owner: string;
  /** uint64 as a decimal string. */
  readonly dseq: string;
  readonly gseq: number;
  readonly oseq: number;
  readonly provider: string;
}

/** An on-chain order: the lease ID without the provider. Reservations are keyed by it. */
export interface OrderId {
  readonly owner: string;
  readonly dseq: string;
  readonly gseq: number;
  readonly oseq: number;
}

/** One global expose bound to an IP endpoint: the unit that becomes a port on the leased address. */
export interface Declaration {
  readonly endpoint: string;
  readonly service: string;
  /** The container (target) port. */
  readonly port: number;
  /** The port on the leased address: the SDL `as`, or `port` when `as` is absent. */
  readonly externalPort: number;
  readonly protocol: Protocol;
}

/**
 * `active`: the endpoint holds an address. `pending`: it claims its name but the pool had no address.
 * `withheld`: another deployment of the same owner holds the name.
 */
export type EndpointState = 'active' | 'pending' | 'withheld';

/**
 * One endpoint of a lease; `since` is when it entered its state. `family` is what the endpoint asks for
 * (from its group's placement attributes); absent means `v4`, so records written before dual-stack read unchanged.
 */
export type EndpointRecord =
  | {
      readonly name: string;
      readonly state: 'active' | 'withheld';
      readonly since: number;
      readonly family?: FamilyRequest;
    }
  | {
      readonly name: string;
      readonly state: 'pending';
      readonly since: number;
      readonly reason: string;
      readonly family?: FamilyRequest;
    };

/** A lease as stored. Closed leases are kept (IDs are never reused on chain) but hold no endpoints. */
export interface LeaseRecord {
  readonly id: LeaseId;
  readonly state: 'active' | 'closed';
  /** The manifest group name. */
  readonly group: string;
  /** Canonically ordered (endpoint, external port, protocol, service, port). */
  readonly declarations: readonly Declaration[];
  /** Ordered by name. */
  readonly endpoints: readonly EndpointRecord[];
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly closedAt?: number;
}

/** An IPAM allocation plus the lease endpoint it belongs to. */
export interface AllocationRecord extends Allocation {
  /** The lease key (`owner/dseq/gseq/oseq/provider`). */
  readonly lease: string;
  readonly endpoint: string;
}

/** Addresses held for a bid until its lease deploys or its order ends. */
export interface ReservationRecord {
  /** The order key (`owner/dseq/gseq/oseq`). */
  readonly id: string;
  readonly owner: string;
  /** Endpoints held for; a `dual` reservation holds `count` addresses of each family. */
  readonly count: number;
  readonly family: FamilyRequest;
  readonly at: number;
}

export type AuditAction =
  | 'reserve'
  | 'unreserve'
  | 'allocate'
  | 'bind'
  | 'unbind'
  | 'pending'
  | 'withhold'
  | 'migrate'
  | 'release'
  | 'close';

/** One entry of the audit trail. */
export interface AuditEntry {
  readonly at: number;
  readonly actor: string;
  readonly action: AuditAction;
  readonly owner: string;
  /** The lease key, or the order key for reserve/unreserve. */
  readonly lease: string;
  readonly endpoint?: string;
  readonly address?: string;
  /** The external port, for bind/unbind. */
  readonly port?: number;
  readonly protocol?: Protocol;
  readonly detail?: string;
}

/** A stored audit entry; `id` grows with time. */
export interface AuditEvent extends AuditEntry {
  readonly id: number;
}

/** Filters are ANDed; results come oldest first, at most `limit` (default 1000) after `afterId`. */
export interface AuditQuery {
  readonly owner?: string;
  readonly address?: string;
  readonly lease?: string;
  readonly afterId?: number;
  readonly limit?: number;
}

/** An endpoint as the engine reports it. */
export interface EndpointView {
  readonly name: string;
  readonly state: EndpointState;
  readonly since: number;
  /** What the endpoint holds when active (a migrated endpoint keeps its addresses), else what it asks for. */
  readonly family: FamilyRequest;
  /** The leased addresses, IPv4 first; empty unless active. */
  readonly addresses: readonly string[];
  /** Why the endpoint is not active. */
  readonly reason?: string;
  /** For a withheld endpoint: the lease that holds the name. */
  readonly heldBy?: LeaseId;
}

/** A lease as the engine reports it; what a backend needs to program the address and its ports. */
export interface LeaseView {
  readonly id: LeaseId;
  readonly key: string;
  readonly state: 'active' | 'closed';
  readonly group: string;
  readonly declarations: readonly Declaration[];
  readonly endpoints: readonly EndpointView[];
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly closedAt?: number;
}

/** One entry of lease-status `ips`, with Go's capitalised field names and order. */
export interface LeasedIpStatus {
  readonly Port: number;
  readonly ExternalPort: number;
  readonly Protocol: Protocol;
  readonly IP: string;
}

/** An endpoint in the `ip_endpoints` field that lease-status adds next to `ips`. */
export interface EndpointStatus {
  readonly state: EndpointState;
  /** `v4`, `v6` or `dual` (one address of each). */
  readonly family: FamilyRequest;
  /** IPv4 first. */
  readonly addresses: readonly string[];
  /** The endpoint's address of each family, when active. */
  readonly ipv4?: string;
  readonly ipv6?: string;
  readonly reason?: string;
  readonly held_by?: { readonly dseq: string; readonly gseq: number; readonly oseq: number };
}

/**
 * The IP part of lease-status. `ips` is Akash's field, byte-compatible: keyed by manifest service, `null`
 * when the lease declares no IP endpoint. Endpoints that are not active are reported only in `ip_endpoints`,
 * so Akash clients that know nothing of it still parse `ips`.
 */
export interface LeaseIpStatus {
  readonly ips: Readonly<Record<string, readonly LeasedIpStatus[]>> | null;
  readonly ip_endpoints: Readonly<Record<string, EndpointStatus>>;
}

/** Leased-IP inventory in chain-sdk's `ResourcePair` terms, plus its breakdown. */
export interface LeasedIpInventory {
  readonly family: Family;
  /** Pool size; `allocatable` equals it, as in Go's `leasedIPStatus`. */
  readonly capacity: bigint;
  readonly allocatable: bigint;
  /** Addresses not available to a new bid: in use + reserved + quarantined. */
  readonly allocated: bigint;
  readonly inUse: bigint;
  readonly reserved: bigint;
  readonly quarantined: bigint;
  readonly available: bigint;
  readonly pools: readonly Capacity[];
}
