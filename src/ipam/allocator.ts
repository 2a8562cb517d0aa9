/**
 * The shared-IP allocator.
 *
 * Layout, chosen so a million allocations stay cheap in time and heap (about 100 bytes each):
 * - every address is named by its *index* (rank) inside its pool's assignable set, so the lowest free
 *   address is the smallest index missing from that pool's {@link IndexTree}, found in O(log n) without
 *   ever walking free space (an IPv6 /64 costs what a /24 does);
 * - each sharing key occupies a *slot* ({@link Slots}): four packed doubles and three references, no
 *   per-allocation objects; keys find their slot through a {@link KeyTable};
 * - released addresses stay in the tree, marked quarantined, until a {@link DeadlineQueue} expires them.
 *
 * Quarantine rules: a released address goes to nobody else for `quarantineMs`. Its previous owner gets it
 * back by allocating the same key (same families, same pool) or by pinning it. When a pool has nothing
 * free but quarantined addresses, other owners get POOL_EXHAUSTED: a cool-down is never cut short.
 *
 * Reservations hold capacity of the auto-assign pools of one family, or of both (`dual`: one address of
 * each per count). An allocation that would eat into held capacity fails with POOL_EXHAUSTED unless it
 * names the reservation it fulfils (`AllocateRequest.reservation`), which then shrinks by one when the
 * allocation holds every family the reservation counts.
 *
 * Pool changes never drop an allocation. One whose addresses are no longer all in one pool becomes an
 * *orphan*: kept, reported by setPools, and its addresses that still lie in a pool stay held there.
 */
import { appError, fail, ok, type Result } from '../errors/index.js';
import {
  formatAddress,
  formatIpv4Number,
  formatIpv6Groups,
  ipv6Groups,
  parseAddress,
  parseIpv4Number,
} from './address.js';
import { type Index, IndexTree, TreeBuilder, toIndex } from './index-tree.js';
import { IndexedIntervals, type IntervalSet } from './interval-set.js';
import { KeyTable } from './key-table.js';
import { type PoolPlan, parsePools } from './pools.js';
import { DeadlineQueue, FREE, LIVE, QUARANTINED, REFS, Slots } from './slots.js';
import type {
  AllocateRequest,
  Allocation,
  Allocator,
  AllocatorOptions,
  Capacity,
  Family,
  FamilyRequest,
  IpamError,
  IpamSnapshot,
  PoolSpec,
  PortBinding,
  QuarantineEntry,
} from './types.js';

const FAMILIES = ['v4', 'v6'] as const;
const ONLY_V4: readonly Family[] = ['v4'];
const ONLY_V6: readonly Family[] = ['v6'];
const NO_PORTS: readonly PortBinding[] = Object.freeze([]);
const DONE = Object.freeze(ok(undefined));
const DEFAULT_QUARANTINE_MS = 3_600_000;
const MAX_SAFE = 9007199254740991n;

/** No IPv4 address, in the number-typed IPv4 column of {@link Homes}. */
const NO_V4 = -1;

type Failure = { readonly ok: false; readonly error: IpamError };

function err(code: IpamError['code'], message: string, details?: Record<string, unknown>): Failure {
  return fail(appError(code, message, details));
}

function toNumberOrInfinity(value: bigint): number {
  return value > MAX_SAFE ? Number.POSITIVE_INFINITY : Number(value);
}

/** One family of one pool: its assignable addresses and who holds which index. */
class Space {
  readonly members: IndexedIntervals;
  readonly capacity: bigint;
  /** `capacity` as a number, or Infinity beyond 2^53 (counts never get there, so comparisons stay exact). */
  readonly capacityNum: number;
  /** Index → slot, for allocated and quarantined addresses. */
  taken = new IndexTree();
  allocated = 0;
  quarantined = 0;
  /** Start of the only IPv4 interval as a number, so formatting is a plain addition. */
  private readonly start4: number;
  /** Groups of the only IPv6 interval's start, so formatting needs no bigint arithmetic. */
  private readonly start6: readonly number[] | undefined;
  private readonly scratch: number[] = [0, 0, 0, 0, 0, 0, 0, 0];

  constructor(
    readonly family: Family,
    set: IntervalSet,
  ) {
    this.members = new IndexedIntervals(set);
    this.capacity = this.members.size;
    this.capacityNum = toNumberOrInfinity(this.capacity);
    this.start4 = family === 'v4' && set.length === 1 ? Number(set[0]!.start) : -1;
    this.start6 = family === 'v6' && set.length === 1 ? ipv6Groups(set[0]!.start) : undefined;
  }

  address(index: Index): bigint {
    return this.members.nth(BigInt(index));
  }

  format(index: Index): string {
    if (this.start4 >= 0) return formatIpv4Number(this.start4 + (index as number));
    if (this.start6 !== undefined && typeof index === 'number') {
      const { start6, scratch } = this;
      let carry = index;
      for (let i = 7; i >= 0; i--) {
        const sum = start6[i]! + (carry % 65536);
        carry = Math.floor(carry / 65536) + (sum >= 65536 ? 1 : 0);
        scratch[i] = sum % 65536;
      }
      return formatIpv6Groups(scratch);
    }
    return formatAddress(this.family, this.address(index));
  }

  /** The index of an address (an IPv4 one may come as a number), or undefined outside the space. */
  indexOf(address: bigint | number): Index | undefined {
    if (this.start4 >= 0 && typeof address === 'number') {
      const offset = address - this.start4;
      return offset >= 0 && offset < this.capacityNum ? offset : undefined;
    }
    const rank = this.members.rank(BigInt(address));
    return rank < 0n ? undefined : toIndex(rank);
  }

  free(): bigint {
    return this.capacity - BigInt(this.allocated + this.quarantined);
  }
}

class Pool {
  readonly v4: Space | undefined;
  readonly v6: Space | undefined;

  constructor(
    readonly id: number,
    readonly plan: PoolPlan,
  ) {
    this.v4 = plan.v4.length > 0 ? new Space('v4', plan.v4) : undefined;
    this.v6 = plan.v6.length > 0 ? new Space('v6', plan.v6) : undefined;
    this.spaces = [this.v4, this.v6].filter((s) => s !== undefined);
  }

  /** The pool's families that have addresses, IPv4 first. */
  readonly spaces: readonly Space[];

  get name(): string {
    return this.plan.name;
  }

  get autoAssign(): boolean {
    return this.plan.autoAssign;
  }

  space(family: Family): Space | undefined {
    return family === 'v4' ? this.v4 : this.v6;
  }

  offers(families: readonly Family[]): boolean {
    for (const family of families) if (this.space(family) === undefined) return false;
    return true;
  }
}

/** An allocation whose addresses are in no current pool (after setPools shrank them away). */
interface Orphan {
  readonly pool: string;
  readonly v4: bigint | undefined;
  readonly v6: bigint | undefined;
  /**
   * Its addresses that do lie in some pool (a dual allocation split by a pool change). They stay in that
   * pool's tree under the orphan's slot, so they are never handed out twice.
   */
  readonly homes: readonly Home[];
}

/** One address of a slot, placed in a pool. */
interface Home {
  readonly pool: Pool;
  readonly family: Family;
  readonly index: Index;
}

/** Slots to place into pools, with their addresses (IPv4 as numbers) and last known pool names. */
interface Homes {
  readonly slots: number[];
  readonly v4: number[];
  readonly v6: (bigint | undefined)[];
  readonly pools: string[];
}

interface Located {
  readonly pool: Pool;
  readonly index: Index;
}

const PROTOCOLS = ['TCP', 'UDP'] as const;

function portCode(binding: PortBinding): number {
  const { port, protocol } = binding;
  if (!Number.isInteger(port) || port < 1 || port > 65535 || (protocol !== 'TCP' && protocol !== 'UDP')) {
    throw new RangeError(`invalid port binding ${String(port)}/${String(protocol)}`);
  }
  return port * 2 + (protocol === 'UDP' ? 1 : 0);
}

function decodePort(code: number): PortBinding {
  return { port: Math.floor(code / 2), protocol: PROTOCOLS[code % 2]! };
}

function familiesOf(
  request: AllocateRequest,
  pins: ReadonlyMap<Family, bigint> | undefined,
): readonly Family[] {
  if (request.family === 'dual') return FAMILIES;
  if (request.family === 'v6') return ONLY_V6;
  if (request.family === 'v4') return ONLY_V4;
  // Without a family, pins say which families are wanted.
  return pins === undefined ? ONLY_V4 : FAMILIES.filter((f) => pins.has(f));
}

/** The families one count of a reservation holds. */
function reservedFamilies(family: FamilyRequest): readonly Family[] {
  return family === 'dual' ? FAMILIES : family === 'v6' ? ONLY_V6 : ONLY_V4;
}

/** Whether an allocation of `families` fulfils one count of the reservation (it holds all its families). */
function fulfils(reservation: Reservation | undefined, families: readonly Family[]): boolean {
  if (reservation === undefined || reservation.count === 0) return false;
  return reservedFamilies(reservation.family).every((family) => families.includes(family));
}

interface Reservation {
  count: number;
  readonly family: FamilyRequest;
}

function describe(families: readonly Family[]): string {
  return families.map((f) => (f === 'v4' ? 'IPv4' : 'IPv6')).join('+');
}

/**
 * The distinct values of `list` (integers in [0, end)) in ascending order, through a bitset: for a mass
 * expiry this is several times faster than sorting, and duplicates drop out on the way.
 */
function ascendingDistinct(list: readonly number[], end: number): Int32Array {
  const marks = new Uint32Array((end >>> 5) + 1);
  let count = 0;
  for (const value of list) {
    const bit = 1 << (value & 31);
    if ((marks[value >>> 5]! & bit) === 0) {
      marks[value >>> 5]! |= bit;
      count++;
    }
  }
  const out = new Int32Array(count);
  let at = 0;
  for (let word = 0; word < marks.length; word++) {
    for (let bits = marks[word]!; bits !== 0; bits &= bits - 1) {
      out[at++] = (word << 5) | (31 - Math.clz32(bits & -bits));
    }
  }
  return out;
}

class SharedIpAllocator implements Allocator {
  private pools: Pool[] = [];
  private poolByName = new Map<string, Pool>();
  private readonly quarantineMs: number;
  private readonly now: () => number;

  private readonly slots = new Slots();
  /** Key → the newest slot of its chain (see `older`). */
  private readonly keys = new KeyTable(this.slots.refs, REFS);
  private readonly deadlines = new DeadlineQueue();
  private readonly orphans = new Map<number, Orphan>();
  private readonly orphanAt = new Map<string, number>();
  /**
   * The slots of one key form a chain, newest first: its live slot if any, then its releases still cooling,
   * most recent first. Only the newest is in the key table, so reclaiming by key finds the latest release;
   * when the newest leaves (expired, transferred, pinned away, dropped by a pool change) the next one
   * resurfaces. Slot → next older / next newer slot of its key; absent for a key with one slot (most keys).
   */
  private readonly older = new Map<number, number>();
  private readonly newer = new Map<number, number>();

  private readonly reservations = new Map<string, Reservation>();
  private readonly reserved = { v4: 0, v6: 0 };
  /** Capacity of auto-assign pools, and how much of it is allocated or quarantined. */
  private autoCapacity = { v4: 0n, v6: 0n };
  private autoCapacityNum = { v4: 0, v6: 0 };
  private readonly autoTaken = { v4: 0, v6: 0 };
  /** Lowest free index per requested family, reused by every fresh allocation instead of a new list. */
  private readonly gaps: Index[] = [0, 0];

  constructor(options: AllocatorOptions, plans: readonly PoolPlan[]) {
    const quarantineMs = options.quarantineMs ?? DEFAULT_QUARANTINE_MS;
    if (!Number.isFinite(quarantineMs) || quarantineMs < 0) {
      throw new RangeError(`quarantineMs must be a finite non-negative number, got ${quarantineMs}`);
    }
    this.quarantineMs = quarantineMs;
    this.now = options.now ?? Date.now;
    this.installPools(plans);
  }

  // ── Allocator ────────────────────────────────────────────────────────────────────────────────

  allocate(request: AllocateRequest): Result<Allocation, IpamError> {
    this.sweep();
    let pins: Map<Family, bigint> | undefined;
    if (request.addresses !== undefined) {
      pins = new Map();
      for (const text of request.addresses) {
        const parsed = parseAddress(text);
        if (!parsed.ok) return parsed;
        const { family, value } = parsed.value;
        if (pins.has(family))
          return err('FAMILY_MISMATCH', `two ${describe([family])} addresses pinned for one key`);
        pins.set(family, value);
      }
    }
    const families = familiesOf(request, pins);
    if (pins !== undefined && (pins.size !== families.length || families.some((f) => !pins.has(f)))) {
      return err('FAMILY_MISMATCH', `pinned addresses do not match the requested family ${request.family}`);
    }
    const hash = this.keys.hash(request.key);
    const existing = this.keys.get(request.key, hash);
    if (existing >= 0 && this.slots.state(existing) === LIVE) {
      return this.confirm(existing, request, families, pins);
    }
    if (request.pool !== undefined && !this.poolByName.has(request.pool)) {
      return err('POOL_NOT_FOUND', `no pool named "${request.pool}"`, { pool: request.pool });
    }
    if (pins !== undefined) return this.allocatePinned(request, hash, families, pins);
    if (existing >= 0 && this.reclaimable(existing, request, families)) {
      return ok(this.reclaim(existing, request));
    }
    return this.allocateFresh(request, hash, families);
  }

  bind(key: string, binding: PortBinding): Result<Allocation, IpamError> {
    const code = portCode(binding);
    const slot = this.liveSlot(key);
    if (slot < 0) return this.unknownKey(key);
    const ports = this.slots.ports(slot) ?? [];
    let at = 0;
    while (at < ports.length && ports[at]! < code) at++;
    if (ports[at] === code) {
      return err('PORT_IN_USE', `${binding.protocol} port ${binding.port} is already bound on key "${key}"`, {
        key,
        port: binding.port,
        protocol: binding.protocol,
      });
    }
    ports.splice(at, 0, code);
    this.slots.setPorts(slot, ports);
    return ok(this.view(slot));
  }

  unbind(
    key: string,
    binding: PortBinding,
    options?: { readonly keepAddress?: boolean },
  ): Result<Allocation | undefined, IpamError> {
    const code = portCode(binding);
    const slot = this.liveSlot(key);
    if (slot < 0) return this.unknownKey(key);
    const ports = this.slots.ports(slot);
    const at = ports === undefined ? -1 : ports.indexOf(code);
    // Unbinding a port that is not bound changes nothing, so a repeated unbind is harmless.
    if (ports === undefined || at < 0) return ok(this.view(slot));
    ports.splice(at, 1);
    if (ports.length > 0 || options?.keepAddress === true) return ok(this.view(slot));
    this.sweep();
    this.releaseSlot(slot);
    return DONE;
  }

  release(key: string): Result<void, IpamError> {
    this.sweep();
    const slot = this.liveSlot(key);
    if (slot >= 0) this.releaseSlot(slot);
    return DONE;
  }

  transfer(fromKey: string, toKey: string, toOwner: string): Result<Allocation, IpamError> {
    this.sweep();
    const slot = this.liveSlot(fromKey);
    if (slot < 0) return this.unknownKey(fromKey);
    if (toKey !== fromKey && this.liveSlot(toKey) >= 0) {
      return err('IP_IN_USE', `key "${toKey}" already holds an allocation`, { key: toKey });
    }
    // The key table compares against the slot's key, so the slot leaves under its old key before it is renamed.
    this.leaveKey(slot);
    this.slots.setKey(slot, toKey);
    this.slots.setOwner(slot, toOwner);
    this.claimKey(toKey, slot);
    return ok(this.view(slot));
  }

  reserve(id: string, count: number, family: FamilyRequest = 'v4'): Result<void, IpamError> {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`reservation count must be a non-negative integer, got ${count}`);
    }
    this.sweep();
    const previous = this.reservations.get(id);
    const held: readonly Family[] = previous === undefined ? [] : reservedFamilies(previous.family);
    // Each family is checked on its own, so the error names the family that ran out.
    for (const wanted of reservedFamilies(family)) {
      const others = this.reserved[wanted] - (held.includes(wanted) ? previous!.count : 0);
      const free = this.autoCapacity[wanted] - BigInt(this.autoTaken[wanted]);
      if (BigInt(others + count) > free) {
        const available = free > BigInt(others) ? free - BigInt(others) : 0n;
        return err(
          'POOL_EXHAUSTED',
          `cannot reserve ${count} ${describe([wanted])} addresses: ${available} available`,
          { requested: count, available: available.toString(), family: wanted },
        );
      }
    }
    this.unreserve(id);
    this.hold(id, { count, family });
    return DONE;
  }

  unreserve(id: string): void {
    const previous = this.reservations.get(id);
    if (previous === undefined) return;
    for (const family of reservedFamilies(previous.family)) this.reserved[family] -= previous.count;
    this.reservations.delete(id);
  }

  private hold(id: string, reservation: Reservation): void {
    this.reservations.set(id, reservation);
    for (const family of reservedFamilies(reservation.family)) this.reserved[family] += reservation.count;
  }

  lookup(key: string): Allocation | undefined {
    const slot = this.liveSlot(key);
    return slot < 0 ? undefined : this.view(slot);
  }

  holderOf(address: string): Allocation | undefined {
    const parsed = parseAddress(address);
    if (!parsed.ok) return undefined;
    const { family, value } = parsed.value;
    const located = this.locate(family, value);
    const slot =
      located === undefined
        ? (this.orphanAt.get(`${family}:${value}`) ?? -1)
        : located.pool.space(family)!.taken.get(located.index);
    return slot >= 0 && this.slots.state(slot) === LIVE ? this.view(slot) : undefined;
  }

  capacity(): readonly Capacity[] {
    this.sweep();
    const unattributed = { v4: BigInt(this.reserved.v4), v6: BigInt(this.reserved.v6) };
    const rows: Capacity[] = [];
    for (const pool of this.pools) {
      for (const space of pool.spaces) {
        const { family } = space;
        const free = space.free();
        // Reservations are per family, not per pool: they are shown against auto-assign pools in order.
        let reserved = 0n;
        if (pool.autoAssign) {
          reserved = unattributed[family] < free ? unattributed[family] : free;
          unattributed[family] -= reserved;
        }
        rows.push({
          pool: pool.name,
          family,
          capacity: space.capacity,
          allocated: BigInt(space.allocated),
          reserved,
          quarantined: BigInt(space.quarantined),
          available: free - reserved,
        });
      }
    }
    return rows;
  }

  available(family: Family = 'v4'): bigint {
    this.sweep();
    const free = this.autoCapacity[family] - BigInt(this.autoTaken[family] + this.reserved[family]);
    return free > 0n ? free : 0n;
  }

  setPools(pools: readonly PoolSpec[]): Result<{ readonly orphaned: readonly Allocation[] }, IpamError> {
    const plans = parsePools(pools);
    if (!plans.ok) return plans;
    this.sweep();
    const homes: Homes = { slots: [], v4: [], v6: [], pools: [] };
    for (let slot = 0; slot < this.slots.end; slot++) {
      if (this.slots.state(slot) === FREE) continue;
      const v4 = this.addressOf(slot, 'v4');
      homes.slots.push(slot);
      homes.v4.push(v4 === undefined ? NO_V4 : Number(v4));
      homes.v6.push(this.addressOf(slot, 'v6'));
      homes.pools.push(this.poolNameOf(slot));
    }
    this.installPools(plans.value);
    this.home(homes);
    const orphaned: Allocation[] = [];
    for (const slot of this.orphans.keys()) orphaned.push(this.view(slot));
    return ok({ orphaned });
  }

  snapshot(): IpamSnapshot {
    this.sweep();
    const allocations: Allocation[] = [];
    const quarantine: QuarantineEntry[] = [];
    const { slots } = this;
    for (let slot = 0; slot < slots.end; slot++) {
      const state = slots.state(slot);
      if (state === LIVE) allocations.push(this.view(slot));
      if (state !== QUARANTINED) continue;
      const pool = this.pools[slots.pool(slot)]!;
      for (const space of pool.spaces) {
        const index = slots.index(slot, space.family);
        if (index === undefined) continue;
        quarantine.push({
          address: space.format(index),
          pool: pool.name,
          owner: slots.owner(slot),
          key: slots.key(slot),
          until: slots.until(slot),
        });
      }
    }
    const reservations = [...this.reservations].map(([id, r]) => ({ id, count: r.count, family: r.family }));
    return { allocations, quarantine, reservations };
  }

  // ── restore ──────────────────────────────────────────────────────────────────────────────────

  /** Loads a snapshot into an empty allocator: allocations first, then quarantine, then reservations. */
  restore(snapshot: IpamSnapshot): Result<void, IpamError> {
    const { slots } = this;
    const homes: Homes = { slots: [], v4: [], v6: [], pools: [] };
    this.keys.reserve(snapshot.allocations.length + snapshot.quarantine.length);
    slots.reserve(snapshot.allocations.length + snapshot.quarantine.length);
    for (const allocation of snapshot.allocations) {
      const { key } = allocation;
      const hash = this.keys.hash(key);
      if (this.keys.get(key, hash) >= 0)
        return err('IP_IN_USE', `key "${key}" appears twice in the snapshot`, { key });
      let v4 = NO_V4;
      let v6: bigint | undefined;
      for (const text of allocation.addresses) {
        // Most snapshots are mostly IPv4: read those without a bigint or a result object.
        const fast = parseIpv4Number(text);
        const parsed = fast >= 0 ? undefined : parseAddress(text);
        if (parsed !== undefined && !parsed.ok) return parsed;
        const family = parsed === undefined ? 'v4' : parsed.value.family;
        if (family === 'v4' ? v4 !== NO_V4 : v6 !== undefined) {
          return err('FAMILY_MISMATCH', `allocation "${key}" holds two addresses of one family`, { key });
        }
        if (parsed === undefined) v4 = fast;
        else if (family === 'v4') v4 = Number(parsed.value.value);
        else v6 = parsed.value.value;
      }
      if (v4 === NO_V4 && v6 === undefined) {
        return err('FAMILY_MISMATCH', `allocation "${key}" holds no address`, { key });
      }
      const codes =
        allocation.ports.length === 0 ? undefined : allocation.ports.map(portCode).sort((a, b) => a - b);
      for (let i = 1; codes !== undefined && i < codes.length; i++) {
        if (codes[i] === codes[i - 1]) {
          const port = decodePort(codes[i]!);
          return err('PORT_IN_USE', `${port.protocol} port ${port.port} is bound twice on key "${key}"`, {
            key,
          });
        }
      }
      const slot = slots.take(key, allocation.owner, LIVE);
      slots.setPorts(slot, codes);
      this.keys.set(key, slot, hash);
      homes.slots.push(slot);
      homes.v4.push(v4);
      homes.v6.push(v6);
      homes.pools.push(allocation.pool);
    }
    const groups = new Map<string, number>();
    /** Keys with more than one slot: chained once all are known. */
    const shared = new Map<string, number[]>();
    for (const entry of snapshot.quarantine) {
      const parsed = parseAddress(entry.address);
      if (!parsed.ok) return parsed;
      const { family, value } = parsed.value;
      const group = `${entry.key}\u0000${entry.owner}\u0000${entry.pool}\u0000${entry.until}`;
      let position = groups.get(group);
      // One released key shows up as one entry per family; they become one slot again.
      if (
        position === undefined ||
        (family === 'v4' ? homes.v4[position] !== NO_V4 : homes.v6[position] !== undefined)
      ) {
        const slot = slots.take(entry.key, entry.owner, QUARANTINED);
        slots.setUntil(slot, entry.until);
        position = homes.slots.length;
        groups.set(group, position);
        homes.slots.push(slot);
        homes.v4.push(NO_V4);
        homes.v6.push(undefined);
        homes.pools.push(entry.pool);
        const entryHash = this.keys.hash(entry.key);
        const head = this.keys.get(entry.key, entryHash);
        const chain = shared.get(entry.key);
        if (chain !== undefined) chain.push(slot);
        else if (head >= 0) shared.set(entry.key, [head, slot]);
        else this.keys.set(entry.key, slot, entryHash);
      }
      if (family === 'v4') homes.v4[position] = Number(value);
      else homes.v6[position] = value;
    }
    for (const [key, chain] of shared) {
      // Newest first: the live slot, then releases by deadline (with one quarantine period, by release time).
      chain.sort((a, b) => slots.state(a) - slots.state(b) || slots.until(b) - slots.until(a));
      this.keys.set(key, chain[0]!);
      for (let i = 1; i < chain.length; i++) this.link(chain[i - 1]!, chain[i]!);
    }
    const cooling: number[] = [];
    for (let slot = 0; slot < slots.end; slot++) if (slots.state(slot) === QUARANTINED) cooling.push(slot);
    cooling.sort((a, b) => slots.until(a) - slots.until(b));
    for (const slot of cooling) this.deadlines.push(slots.until(slot), slot);
    const homed = this.home(homes);
    if (!homed.ok) return homed;
    for (const { id, count, family } of snapshot.reservations) {
      if (!Number.isSafeInteger(count) || count < 0) {
        throw new RangeError(`reservation count must be a non-negative integer, got ${count}`);
      }
      this.unreserve(id);
      this.hold(id, { count, family });
    }
    return DONE;
  }

  // ── allocation paths ─────────────────────────────────────────────────────────────────────────

  /** An allocate call for a key that already holds addresses: idempotent when it asks for the same thing. */
  private confirm(
    slot: number,
    request: AllocateRequest,
    families: readonly Family[],
    pins: ReadonlyMap<Family, bigint> | undefined,
  ): Result<Allocation, IpamError> {
    const { key } = request;
    if (this.slots.owner(slot) !== request.owner) {
      return err('IP_IN_USE', `key "${key}" is held by another owner`, { key });
    }
    const held = this.familiesHeld(slot);
    if (held.length !== families.length || held.some((f) => !families.includes(f))) {
      return err(
        'FAMILY_MISMATCH',
        `key "${key}" already holds ${describe(held)}, not ${describe(families)}`,
        { key },
      );
    }
    const pool = this.poolNameOf(slot);
    if (request.pool !== undefined && request.pool !== pool) {
      return err('NOT_IN_POOL', `key "${key}" already holds an address from pool "${pool}"`, {
        key,
        pool: request.pool,
      });
    }
    for (const [family, value] of pins ?? []) {
      if (this.addressOf(slot, family) !== value) {
        return err('IP_IN_USE', `key "${key}" already holds another address; release it before pinning`, {
          key,
        });
      }
    }
    return ok(this.view(slot));
  }

  private allocatePinned(
    request: AllocateRequest,
    hash: number,
    families: readonly Family[],
    pins: ReadonlyMap<Family, bigint>,
  ): Result<Allocation, IpamError> {
    let pool: Pool | undefined;
    const indexes: Index[] = [];
    /** Per family, a quarantined slot of the same owner that gives the address up, or -1. */
    const donors: number[] = [];
    for (const family of families) {
      const value = pins.get(family)!;
      const text = formatAddress(family, value);
      const located = this.locate(family, value);
      if (located === undefined) {
        return err('NOT_IN_POOL', `${text} is not an assignable address of any pool`, { address: text });
      }
      if (request.pool !== undefined && located.pool.name !== request.pool) {
        return err('NOT_IN_POOL', `${text} is not in pool "${request.pool}"`, {
          address: text,
          pool: request.pool,
        });
      }
      if (pool !== undefined && pool !== located.pool) {
        return err('NOT_IN_POOL', 'both pinned addresses must come from one pool', { address: text });
      }
      pool = located.pool;
      const holder = pool.space(family)!.taken.get(located.index);
      if (holder >= 0 && this.slots.state(holder) === LIVE) {
        return err('IP_IN_USE', `${text} is already allocated`, { address: text });
      }
      if (holder < 0 || this.slots.owner(holder) === request.owner) {
        indexes.push(located.index);
        donors.push(holder);
      } else {
        return err('QUARANTINED', `${text} was released recently and is cooling down`, {
          address: text,
          until: this.slots.until(holder),
        });
      }
    }
    const fresh = families.filter((_, i) => donors[i]! < 0);
    const held = pool!.autoAssign ? this.heldBack(fresh, request, families) : undefined;
    return held ?? ok(this.commit(request, hash, pool!, families, indexes, donors));
  }

  private allocateFresh(
    request: AllocateRequest,
    hash: number,
    families: readonly Family[],
  ): Result<Allocation, IpamError> {
    const named = request.pool === undefined ? undefined : this.poolByName.get(request.pool)!;
    if (named !== undefined) {
      const missing = families.filter((f) => named.space(f) === undefined);
      if (missing.length > 0) {
        return err('FAMILY_MISMATCH', `pool "${named.name}" has no ${describe(missing)} addresses`, {
          pool: named.name,
        });
      }
    }
    let offered = false;
    let cooling = 0;
    /** The families that had no free address in some pool that offers the request. */
    const short = new Set<Family>();
    for (const pool of named === undefined ? this.pools : [named]) {
      if (named === undefined && !(pool.autoAssign && pool.offers(families))) continue;
      offered = true;
      const { gaps } = this;
      let found = 0;
      for (; found < families.length; found++) {
        const space = pool.space(families[found]!)!;
        const gap = space.taken.lowestGap();
        if (gap >= space.capacityNum) {
          cooling += space.quarantined;
          short.add(families[found]!);
          break;
        }
        gaps[found] = gap;
      }
      if (found < families.length) continue;
      // Reservations are per family across auto-assign pools, so if they block one pool they block all.
      const heldBack = pool.autoAssign ? this.heldBack(families, request) : undefined;
      return heldBack ?? ok(this.commit(request, hash, pool, families, gaps, undefined));
    }
    if (!offered) return err('FAMILY_MISMATCH', `no auto-assign pool offers ${describe(families)} addresses`);
    const where = named === undefined ? '' : ` in pool "${named.name}"`;
    const why = cooling > 0 ? ` (${cooling} released addresses are still in quarantine)` : '';
    return err('POOL_EXHAUSTED', `no free ${describe(families)} address${where}${why}`, {
      family: short.size === 1 ? [...short][0]! : (request.family ?? 'v4'),
      quarantined: cooling,
    });
  }

  /**
   * POOL_EXHAUSTED when taking one new auto-assign address of each of `fresh` would break a reservation;
   * `families` are all the allocation will hold (it may fulfil its own reservation with them).
   */
  private heldBack(
    fresh: readonly Family[],
    request: AllocateRequest,
    families: readonly Family[] = fresh,
  ): Failure | undefined {
    const reservation =
      request.reservation === undefined ? undefined : this.reservations.get(request.reservation);
    const own = fulfils(reservation, families) ? reservedFamilies(reservation!.family) : [];
    for (const family of fresh) {
      const spare = this.autoCapacityNum[family] - this.autoTaken[family] - this.reserved[family];
      if (spare + (own.includes(family) ? 1 : 0) < 1) {
        return err('POOL_EXHAUSTED', `the free ${describe([family])} addresses are held by reservations`, {
          family,
          reserved: this.reserved[family],
        });
      }
    }
    return undefined;
  }

  private reclaimable(slot: number, request: AllocateRequest, families: readonly Family[]): boolean {
    if (this.slots.state(slot) !== QUARANTINED || this.slots.owner(slot) !== request.owner) return false;
    if (request.pool !== undefined && request.pool !== this.poolNameOf(slot)) return false;
    const held = this.familiesHeld(slot);
    return held.length === families.length && held.every((f) => families.includes(f));
  }

  /** Gives a quarantined slot back to its key; nothing moves in the trees. */
  private reclaim(slot: number, request: AllocateRequest): Allocation {
    const pool = this.pools[this.slots.pool(slot)]!;
    for (const family of this.familiesHeld(slot)) {
      const space = pool.space(family)!;
      space.quarantined--;
      space.allocated++;
    }
    this.consumeReservation(request, this.familiesHeld(slot));
    this.slots.setState(slot, LIVE);
    return this.view(slot);
  }

  /**
   * Gives `key` a new slot holding `indexes[i]` of `families[i]`, each taken from `donors[i]` when that is
   * a slot (a quarantined one of the same owner) and fresh otherwise.
   */
  private commit(
    request: AllocateRequest,
    hash: number,
    pool: Pool,
    families: readonly Family[],
    indexes: readonly Index[],
    donors: readonly number[] | undefined,
  ): Allocation {
    const { slots } = this;
    const slot = slots.take(request.key, request.owner, LIVE);
    slots.setPool(slot, pool.id);
    for (let i = 0; i < families.length; i++) {
      const family = families[i]!;
      const index = indexes[i]!;
      const donor = donors === undefined ? -1 : donors[i]!;
      const space = pool.space(family)!;
      slots.setIndex(slot, family, index);
      space.taken.set(index, slot);
      space.allocated++;
      if (donor >= 0) {
        space.quarantined--;
        slots.setIndex(donor, family, undefined);
        if (slots.empty(donor)) this.freeSlot(donor);
      } else if (pool.autoAssign) {
        this.autoTaken[family]++;
      }
    }
    this.consumeReservation(request, families);
    this.claimKey(request.key, slot, hash);
    return this.view(slot);
  }

  private consumeReservation(request: AllocateRequest, families: readonly Family[]): void {
    if (request.reservation === undefined) return;
    const reservation = this.reservations.get(request.reservation);
    if (reservation === undefined || !fulfils(reservation, families)) return;
    reservation.count--;
    for (const family of reservedFamilies(reservation.family)) this.reserved[family]--;
  }

  private releaseSlot(slot: number): void {
    const { slots } = this;
    slots.setPorts(slot, undefined);
    const poolId = slots.pool(slot);
    if (poolId < 0) {
      this.releaseOrphan(slot);
      return;
    }
    const pool = this.pools[poolId]!;
    if (this.quarantineMs === 0) {
      for (const space of pool.spaces) {
        const index = slots.index(slot, space.family);
        if (index === undefined) continue;
        space.taken.delete(index);
        space.allocated--;
        if (pool.autoAssign) this.autoTaken[space.family]--;
      }
      this.freeSlot(slot);
      return;
    }
    for (const space of pool.spaces) {
      if (slots.index(slot, space.family) === undefined) continue;
      space.allocated--;
      space.quarantined++;
    }
    const until = this.now() + this.quarantineMs;
    slots.setState(slot, QUARANTINED);
    slots.setUntil(slot, until);
    this.deadlines.push(until, slot);
  }

  /** Releases an orphan: its addresses inside pools cool down there, the others are simply gone. */
  private releaseOrphan(slot: number): void {
    const { homes } = this.orphans.get(slot)!;
    const key = this.slots.key(slot);
    const owner = this.slots.owner(slot);
    for (const { pool, family, index } of homes) {
      const space = pool.space(family)!;
      space.taken.delete(index);
      space.allocated--;
      if (pool.autoAssign) this.autoTaken[family]--;
    }
    this.freeSlot(slot);
    if (this.quarantineMs === 0 || homes.length === 0) return;
    const cooling = this.coolDown(key, owner, this.now() + this.quarantineMs, homes, -1);
    for (const { slot: q, home } of cooling) {
      const space = home.pool.space(home.family)!;
      space.taken.set(home.index, q);
      space.quarantined++;
      if (home.pool.autoAssign) this.autoTaken[home.family]++;
    }
  }

  /**
   * Puts addresses into quarantine for `key`, one slot per pool (reusing `reuse` for the first when given),
   * with deadline entries for every new slot. The caller registers the returned homes in the trees.
   */
  private coolDown(
    key: string,
    owner: string,
    until: number,
    placed: readonly Home[],
    reuse: number,
  ): { slot: number; home: Home }[] {
    const { slots } = this;
    const out: { slot: number; home: Home }[] = [];
    const byPool = new Map<Pool, number>();
    // Slots split off a release are as old as it, so they queue right behind it in the key's chain.
    const release = reuse;
    for (const home of placed) {
      let q = byPool.get(home.pool);
      if (q === undefined) {
        if (reuse >= 0) {
          q = reuse;
          reuse = -1;
        } else {
          q = slots.take(key, owner, QUARANTINED);
          slots.setUntil(q, until);
          this.deadlines.push(until, q);
          if (release >= 0) this.joinBehind(release, q);
          else this.claimKey(key, q);
        }
        slots.setPool(q, home.pool.id);
        slots.setIndex(q, 'v4', undefined);
        slots.setIndex(q, 'v6', undefined);
        byPool.set(home.pool, q);
      }
      slots.setIndex(q, home.family, home.index);
      out.push({ slot: q, home });
    }
    if (reuse >= 0) this.freeSlot(reuse);
    return out;
  }

  /**
   * Expires every quarantine whose deadline has passed. A mass expiry (a big release an hour ago) rebuilds
   * the affected trees in one pass instead of deleting entry by entry.
   */
  private sweep(): void {
    const { deadlines, slots } = this;
    if (deadlines.size === 0) return;
    const now = this.now();
    if (deadlines.peek() > now) return;
    const due = deadlines.takeDue(now);
    // Entries go stale when their slot was reclaimed, or freed and reused; what matters is whether the slot
    // is cooling now with a deadline passed. Checking in slot order keeps a mass expiry's memory accesses
    // sequential, and ordering puts a slot listed twice next to itself.
    const order =
      due.length > 1024 && due.length * 32 >= slots.end
        ? ascendingDistinct(due, slots.end)
        : due.sort((a, b) => a - b);
    const expired = new Int32Array(order.length);
    let count = 0;
    for (let i = 0; i < order.length; i++) {
      const slot = order[i]!;
      if (slot !== order[i - 1] && slots.state(slot) === QUARANTINED && slots.until(slot) <= now)
        expired[count++] = slot;
    }
    // A mass expiry drops keys in one table rebuild; only a key with an older release still cooling is
    // handed to that one on the spot.
    const bulk = count * 4 > this.keys.size;
    // Trees losing many entries are rebuilt once; the others lose theirs one by one.
    const rebuild = new Set<Space>();
    for (let i = 0; i < count; i++) {
      const slot = expired[i]!;
      const pool = this.pools[slots.pool(slot)]!;
      for (const space of pool.spaces) {
        const index = slots.index(slot, space.family);
        if (index === undefined) continue;
        space.quarantined--;
        if (pool.autoAssign) this.autoTaken[space.family]--;
        if (rebuild.has(space)) continue;
        if (count * 8 > space.taken.size) rebuild.add(space);
        else space.taken.delete(index);
      }
      this.freeSlot(slot, bulk);
    }
    if (bulk) this.keys.deleteMany(expired.subarray(0, count));
    for (const space of rebuild) {
      if (space.allocated + space.quarantined === 0) space.taken = new IndexTree();
      else space.taken.retain((slot) => slots.state(slot) !== FREE);
    }
  }

  // ── pools and homes ──────────────────────────────────────────────────────────────────────────

  private installPools(plans: readonly PoolPlan[]): void {
    this.pools = plans.map((plan, id) => new Pool(id, plan));
    this.poolByName = new Map(this.pools.map((p) => [p.name, p]));
    const capacity = { v4: 0n, v6: 0n };
    for (const pool of this.pools) {
      if (!pool.autoAssign) continue;
      for (const space of pool.spaces) capacity[space.family] += space.capacity;
    }
    this.autoCapacity = capacity;
    this.autoCapacityNum = { v4: toNumberOrInfinity(capacity.v4), v6: toNumberOrInfinity(capacity.v6) };
  }

  /** The pool and index of an assignable address. */
  private locate(family: Family, value: bigint | number): Located | undefined {
    for (const pool of this.pools) {
      const index = pool.space(family)?.indexOf(value);
      if (index !== undefined) return { pool, index };
    }
    return undefined;
  }

  /**
   * Places used slots into the current pools and rebuilds every tree and counter in O(n log n).
   * A live slot whose addresses are not all in one pool becomes an orphan (kept, reported); a quarantined
   * one is dropped, since nobody can be handed an address outside the pools anyway.
   */
  private home(homes: Homes): Result<void, IpamError> {
    // Runs on spaces fresh from installPools or the constructor: their trees and counters are empty.
    const { slots } = this;
    this.orphans.clear();
    this.orphanAt.clear();
    this.autoTaken.v4 = 0;
    this.autoTaken.v6 = 0;
    const builders = new Map<Space, TreeBuilder>();
    const enqueue = (space: Space, index: Index, slot: number): void => {
      let builder = builders.get(space);
      if (builder === undefined) {
        // coolDown may create a slot per entry, so values can reach end + entries.
        builder = new TreeBuilder(slots.end + homes.slots.length, homes.slots.length);
        builders.set(space, builder);
      }
      builder.add(index, slot);
      if (slots.state(slot) === QUARANTINED) space.quarantined++;
      else space.allocated++;
    };
    for (let i = 0; i < homes.slots.length; i++) {
      const slot = homes.slots[i]!;
      const v4 = homes.v4[i]!;
      const v6 = homes.v6[i];
      const four = v4 === NO_V4 ? undefined : this.locate('v4', v4);
      const six = v6 === undefined ? undefined : this.locate('v6', v6);
      const pool = four?.pool ?? six?.pool;
      if (
        pool !== undefined &&
        (v4 === NO_V4 || four?.pool === pool) &&
        (v6 === undefined || six?.pool === pool)
      ) {
        slots.setPool(slot, pool.id);
        slots.setIndex(slot, 'v4', four?.index);
        slots.setIndex(slot, 'v6', six?.index);
        if (four !== undefined) enqueue(pool.v4!, four.index, slot);
        if (six !== undefined) enqueue(pool.v6!, six.index, slot);
        continue;
      }
      const placed: Home[] = [];
      if (four !== undefined) placed.push({ pool: four.pool, family: 'v4', index: four.index });
      if (six !== undefined) placed.push({ pool: six.pool, family: 'v6', index: six.index });
      if (slots.state(slot) === QUARANTINED) {
        // What is still inside a pool keeps cooling down there; the rest is gone.
        const cooling = this.coolDown(slots.key(slot), slots.owner(slot), slots.until(slot), placed, slot);
        for (const { slot: q, home } of cooling) enqueue(home.pool.space(home.family)!, home.index, q);
        continue;
      }
      const orphan: Orphan = {
        pool: homes.pools[i]!,
        v4: v4 === NO_V4 ? undefined : BigInt(v4),
        v6,
        homes: placed,
      };
      for (const [family, value] of [
        ['v4', four === undefined ? orphan.v4 : undefined],
        ['v6', six === undefined ? v6 : undefined],
      ] as const) {
        if (value === undefined) continue;
        const at = `${family}:${value}`;
        if (this.orphanAt.has(at)) {
          const key = slots.key(slot);
          return err('IP_IN_USE', `an address of key "${key}" is held twice`, { key });
        }
        this.orphanAt.set(at, slot);
      }
      slots.setPool(slot, -1);
      slots.setIndex(slot, 'v4', undefined);
      slots.setIndex(slot, 'v6', undefined);
      this.orphans.set(slot, orphan);
      for (const home of placed) enqueue(home.pool.space(home.family)!, home.index, slot);
    }
    for (const pool of this.pools) {
      for (const space of pool.spaces) {
        const built = (builders.get(space) ?? new TreeBuilder(0)).build();
        if (built.duplicate !== undefined) {
          const text = space.format(built.duplicate);
          return err('IP_IN_USE', `${text} is held twice`, { address: text });
        }
        space.taken = built.tree;
        if (pool.autoAssign) this.autoTaken[space.family] += space.taken.size;
      }
    }
    return DONE;
  }

  // ── slots ────────────────────────────────────────────────────────────────────────────────────

  /** Makes `slot` the newest of `key`'s chain. */
  private claimKey(key: string, slot: number, hash?: number): void {
    const previous = this.keys.set(key, slot, hash);
    if (previous >= 0 && previous !== slot) this.link(slot, previous);
  }

  /** Puts `slot` right behind `ahead` in its key's chain. */
  private joinBehind(ahead: number, slot: number): void {
    const behind = this.older.get(ahead);
    this.link(ahead, slot);
    if (behind !== undefined) this.link(slot, behind);
  }

  private link(newer: number, older: number): void {
    this.older.set(newer, older);
    this.newer.set(older, newer);
  }

  /**
   * Takes `slot` out of its key's chain (while the slot still has its key); if it was the newest, the next
   * older slot gets the key, else the key leaves the table unless `keysLater` (the caller drops it).
   */
  private leaveKey(slot: number, keysLater = false): void {
    // Most keys have one slot; then both chain maps are empty and a mass expiry skips two lookups per slot.
    if (this.older.size === 0) {
      if (!keysLater) this.keys.delete(slot);
      return;
    }
    const older = this.older.get(slot);
    const newer = this.newer.get(slot);
    if (older !== undefined) this.older.delete(slot);
    if (newer !== undefined) {
      this.newer.delete(slot);
      if (older === undefined) this.older.delete(newer);
      else this.link(newer, older);
    } else if (older !== undefined) {
      this.newer.delete(older);
      this.keys.set(this.slots.key(slot), older);
    } else if (!keysLater) {
      this.keys.delete(slot);
    }
  }

  /** Frees a slot; `keysLater` when the caller drops freed slots from the key table itself. */
  private freeSlot(slot: number, keysLater = false): void {
    const { slots } = this;
    this.leaveKey(slot, keysLater);
    if (slots.pool(slot) < 0) {
      const orphan = this.orphans.get(slot);
      if (orphan?.v4 !== undefined) this.orphanAt.delete(`v4:${orphan.v4}`);
      if (orphan?.v6 !== undefined) this.orphanAt.delete(`v6:${orphan.v6}`);
      this.orphans.delete(slot);
    }
    slots.free(slot);
  }

  /** The slot of a key holding live addresses, or -1. */
  private liveSlot(key: string): number {
    const slot = this.keys.get(key);
    return slot >= 0 && this.slots.state(slot) === LIVE ? slot : -1;
  }

  private familiesHeld(slot: number): readonly Family[] {
    const v4 = this.slots.index(slot, 'v4') !== undefined;
    const v6 = this.slots.index(slot, 'v6') !== undefined;
    return v4 ? (v6 ? FAMILIES : ONLY_V4) : v6 ? ONLY_V6 : [];
  }

  private addressOf(slot: number, family: Family): bigint | undefined {
    const orphan = this.orphans.get(slot);
    if (orphan !== undefined) return orphan[family];
    const index = this.slots.index(slot, family);
    return index === undefined ? undefined : this.pools[this.slots.pool(slot)]!.space(family)!.address(index);
  }

  private poolNameOf(slot: number): string {
    const poolId = this.slots.pool(slot);
    return poolId < 0 ? this.orphans.get(slot)!.pool : this.pools[poolId]!.name;
  }

  private view(slot: number): Allocation {
    const { slots } = this;
    const poolId = slots.pool(slot);
    const codes = slots.ports(slot);
    return {
      key: slots.key(slot),
      owner: slots.owner(slot),
      pool: this.poolNameOf(slot),
      addresses: poolId < 0 ? this.orphanAddresses(slot) : this.addressesIn(this.pools[poolId]!, slot),
      ports: codes === undefined || codes.length === 0 ? NO_PORTS : codes.map(decodePort),
    };
  }

  /** The slot's addresses in `pool`, IPv4 first, in an array of exactly that length (no spare capacity). */
  private addressesIn(pool: Pool, slot: number): string[] {
    const four = pool.v4 === undefined ? undefined : this.slots.index(slot, 'v4');
    const six = pool.v6 === undefined ? undefined : this.slots.index(slot, 'v6');
    if (four === undefined) return six === undefined ? [] : [pool.v6!.format(six)];
    return six === undefined ? [pool.v4!.format(four)] : [pool.v4!.format(four), pool.v6!.format(six)];
  }

  private orphanAddresses(slot: number): string[] {
    const orphan = this.orphans.get(slot)!;
    const addresses: string[] = [];
    if (orphan.v4 !== undefined) addresses.push(formatAddress('v4', orphan.v4));
    if (orphan.v6 !== undefined) addresses.push(formatAddress('v6', orphan.v6));
    return addresses;
  }

  private unknownKey(key: string): Failure {
    return err('NOT_FOUND', `key "${key}" holds no allocation`, { key });
  }
}

/**
 * Builds an allocator over `options.pools`, optionally restoring a snapshot (allocations first, so
 * addresses already handed out keep their holders, as MetalLB does on start-up). Fails with the pool
 * validation codes, or with the first conflict found in the snapshot.
 */
export function createAllocator(
  options: AllocatorOptions,
  snapshot?: IpamSnapshot,
): Result<Allocator, IpamError> {
  const plans = parsePools(options.pools);
  if (!plans.ok) return plans;
  const allocator = new SharedIpAllocator(options, plans.value);
  if (snapshot !== undefined) {
    const restored = allocator.restore(snapshot);
    if (!restored.ok) return restored;
  }
  return ok(allocator);
}
