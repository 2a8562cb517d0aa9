/**
 * The shared-IP allocator.
 *
 * Layout, chosen so a million allocations stay cheap in time and heap:
 * - every address is named by its *index* (rank) inside its pool's assignable set, so the lowest free
 *   address is the smallest index missing from that pool's {@link IndexTree}, found in O(log n) without
 *   ever walking free space (an IPv6 /64 costs what a /24 does);
 * - each sharing key occupies a *slot*; per-slot data lives in parallel typed arrays, not objects;
 * - released addresses stay in the tree, marked quarantined, until a min-heap of deadlines expires them.
 *
 * Quarantine rules: a released address goes to nobody else for `quarantineMs`. Its previous owner gets it
 * back by allocating the same key (same families, same pool) or by pinning it. When a pool has nothing
 * free but quarantined addresses, other owners get POOL_EXHAUSTED: a cool-down is never cut short.
 *
 * Reservations hold capacity of the auto-assign pools of one family. An allocation that would eat into
 * held capacity fails with POOL_EXHAUSTED unless it names the reservation it fulfils
 * (`AllocateRequest.reservation`), which then shrinks by one per address of its family.
 */
import { appError, fail, ok, type Result } from '../errors/index.js';
import { formatAddress, formatIpv4Number, parseAddress } from './address.js';
import { type Index, IndexTree, toIndex } from './index-tree.js';
import { IndexedIntervals, type IntervalSet } from './interval-set.js';
import { type PoolPlan, parsePools } from './pools.js';
import type {
  AllocateRequest,
  Allocation,
  Allocator,
  AllocatorOptions,
  Capacity,
  Family,
  IpamError,
  IpamSnapshot,
  PoolSpec,
  PortBinding,
  QuarantineEntry,
} from './types.js';

const FAMILIES = ['v4', 'v6'] as const;
const DEFAULT_QUARANTINE_MS = 3_600_000;
const MAX_SAFE = 9007199254740991n;

// Slot states.
const FREE = 0;
const LIVE = 1;
const QUARANTINED = 2;

// Index column sentinels: no address of that family; index too large for a double (kept in `big`).
const NONE = -1;
const BIG = -2;

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
  /** Start of the only interval as a number, when that makes formatting a plain addition. */
  private readonly start4: number;

  constructor(
    readonly family: Family,
    set: IntervalSet,
  ) {
    this.members = new IndexedIntervals(set);
    this.capacity = this.members.size;
    this.capacityNum = toNumberOrInfinity(this.capacity);
    this.start4 = family === 'v4' && set.length === 1 ? Number(set[0]!.start) : -1;
  }

  address(index: Index): bigint {
    return this.members.nth(BigInt(index));
  }

  format(index: Index): string {
    if (this.start4 >= 0) return formatIpv4Number(this.start4 + (index as number));
    return formatAddress(this.family, this.address(index));
  }

  indexOf(address: bigint): Index | undefined {
    const rank = this.members.rank(address);
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
  }

  get name(): string {
    return this.plan.name;
  }

  get autoAssign(): boolean {
    return this.plan.autoAssign;
  }

  space(family: Family): Space | undefined {
    return family === 'v4' ? this.v4 : this.v6;
  }
}

/** An allocation whose addresses are in no current pool (after setPools shrank them away). */
interface Orphan {
  readonly pool: string;
  readonly v4: bigint | undefined;
  readonly v6: bigint | undefined;
}

interface Pick {
  readonly family: Family;
  readonly index: Index;
  /** A quarantined slot of the same owner that gives the address up, or -1. */
  readonly donor: number;
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

function familiesOf(request: AllocateRequest, pins: ReadonlyMap<Family, bigint> | undefined): Family[] {
  if (request.family === 'dual') return ['v4', 'v6'];
  if (request.family !== undefined) return [request.family];
  // Without a family, pins say which families are wanted.
  return pins === undefined ? ['v4'] : FAMILIES.filter((f) => pins.has(f));
}

function describe(families: readonly Family[]): string {
  return families.map((f) => (f === 'v4' ? 'IPv4' : 'IPv6')).join('+');
}

class SharedIpAllocator implements Allocator {
  private pools: Pool[] = [];
  private poolByName = new Map<string, Pool>();
  private readonly quarantineMs: number;
  private readonly now: () => number;

  /** Live key → slot; a quarantined slot stays reachable by its key until that key is used again. */
  private readonly keys = new Map<string, number>();

  // Slot columns.
  private slotCount = 0;
  private readonly freeSlots: number[] = [];
  private keyOf: string[] = [];
  private ownerOf: string[] = [];
  private portsOf: (number[] | undefined)[] = [];
  private poolOf = new Int32Array(1024);
  private v4At = new Float64Array(1024);
  private v6At = new Float64Array(1024);
  private state = new Uint8Array(1024);
  private until = new Float64Array(1024);
  private gen = new Uint32Array(1024);
  /** Indexes beyond 2^53, keyed by slot * 2 + (v6 ? 1 : 0). */
  private readonly big = new Map<number, bigint>();
  private readonly orphans = new Map<number, Orphan>();
  private readonly orphanAt = new Map<string, number>();

  // Quarantine deadlines: a binary min-heap over (until, slot, generation); stale entries are skipped.
  private heapUntil: number[] = [];
  private heapSlot: number[] = [];
  private heapGen: number[] = [];

  private readonly reservations = new Map<string, { count: number; family: Family }>();
  private readonly reserved = { v4: 0, v6: 0 };
  /** Capacity of auto-assign pools and how much of it is allocated or quarantined. */
  private autoCapacity = { v4: 0n, v6: 0n };
  private autoCapacityNum = { v4: 0, v6: 0 };
  private readonly autoTaken = { v4: 0, v6: 0 };

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
        if (pins.has(parsed.value.family)) {
          return err(
            'FAMILY_MISMATCH',
            `two ${describe([parsed.value.family])} addresses pinned for one key`,
          );
        }
        pins.set(parsed.value.family, parsed.value.value);
      }
    }
    const families = familiesOf(request, pins);
    if (pins !== undefined && (pins.size !== families.length || families.some((f) => !pins.has(f)))) {
      return err('FAMILY_MISMATCH', `pinned addresses do not match the requested family ${request.family}`);
    }
    const existing = this.keys.get(request.key);
    if (existing !== undefined && this.state[existing] === LIVE) {
      return this.confirm(existing, request, families, pins);
    }
    if (request.pool !== undefined && !this.poolByName.has(request.pool)) {
      return err('POOL_NOT_FOUND', `no pool named "${request.pool}"`, { pool: request.pool });
    }
    if (pins !== undefined) return this.allocatePinned(request, families, pins);
    if (existing !== undefined && this.reclaimable(existing, request, families)) {
      return ok(this.reclaim(existing, request));
    }
    return this.allocateFresh(request, families);
  }

  bind(key: string, binding: PortBinding): Result<Allocation, IpamError> {
    const code = portCode(binding);
    const slot = this.liveSlot(key);
    if (slot === undefined) return this.unknownKey(key);
    const ports = this.portsOf[slot] ?? [];
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
    this.portsOf[slot] = ports;
    return ok(this.view(slot));
  }

  unbind(
    key: string,
    binding: PortBinding,
    options?: { readonly keepAddress?: boolean },
  ): Result<Allocation | undefined, IpamError> {
    const code = portCode(binding);
    const slot = this.liveSlot(key);
    if (slot === undefined) return this.unknownKey(key);
    const ports = this.portsOf[slot];
    const at = ports === undefined ? -1 : ports.indexOf(code);
    // Unbinding a port that is not bound changes nothing, so a repeated unbind is harmless.
    if (ports === undefined || at < 0) return ok(this.view(slot));
    ports.splice(at, 1);
    if (ports.length > 0 || options?.keepAddress === true) return ok(this.view(slot));
    this.releaseSlot(slot);
    return ok(undefined);
  }

  release(key: string): Result<void, IpamError> {
    this.sweep();
    const slot = this.liveSlot(key);
    if (slot !== undefined) this.releaseSlot(slot);
    return ok(undefined);
  }

  transfer(fromKey: string, toKey: string, toOwner: string): Result<Allocation, IpamError> {
    this.sweep();
    const slot = this.liveSlot(fromKey);
    if (slot === undefined) return this.unknownKey(fromKey);
    if (toKey !== fromKey && this.liveSlot(toKey) !== undefined) {
      return err('IP_IN_USE', `key "${toKey}" already holds an allocation`, { key: toKey });
    }
    this.keys.delete(fromKey);
    this.keys.set(toKey, slot);
    this.keyOf[slot] = toKey;
    this.ownerOf[slot] = toOwner;
    return ok(this.view(slot));
  }

  reserve(id: string, count: number, family: Family = 'v4'): Result<void, IpamError> {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`reservation count must be a non-negative integer, got ${count}`);
    }
    this.sweep();
    const previous = this.reservations.get(id);
    const others = this.reserved[family] - (previous?.family === family ? previous.count : 0);
    const free = this.autoCapacity[family] - BigInt(this.autoTaken[family]);
    if (BigInt(others + count) > free) {
      const available = free > BigInt(others) ? free - BigInt(others) : 0n;
      return err(
        'POOL_EXHAUSTED',
        `cannot reserve ${count} ${describe([family])} addresses: ${available} available`,
        { requested: count, available: available.toString(), family },
      );
    }
    if (previous !== undefined) this.reserved[previous.family] -= previous.count;
    this.reservations.set(id, { count, family });
    this.reserved[family] += count;
    return ok(undefined);
  }

  unreserve(id: string): void {
    const previous = this.reservations.get(id);
    if (previous === undefined) return;
    this.reserved[previous.family] -= previous.count;
    this.reservations.delete(id);
  }

  lookup(key: string): Allocation | undefined {
    const slot = this.liveSlot(key);
    return slot === undefined ? undefined : this.view(slot);
  }

  holderOf(address: string): Allocation | undefined {
    const parsed = parseAddress(address);
    if (!parsed.ok) return undefined;
    const { family, value } = parsed.value;
    const located = this.locate(family, value);
    const slot =
      located === undefined
        ? this.orphanAt.get(`${family}:${value}`)
        : located.pool.space(family)!.taken.get(located.index);
    return slot !== undefined && slot >= 0 && this.state[slot] === LIVE ? this.view(slot) : undefined;
  }

  capacity(): readonly Capacity[] {
    this.sweep();
    const unattributed = { v4: BigInt(this.reserved.v4), v6: BigInt(this.reserved.v6) };
    const rows: Capacity[] = [];
    for (const pool of this.pools) {
      for (const family of FAMILIES) {
        const space = pool.space(family);
        if (space === undefined) continue;
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
    const used: number[] = [];
    const at4: (bigint | undefined)[] = [];
    const at6: (bigint | undefined)[] = [];
    const poolNames: string[] = [];
    for (let slot = 0; slot < this.slotCount; slot++) {
      if (this.state[slot] === FREE) continue;
      used.push(slot);
      at4.push(this.addressOf(slot, 'v4'));
      at6.push(this.addressOf(slot, 'v6'));
      poolNames.push(this.poolNameOf(slot));
    }
    this.installPools(plans.value);
    this.home(used, at4, at6, poolNames);
    const orphaned: Allocation[] = [];
    for (const slot of this.orphans.keys()) orphaned.push(this.view(slot));
    return ok({ orphaned });
  }

  snapshot(): IpamSnapshot {
    this.sweep();
    const allocations: Allocation[] = [];
    const quarantine: QuarantineEntry[] = [];
    for (let slot = 0; slot < this.slotCount; slot++) {
      const state = this.state[slot];
      if (state === LIVE) allocations.push(this.view(slot));
      if (state !== QUARANTINED) continue;
      const pool = this.pools[this.poolOf[slot]!]!;
      for (const family of FAMILIES) {
        const index = this.indexOf(slot, family);
        if (index === undefined) continue;
        quarantine.push({
          address: pool.space(family)!.format(index),
          pool: pool.name,
          owner: this.ownerOf[slot]!,
          key: this.keyOf[slot]!,
          until: this.until[slot]!,
        });
      }
    }
    const reservations = [...this.reservations].map(([id, r]) => ({ id, count: r.count, family: r.family }));
    return { allocations, quarantine, reservations };
  }

  // ── restore ──────────────────────────────────────────────────────────────────────────────────

  /** Loads a snapshot into an empty allocator: allocations first, then quarantine, then reservations. */
  restore(snapshot: IpamSnapshot): Result<void, IpamError> {
    const used: number[] = [];
    const at4: (bigint | undefined)[] = [];
    const at6: (bigint | undefined)[] = [];
    const poolNames: string[] = [];
    const addresses = (texts: readonly string[], what: string): Result<Map<Family, bigint>, IpamError> => {
      const byFamily = new Map<Family, bigint>();
      for (const text of texts) {
        const parsed = parseAddress(text);
        if (!parsed.ok) return parsed;
        if (byFamily.has(parsed.value.family)) {
          return err('FAMILY_MISMATCH', `${what} holds two addresses of one family`);
        }
        byFamily.set(parsed.value.family, parsed.value.value);
      }
      if (byFamily.size === 0) return err('FAMILY_MISMATCH', `${what} holds no address`);
      return ok(byFamily);
    };
    for (const allocation of snapshot.allocations) {
      const { key } = allocation;
      if (this.keys.has(key)) return err('IP_IN_USE', `key "${key}" appears twice in the snapshot`, { key });
      const parsed = addresses(allocation.addresses, `allocation "${key}"`);
      if (!parsed.ok) return parsed;
      const codes: number[] = [];
      for (const binding of allocation.ports) codes.push(portCode(binding));
      codes.sort((a, b) => a - b);
      for (let i = 1; i < codes.length; i++) {
        if (codes[i] === codes[i - 1]) {
          const port = decodePort(codes[i]!);
          return err('PORT_IN_USE', `${port.protocol} port ${port.port} is bound twice on key "${key}"`, {
            key,
          });
        }
      }
      const slot = this.takeSlot(key, allocation.owner, LIVE);
      if (codes.length > 0) this.portsOf[slot] = codes;
      this.keys.set(key, slot);
      used.push(slot);
      at4.push(parsed.value.get('v4'));
      at6.push(parsed.value.get('v6'));
      poolNames.push(allocation.pool);
    }
    const groups = new Map<string, number>();
    for (const entry of snapshot.quarantine) {
      const parsed = parseAddress(entry.address);
      if (!parsed.ok) return parsed;
      const { family, value } = parsed.value;
      const group = `${entry.key}\u0000${entry.owner}\u0000${entry.pool}\u0000${entry.until}`;
      let position = groups.get(group);
      // One released key may show up as one entry per family; they are one slot again.
      if (position === undefined || (family === 'v4' ? at4 : at6)[position] !== undefined) {
        const slot = this.takeSlot(entry.key, entry.owner, QUARANTINED);
        this.until[slot] = entry.until;
        position = used.length;
        groups.set(group, position);
        used.push(slot);
        at4.push(undefined);
        at6.push(undefined);
        poolNames.push(entry.pool);
        const holder = this.keys.get(entry.key);
        if (
          holder === undefined ||
          (this.state[holder] === QUARANTINED && this.until[holder]! <= entry.until)
        ) {
          this.keys.set(entry.key, slot);
        }
      }
      (family === 'v4' ? at4 : at6)[position] = value;
    }
    const homed = this.home(used, at4, at6, poolNames);
    if (!homed.ok) return homed;
    for (let slot = 0; slot < this.slotCount; slot++) {
      if (this.state[slot] === QUARANTINED) this.heapPush(this.until[slot]!, slot, this.gen[slot]!);
    }
    for (const { id, count, family } of snapshot.reservations) {
      if (!Number.isSafeInteger(count) || count < 0) {
        throw new RangeError(`reservation count must be a non-negative integer, got ${count}`);
      }
      this.unreserve(id);
      this.reservations.set(id, { count, family });
      this.reserved[family] += count;
    }
    return ok(undefined);
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
    if (this.ownerOf[slot] !== request.owner) {
      return err('IP_IN_USE', `key "${key}" is held by another owner`, { key });
    }
    const held = FAMILIES.filter((f) => this.indexOf(slot, f) !== undefined);
    if (held.length !== families.length || held.some((f) => !families.includes(f))) {
      return err(
        'FAMILY_MISMATCH',
        `key "${key}" already holds ${describe(held)}, not ${describe(families)}`,
        {
          key,
        },
      );
    }
    if (request.pool !== undefined && request.pool !== this.poolNameOf(slot)) {
      return err(
        'NOT_IN_POOL',
        `key "${key}" already holds an address from pool "${this.poolNameOf(slot)}"`,
        {
          key,
          pool: request.pool,
        },
      );
    }
    if (pins !== undefined) {
      for (const [family, value] of pins) {
        if (this.addressOf(slot, family) !== value) {
          return err('IP_IN_USE', `key "${key}" already holds another address; release it before pinning`, {
            key,
          });
        }
      }
    }
    return ok(this.view(slot));
  }

  private allocatePinned(
    request: AllocateRequest,
    families: readonly Family[],
    pins: ReadonlyMap<Family, bigint>,
  ): Result<Allocation, IpamError> {
    let pool: Pool | undefined;
    const picks: Pick[] = [];
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
      if (holder < 0) {
        picks.push({ family, index: located.index, donor: -1 });
      } else if (this.state[holder] === LIVE) {
        return err('IP_IN_USE', `${text} is already allocated`, { address: text });
      } else if (this.ownerOf[holder] === request.owner) {
        picks.push({ family, index: located.index, donor: holder });
      } else {
        return err('QUARANTINED', `${text} was released recently and is cooling down`, {
          address: text,
          until: this.until[holder],
        });
      }
    }
    const fresh = picks.filter((p) => p.donor < 0).map((p) => p.family);
    const held = pool!.autoAssign ? this.heldBack(fresh, request) : undefined;
    return held ?? ok(this.commit(request, pool!, picks));
  }

  private allocateFresh(
    request: AllocateRequest,
    families: readonly Family[],
  ): Result<Allocation, IpamError> {
    let candidates: Pool[];
    if (request.pool !== undefined) {
      const pool = this.poolByName.get(request.pool)!;
      const missing = families.filter((f) => pool.space(f) === undefined);
      if (missing.length > 0) {
        return err('FAMILY_MISMATCH', `pool "${pool.name}" has no ${describe(missing)} addresses`, {
          pool: pool.name,
        });
      }
      candidates = [pool];
    } else {
      candidates = this.pools.filter((p) => p.autoAssign && families.every((f) => p.space(f) !== undefined));
      if (candidates.length === 0) {
        return err('FAMILY_MISMATCH', `no auto-assign pool offers ${describe(families)} addresses`);
      }
    }
    let heldBack: Failure | undefined;
    for (const pool of candidates) {
      const picks: Pick[] = [];
      for (const family of families) {
        const space = pool.space(family)!;
        const gap = space.taken.lowestGap();
        if (gap >= space.capacityNum) break;
        picks.push({ family, index: gap, donor: -1 });
      }
      if (picks.length < families.length) continue;
      heldBack = pool.autoAssign ? this.heldBack(families, request) : undefined;
      if (heldBack === undefined) return ok(this.commit(request, pool, picks));
    }
    return (
      heldBack ??
      err(
        'POOL_EXHAUSTED',
        `no free ${describe(families)} address${request.pool ? ` in pool "${request.pool}"` : ''}`,
        {
          family: request.family ?? 'v4',
        },
      )
    );
  }

  /** POOL_EXHAUSTED when taking one new auto-assign address per family would break a reservation. */
  private heldBack(families: readonly Family[], request: AllocateRequest): Failure | undefined {
    const reservation =
      request.reservation === undefined ? undefined : this.reservations.get(request.reservation);
    for (const family of families) {
      const fulfils = reservation !== undefined && reservation.family === family && reservation.count > 0;
      const spare = this.autoCapacityNum[family] - this.autoTaken[family] - this.reserved[family];
      if (spare + (fulfils ? 1 : 0) < 1) {
        return err('POOL_EXHAUSTED', `the free ${describe([family])} addresses are held by reservations`, {
          family,
          reserved: this.reserved[family],
        });
      }
    }
    return undefined;
  }

  private reclaimable(slot: number, request: AllocateRequest, families: readonly Family[]): boolean {
    if (this.state[slot] !== QUARANTINED || this.ownerOf[slot] !== request.owner) return false;
    if (request.pool !== undefined && request.pool !== this.poolNameOf(slot)) return false;
    const held = FAMILIES.filter((f) => this.indexOf(slot, f) !== undefined);
    return held.length === families.length && held.every((f) => families.includes(f));
  }

  /** Gives a quarantined slot back to its key; nothing moves in the trees. */
  private reclaim(slot: number, request: AllocateRequest): Allocation {
    const pool = this.pools[this.poolOf[slot]!]!;
    for (const family of FAMILIES) {
      if (this.indexOf(slot, family) === undefined) continue;
      const space = pool.space(family)!;
      space.quarantined--;
      space.allocated++;
      this.consumeReservation(request, family);
    }
    this.state[slot] = LIVE;
    return this.view(slot);
  }

  private commit(request: AllocateRequest, pool: Pool, picks: readonly Pick[]): Allocation {
    const slot = this.takeSlot(request.key, request.owner, LIVE);
    this.poolOf[slot] = pool.id;
    for (const { family, index, donor } of picks) {
      const space = pool.space(family)!;
      this.setIndex(slot, family, index);
      space.taken.set(index, slot);
      space.allocated++;
      if (donor >= 0) {
        space.quarantined--;
        this.setIndex(donor, family, undefined);
        if (this.indexOf(donor, 'v4') === undefined && this.indexOf(donor, 'v6') === undefined) {
          this.freeSlot(donor);
        }
      } else if (pool.autoAssign) {
        this.autoTaken[family]++;
      }
      this.consumeReservation(request, family);
    }
    this.keys.set(request.key, slot);
    return this.view(slot);
  }

  private consumeReservation(request: AllocateRequest, family: Family): void {
    if (request.reservation === undefined) return;
    const reservation = this.reservations.get(request.reservation);
    if (reservation === undefined || reservation.family !== family || reservation.count === 0) return;
    reservation.count--;
    this.reserved[family]--;
  }

  private releaseSlot(slot: number): void {
    this.portsOf[slot] = undefined;
    if (this.poolOf[slot]! < 0) {
      this.freeSlot(slot);
      return;
    }
    if (this.quarantineMs === 0) {
      this.dropAddresses(slot);
      this.freeSlot(slot);
      return;
    }
    const pool = this.pools[this.poolOf[slot]!]!;
    for (const family of FAMILIES) {
      if (this.indexOf(slot, family) === undefined) continue;
      const space = pool.space(family)!;
      space.allocated--;
      space.quarantined++;
    }
    this.state[slot] = QUARANTINED;
    this.until[slot] = this.now() + this.quarantineMs;
    this.gen[slot] = (this.gen[slot]! + 1) >>> 0;
    this.heapPush(this.until[slot]!, slot, this.gen[slot]!);
  }

  /** Removes a pooled slot's addresses from the trees and counters. */
  private dropAddresses(slot: number): void {
    const pool = this.pools[this.poolOf[slot]!]!;
    const live = this.state[slot] === LIVE;
    for (const family of FAMILIES) {
      const index = this.indexOf(slot, family);
      if (index === undefined) continue;
      const space = pool.space(family)!;
      space.taken.delete(index);
      if (live) space.allocated--;
      else space.quarantined--;
      if (pool.autoAssign) this.autoTaken[family]--;
    }
  }

  /** Expires every quarantine whose deadline has passed. */
  private sweep(): void {
    if (this.heapUntil.length === 0) return;
    const now = this.now();
    while (this.heapUntil.length > 0 && this.heapUntil[0]! <= now) {
      const slot = this.heapSlot[0]!;
      const generation = this.heapGen[0]!;
      this.heapPop();
      if (this.state[slot] === QUARANTINED && this.gen[slot] === generation) {
        this.dropAddresses(slot);
        this.freeSlot(slot);
      }
    }
  }

  // ── pools and homes ──────────────────────────────────────────────────────────────────────────

  private installPools(plans: readonly PoolPlan[]): void {
    this.pools = plans.map((plan, id) => new Pool(id, plan));
    this.poolByName = new Map(this.pools.map((p) => [p.name, p]));
    const capacity = { v4: 0n, v6: 0n };
    for (const pool of this.pools) {
      if (!pool.autoAssign) continue;
      for (const family of FAMILIES) capacity[family] += pool.space(family)?.capacity ?? 0n;
    }
    this.autoCapacity = capacity;
    this.autoCapacityNum = { v4: toNumberOrInfinity(capacity.v4), v6: toNumberOrInfinity(capacity.v6) };
  }

  /** The pool and index of an assignable address. */
  private locate(family: Family, value: bigint): Located | undefined {
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
  private home(
    used: readonly number[],
    at4: readonly (bigint | undefined)[],
    at6: readonly (bigint | undefined)[],
    poolNames: readonly string[],
  ): Result<void, IpamError> {
    this.big.clear();
    this.orphans.clear();
    this.orphanAt.clear();
    this.autoTaken.v4 = 0;
    this.autoTaken.v6 = 0;
    const pending = new Map<Space, { indexes: Index[]; slots: number[] }>();
    for (let i = 0; i < used.length; i++) {
      const slot = used[i]!;
      const v4 = at4[i];
      const v6 = at6[i];
      const four = v4 === undefined ? undefined : this.locate('v4', v4);
      const six = v6 === undefined ? undefined : this.locate('v6', v6);
      const pool = four?.pool ?? six?.pool;
      const homed =
        pool !== undefined &&
        (v4 === undefined || four?.pool === pool) &&
        (v6 === undefined || six?.pool === pool);
      if (!homed) {
        if (this.state[slot] === QUARANTINED) {
          this.freeSlot(slot);
          continue;
        }
        const orphan: Orphan = { pool: poolNames[i]!, v4, v6 };
        for (const [family, value] of [
          ['v4', v4],
          ['v6', v6],
        ] as const) {
          if (value === undefined) continue;
          const at = `${family}:${value}`;
          if (this.orphanAt.has(at)) {
            return err('IP_IN_USE', `${formatAddress(family, value)} is held twice`, {
              key: this.keyOf[slot],
            });
          }
          this.orphanAt.set(at, slot);
        }
        this.poolOf[slot] = -1;
        this.v4At[slot] = NONE;
        this.v6At[slot] = NONE;
        this.orphans.set(slot, orphan);
        continue;
      }
      this.poolOf[slot] = pool.id;
      for (const [family, located] of [
        ['v4', four],
        ['v6', six],
      ] as const) {
        this.setIndex(slot, family, located?.index);
        if (located === undefined) continue;
        const space = pool.space(family)!;
        let list = pending.get(space);
        if (list === undefined) {
          list = { indexes: [], slots: [] };
          pending.set(space, list);
        }
        list.indexes.push(located.index);
        list.slots.push(slot);
      }
    }
    for (const pool of this.pools) {
      for (const family of FAMILIES) {
        const space = pool.space(family);
        if (space === undefined) continue;
        const list = pending.get(space) ?? { indexes: [], slots: [] };
        const sorted = sortByIndex(list.indexes, list.slots, this.slotCount);
        for (let i = 1; i < sorted.keys.length; i++) {
          if (sorted.keys[i] === sorted.keys[i - 1]) {
            const text = space.format(sorted.keys[i]!);
            return err('IP_IN_USE', `${text} is held twice`, { address: text });
          }
        }
        space.taken = IndexTree.fromSorted(sorted.keys, sorted.vals);
        let quarantined = 0;
        for (const slot of sorted.vals) if (this.state[slot] === QUARANTINED) quarantined++;
        space.quarantined = quarantined;
        space.allocated = sorted.vals.length - quarantined;
        if (pool.autoAssign) this.autoTaken[family] += sorted.vals.length;
      }
    }
    return ok(undefined);
  }

  // ── slots ────────────────────────────────────────────────────────────────────────────────────

  private takeSlot(key: string, owner: string, state: number): number {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.slotCount++;
      if (slot === this.state.length) this.grow();
      this.keyOf.push(key);
      this.ownerOf.push(owner);
      this.portsOf.push(undefined);
    } else {
      this.keyOf[slot] = key;
      this.ownerOf[slot] = owner;
    }
    this.state[slot] = state;
    this.poolOf[slot] = -1;
    this.v4At[slot] = NONE;
    this.v6At[slot] = NONE;
    return slot;
  }

  private grow(): void {
    const size = this.state.length * 2;
    const widen = <T extends Int32Array | Float64Array | Uint8Array | Uint32Array>(
      old: T,
      make: (n: number) => T,
    ): T => {
      const next = make(size);
      next.set(old);
      return next;
    };
    this.poolOf = widen(this.poolOf, (n) => new Int32Array(n));
    this.v4At = widen(this.v4At, (n) => new Float64Array(n));
    this.v6At = widen(this.v6At, (n) => new Float64Array(n));
    this.state = widen(this.state, (n) => new Uint8Array(n));
    this.until = widen(this.until, (n) => new Float64Array(n));
    this.gen = widen(this.gen, (n) => new Uint32Array(n));
  }

  private freeSlot(slot: number): void {
    const key = this.keyOf[slot]!;
    if (this.keys.get(key) === slot) this.keys.delete(key);
    const orphan = this.orphans.get(slot);
    if (orphan !== undefined) {
      if (orphan.v4 !== undefined) this.orphanAt.delete(`v4:${orphan.v4}`);
      if (orphan.v6 !== undefined) this.orphanAt.delete(`v6:${orphan.v6}`);
      this.orphans.delete(slot);
    }
    this.big.delete(slot * 2);
    this.big.delete(slot * 2 + 1);
    this.state[slot] = FREE;
    this.keyOf[slot] = '';
    this.ownerOf[slot] = '';
    this.portsOf[slot] = undefined;
    this.freeSlots.push(slot);
  }

  private liveSlot(key: string): number | undefined {
    const slot = this.keys.get(key);
    return slot !== undefined && this.state[slot] === LIVE ? slot : undefined;
  }

  private indexOf(slot: number, family: Family): Index | undefined {
    const raw = (family === 'v4' ? this.v4At : this.v6At)[slot]!;
    if (raw === NONE) return undefined;
    return raw === BIG ? this.big.get(slot * 2 + (family === 'v4' ? 0 : 1)) : raw;
  }

  private setIndex(slot: number, family: Family, index: Index | undefined): void {
    const column = family === 'v4' ? this.v4At : this.v6At;
    const bigKey = slot * 2 + (family === 'v4' ? 0 : 1);
    this.big.delete(bigKey);
    if (index === undefined) {
      column[slot] = NONE;
    } else if (typeof index === 'number') {
      column[slot] = index;
    } else {
      column[slot] = BIG;
      this.big.set(bigKey, index);
    }
  }

  private addressOf(slot: number, family: Family): bigint | undefined {
    const orphan = this.orphans.get(slot);
    if (orphan !== undefined) return orphan[family];
    const index = this.indexOf(slot, family);
    return index === undefined ? undefined : this.pools[this.poolOf[slot]!]!.space(family)!.address(index);
  }

  private poolNameOf(slot: number): string {
    return this.orphans.get(slot)?.pool ?? this.pools[this.poolOf[slot]!]!.name;
  }

  private view(slot: number): Allocation {
    const addresses: string[] = [];
    const poolId = this.poolOf[slot]!;
    if (poolId < 0) {
      const orphan = this.orphans.get(slot)!;
      if (orphan.v4 !== undefined) addresses.push(formatAddress('v4', orphan.v4));
      if (orphan.v6 !== undefined) addresses.push(formatAddress('v6', orphan.v6));
    } else {
      const pool = this.pools[poolId]!;
      const v4 = this.indexOf(slot, 'v4');
      if (v4 !== undefined) addresses.push(pool.v4!.format(v4));
      const v6 = this.indexOf(slot, 'v6');
      if (v6 !== undefined) addresses.push(pool.v6!.format(v6));
    }
    const codes = this.portsOf[slot];
    return {
      key: this.keyOf[slot]!,
      owner: this.ownerOf[slot]!,
      pool: this.poolNameOf(slot),
      addresses,
      ports: codes === undefined ? [] : codes.map(decodePort),
    };
  }

  private unknownKey(key: string): Failure {
    return err('NOT_FOUND', `key "${key}" holds no allocation`, { key });
  }

  // ── quarantine heap ──────────────────────────────────────────────────────────────────────────

  private heapPush(until: number, slot: number, generation: number): void {
    const { heapUntil, heapSlot, heapGen } = this;
    let i = heapUntil.length;
    heapUntil.push(until);
    heapSlot.push(slot);
    heapGen.push(generation);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heapUntil[parent]! <= until) break;
      heapUntil[i] = heapUntil[parent]!;
      heapSlot[i] = heapSlot[parent]!;
      heapGen[i] = heapGen[parent]!;
      i = parent;
    }
    heapUntil[i] = until;
    heapSlot[i] = slot;
    heapGen[i] = generation;
  }

  private heapPop(): void {
    const { heapUntil, heapSlot, heapGen } = this;
    const until = heapUntil.pop()!;
    const slot = heapSlot.pop()!;
    const generation = heapGen.pop()!;
    const n = heapUntil.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && heapUntil[child + 1]! < heapUntil[child]!) child++;
      if (heapUntil[child]! >= until) break;
      heapUntil[i] = heapUntil[child]!;
      heapSlot[i] = heapSlot[child]!;
      heapGen[i] = heapGen[child]!;
      i = child;
    }
    heapUntil[i] = until;
    heapSlot[i] = slot;
    heapGen[i] = generation;
  }
}

/**
 * Sorts (index, slot) pairs by index. When every index is a number and index × slot-range fits a double,
 * the pairs are packed into one Float64Array and sorted natively, which is several times faster than a
 * comparator sort for a million entries.
 */
function sortByIndex(
  indexes: readonly Index[],
  slots: readonly number[],
  slotLimit: number,
): { keys: Index[]; vals: number[] } {
  const n = indexes.length;
  let largest = 0;
  let numeric = true;
  for (const index of indexes) {
    if (typeof index !== 'number') {
      numeric = false;
      break;
    }
    if (index > largest) largest = index;
  }
  const spread = 2 ** Math.ceil(Math.log2(slotLimit + 1));
  if (numeric && (largest + 1) * spread <= Number.MAX_SAFE_INTEGER) {
    const packed = new Float64Array(n);
    for (let i = 0; i < n; i++) packed[i] = (indexes[i] as number) * spread + slots[i]!;
    packed.sort();
    const keys: Index[] = new Array(n);
    const vals: number[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const v = packed[i]!;
      const slot = v % spread;
      keys[i] = (v - slot) / spread;
      vals[i] = slot;
    }
    return { keys, vals };
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => {
    const x = indexes[a]!;
    const y = indexes[b]!;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return { keys: order.map((i) => indexes[i]!), vals: order.map((i) => slots[i]!) };
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
