/**
 * The IPAM contract: what the lease engine and the backends may rely on.
 * Everything here is pure data; the allocator performs no I/O.
 */
import type { AppError, Result } from '../errors/index.js';

export type Family = 'v4' | 'v6';
/** `dual` asks for one address of each family. */
export type FamilyRequest = Family | 'dual';
export type Protocol = 'TCP' | 'UDP';

/** Codes the IPAM core can return. */
export type IpamErrorCode =
  | 'POOL_EXHAUSTED'
  | 'IP_IN_USE'
  | 'PORT_IN_USE'
  | 'NOT_IN_POOL'
  | 'FAMILY_MISMATCH'
  | 'INVALID_ADDRESS'
  | 'POOL_OVERLAP'
  | 'QUARANTINED'
  | 'POOL_NOT_FOUND'
  | 'NOT_FOUND';
export type IpamError = AppError<IpamErrorCode>;

/** A named pool, with MetalLB `IPAddressPool` semantics. */
export interface PoolSpec {
  readonly name: string;
  /** CIDRs (`203.0.113.0/24`, `2001:db8::/64`) and inclusive ranges (`198.51.100.10-198.51.100.20`). */
  readonly addresses: readonly string[];
  /** When false, only explicit pins (`address`) or a named `pool` request draw from it. Default true. */
  readonly autoAssign?: boolean;
  /** Skip IPv4 addresses ending in .0 or .255. Default false. */
  readonly avoidBuggyIPs?: boolean;
  /** Single addresses, CIDRs or ranges that are never handed out. */
  readonly exclude?: readonly string[];
}

/** A port bound on a sharing key's address. */
export interface PortBinding {
  readonly port: number;
  readonly protocol: Protocol;
}

/** The addresses held by one sharing key (one endpoint of one lease). */
export interface Allocation {
  readonly key: string;
  /** The tenant that owns the key; quarantine lets only this owner reclaim a released address. */
  readonly owner: string;
  readonly pool: string;
  /** One address, or one per family for `dual`; canonical text form (RFC 5952 for IPv6). */
  readonly addresses: readonly string[];
  readonly ports: readonly PortBinding[];
}

export interface AllocateRequest {
  readonly key: string;
  readonly owner: string;
  /** Restrict to one pool (also allows pools with autoAssign=false). */
  readonly pool?: string;
  /** Default `v4`. */
  readonly family?: FamilyRequest;
  /** Pin exact addresses (one per requested family). */
  readonly addresses?: readonly string[];
  /**
   * The reservation this allocation fulfils: it may use the capacity that reservation holds, and the
   * reservation shrinks by one per address of its family. Without it, capacity held by reservations is
   * off limits (POOL_EXHAUSTED).
   */
  readonly reservation?: string;
}

/** Per pool and family counters; all exact, all O(1) to read. */
export interface Capacity {
  readonly pool: string;
  readonly family: Family;
  readonly capacity: bigint;
  readonly allocated: bigint;
  readonly reserved: bigint;
  readonly quarantined: bigint;
  readonly available: bigint;
}

/** A released address waiting out its cool-down. */
export interface QuarantineEntry {
  readonly address: string;
  readonly pool: string;
  readonly owner: string;
  /** The key that held it, so the same endpoint can reclaim it. */
  readonly key: string;
  readonly until: number;
}

/** Everything needed to rebuild an allocator after a restart. */
export interface IpamSnapshot {
  readonly allocations: readonly Allocation[];
  readonly quarantine: readonly QuarantineEntry[];
  readonly reservations: readonly {
    readonly id: string;
    readonly count: number;
    readonly family: FamilyRequest;
  }[];
}

export interface AllocatorOptions {
  readonly pools: readonly PoolSpec[];
  /** Cool-down of a released address before another owner may get it. Default 3_600_000 (1 hour). */
  readonly quarantineMs?: number;
  /** Milliseconds since the epoch; injected so tests control time. */
  readonly now?: () => number;
}

/** The shared-IP allocator. Every mutating call is all-or-nothing. */
export interface Allocator {
  /** Gives `key` an address (or returns its existing one, idempotently). A key whose owner released it within the quarantine gets the same address back. */
  allocate(request: AllocateRequest): Result<Allocation, IpamError>;
  /** Binds a port on the key's address(es); PORT_IN_USE if another key (or the same key) holds it. */
  bind(key: string, binding: PortBinding): Result<Allocation, IpamError>;
  /** Unbinds a port. With `keepAddress` (default false) the address stays even when no port is left. */
  unbind(
    key: string,
    binding: PortBinding,
    options?: { readonly keepAddress?: boolean },
  ): Result<Allocation | undefined, IpamError>;
  /** Releases the key's addresses into quarantine. Idempotent: an unknown key is ok. */
  release(key: string): Result<void, IpamError>;
  /** Hands a key's addresses and ports to another key and owner without releasing them (migration). */
  transfer(fromKey: string, toKey: string, toOwner: string): Result<Allocation, IpamError>;
  /**
   * Holds `count` addresses for a bid (`dual`: `count` of each family); too little capacity is
   * POOL_EXHAUSTED with `details.family` naming the family that ran out. Re-reserving the same id replaces it.
   */
  reserve(id: string, count: number, family?: FamilyRequest): Result<void, IpamError>;
  unreserve(id: string): void;
  lookup(key: string): Allocation | undefined;
  holderOf(address: string): Allocation | undefined;
  capacity(): readonly Capacity[];
  /** Addresses free for auto-assignment right now across pools of that family. */
  available(family?: Family): bigint;
  /** Replaces the pool set; addresses held outside the new pools are kept and reported. */
  setPools(pools: readonly PoolSpec[]): Result<{ readonly orphaned: readonly Allocation[] }, IpamError>;
  snapshot(): IpamSnapshot;
}
