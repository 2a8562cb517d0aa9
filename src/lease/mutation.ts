/**
 * The steps of every engine mutation, computed against a draft with the IPAM allocator. Nothing here
 * is durable: the engine commits the draft afterwards, or throws the allocator away and rebuilds it.
 */
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import type { AllocateRequest, Allocator, Family, FamilyRequest, PortBinding } from '../ipam/index.js';
import { type FamilyOffer, familiesOf } from './family.js';
import { endpointKey, leaseKey, nameKey, orderKey } from './ids.js';
import type { Draft } from './state.js';
import type {
  AllocationRecord,
  Declaration,
  EndpointRecord,
  LeaseId,
  LeaseRecord,
  OrderId,
  ReservationRecord,
} from './types.js';
import { withheldReason } from './views.js';

/** What a mutation needs to know about the engine's configuration. */
export interface MutationConfig {
  readonly pool: string | undefined;
  /** The family of an endpoint whose group asks for none. */
  readonly family: Family;
  /** What the pools can serve. */
  readonly offer: FamilyOffer;
  readonly hasPools: boolean;
  readonly quarantineMs: number;
}

/** One endpoint moving in a migration, between leases given as `At` (records while planning, ids once done). */
export interface EndpointMove<At> {
  readonly endpoint: string;
  readonly from: At;
  readonly to: At;
  readonly addresses: readonly string[];
  readonly unbind: readonly PortBinding[];
  readonly bind: readonly PortBinding[];
}

type PlannedMove = EndpointMove<LeaseRecord>;

export interface MigrationPlan {
  readonly destination: LeaseRecord;
  readonly moves: readonly PlannedMove[];
  /** Requested endpoints the destination already holds. */
  readonly unchanged: readonly string[];
}

export interface MigrationInput {
  readonly owner: string;
  readonly destination: { readonly dseq: string; readonly gseq: number };
  readonly endpoints: readonly string[];
  readonly source?: { readonly dseq: string };
}

const done = ok(undefined);

function tuple(declaration: Declaration): string {
  return `${declaration.service}/${declaration.port}/${declaration.externalPort}/${declaration.protocol}`;
}

function binding(declaration: Declaration): PortBinding {
  return { port: declaration.externalPort, protocol: declaration.protocol };
}

function byEndpoint(declarations: readonly Declaration[]): Map<string, Declaration[]> {
  const out = new Map<string, Declaration[]>();
  for (const declaration of declarations) {
    const list = out.get(declaration.endpoint);
    if (list === undefined) out.set(declaration.endpoint, [declaration]);
    else list.push(declaration);
  }
  return out;
}

function declarationsOfEndpoint(lease: LeaseRecord, endpoint: string): Declaration[] {
  return lease.declarations.filter((declaration) => declaration.endpoint === endpoint);
}

/** Declarations to unbind and to bind to go from `before` to `after`; any change of a port is both. */
function portDiff(
  before: readonly Declaration[],
  after: readonly Declaration[],
): { readonly unbind: Declaration[]; readonly bind: Declaration[] } {
  const old = new Set(before.map(tuple));
  const wanted = new Set(after.map(tuple));
  return {
    unbind: before.filter((declaration) => !wanted.has(tuple(declaration))),
    bind: after.filter((declaration) => !old.has(tuple(declaration))),
  };
}

function sameLease(a: LeaseRecord, b: LeaseRecord): boolean {
  return (
    a.state === b.state &&
    a.group === b.group &&
    JSON.stringify(a.declarations) === JSON.stringify(b.declarations) &&
    JSON.stringify(a.endpoints) === JSON.stringify(b.endpoints)
  );
}

const FAMILY_NAME: Readonly<Record<FamilyRequest, string>> = {
  v4: 'IPv4',
  v6: 'IPv6',
  dual: 'dual-stack (IPv4 and IPv6)',
};

/** NO_IP_SUPPORT naming the family the pools cannot serve. */
function familyUnsupported(family: FamilyRequest): { readonly ok: false; readonly error: AppError } {
  return fail(
    appError(
      'NO_IP_SUPPORT',
      family === 'dual'
        ? 'this provider leases no dual-stack (IPv4 and IPv6) endpoints: no pool holds both families'
        : `this provider leases no ${FAMILY_NAME[family]} addresses`,
      { family },
    ),
  );
}

function migrationError(message: string): { readonly ok: false; readonly error: AppError } {
  return fail(appError('MIGRATION_INVALID', message));
}

/** One mutation in progress. `touched` says the allocator changed and must be rebuilt if it is abandoned. */
export class Mutation {
  touched = false;

  constructor(
    readonly draft: Draft,
    private readonly allocator: Allocator,
    private readonly config: MutationConfig,
  ) {}

  private get now(): number {
    return this.draft.now;
  }

  /**
   * Gives an endpoint an address and binds its ports; a full pool leaves it pending instead. `pins`
   * asks for specific addresses (the owner's own, just released); if they cannot be had, any will do.
   */
  private allocate(
    id: LeaseId,
    name: string,
    family: FamilyRequest,
    declarations: readonly Declaration[],
    was: EndpointRecord | undefined,
    pins?: readonly string[],
  ): Result<EndpointRecord> {
    const lease = leaseKey(id);
    const key = endpointKey(lease, name);
    const tag = family === 'v4' ? {} : { family };
    const request: AllocateRequest = {
      key,
      owner: id.owner,
      family,
      ...(this.config.pool === undefined ? {} : { pool: this.config.pool }),
      ...(pins === undefined ? {} : { addresses: pins }),
    };
    const allocated = this.allocator.allocate(request);
    if (!allocated.ok) {
      if (pins !== undefined) return this.allocate(id, name, family, declarations, was);
      if (allocated.error.code !== 'POOL_EXHAUSTED' && allocated.error.code !== 'QUARANTINED') {
        return fail(allocated.error);
      }
      if (was?.state === 'pending') return ok(was);
      const reason = `no free address for endpoint "${name}": ${allocated.error.message}`;
      this.draft.record({ action: 'pending', owner: id.owner, lease, endpoint: name, detail: reason });
      return ok(Object.freeze({ name, state: 'pending', since: this.now, reason, ...tag }));
    }
    this.touched = true;
    const { addresses, pool } = allocated.value;
    for (const address of addresses) {
      if (this.draft.quarantine.get(address) !== undefined) this.draft.quarantine.set(address, undefined);
      this.draft.record({
        action: 'allocate',
        owner: id.owner,
        lease,
        endpoint: name,
        address,
        detail: `pool ${pool}`,
      });
    }
    this.draft.allocations.set(key, { ...allocated.value, lease, endpoint: name });
    const bound = this.rebind(id, name, [], declarations);
    if (!bound.ok) return bound;
    return ok(Object.freeze({ name, state: 'active', since: this.now, ...tag }));
  }

  /** Brings an active endpoint's ports from `before` to `after`: unbinds first, so a changed port is rebound. */
  private rebind(
    id: LeaseId,
    name: string,
    before: readonly Declaration[],
    after: readonly Declaration[],
  ): Result<void> {
    const { unbind, bind } = portDiff(before, after);
    if (unbind.length === 0 && bind.length === 0) return done;
    const lease = leaseKey(id);
    const key = endpointKey(lease, name);
    const current = this.draft.allocations.get(key);
    if (current === undefined) throw new Error(`rebind of ${key}, which holds no address`);
    const bound = new Set(current.ports.map((port) => `${port.port}/${port.protocol}`));
    const record = (action: 'bind' | 'unbind', declaration: Declaration): void => {
      for (const address of current.addresses) {
        this.draft.record({
          action,
          owner: id.owner,
          lease,
          endpoint: name,
          address,
          port: declaration.externalPort,
          protocol: declaration.protocol,
          detail: `service ${declaration.service} port ${declaration.port}`,
        });
      }
    };
    this.touched = true;
    for (const declaration of unbind) {
      const slot = `${declaration.externalPort}/${declaration.protocol}`;
      if (!bound.has(slot)) continue;
      const result = this.allocator.unbind(key, binding(declaration), { keepAddress: true });
      if (!result.ok) return result;
      bound.delete(slot);
      record('unbind', declaration);
    }
    for (const declaration of bind) {
      const result = this.allocator.bind(key, binding(declaration));
      if (!result.ok) return result;
      record('bind', declaration);
    }
    const allocation = this.allocator.lookup(key);
    if (allocation === undefined) throw new Error(`allocator lost ${key} while rebinding`);
    this.draft.allocations.set(key, { ...allocation, lease, endpoint: name });
    return done;
  }

  /** Releases an endpoint's address into quarantine; returns the released addresses. */
  private release(id: LeaseId, name: string, why: string): Result<readonly string[]> {
    const lease = leaseKey(id);
    const key = endpointKey(lease, name);
    const allocation = this.draft.allocations.get(key);
    if (allocation === undefined) return ok([]);
    const released = this.allocator.release(key);
    if (!released.ok) return released;
    this.touched = true;
    this.draft.allocations.set(key, undefined);
    for (const address of allocation.addresses) {
      if (this.config.quarantineMs > 0) {
        this.draft.quarantine.set(
          address,
          Object.freeze({
            address,
            pool: allocation.pool,
            owner: allocation.owner,
            key,
            until: this.now + this.config.quarantineMs,
          }),
        );
      }
      this.draft.record({ action: 'release', owner: id.owner, lease, endpoint: name, address, detail: why });
    }
    this.draft.released.set(nameKey(id.owner, name), allocation.addresses);
    return ok(allocation.addresses);
  }

  private dropReservation(id: string, owner: string, why: string): void {
    if (this.draft.reservations.get(id) === undefined) return;
    this.allocator.unreserve(id);
    this.touched = true;
    this.draft.reservations.set(id, undefined);
    this.draft.record({ action: 'unreserve', owner, lease: id, detail: why });
  }

  /**
   * Deploys or updates a lease: removed endpoints release their address; kept endpoints keep it and
   * have their ports brought in line; new endpoints get an address, or are withheld when another
   * deployment of the owner holds the name. Returns undefined for an unknown lease with no IP endpoint.
   */
  deploy(
    id: LeaseId,
    group: string,
    declarations: readonly Declaration[],
    requested: FamilyRequest | undefined,
    pins?: Readonly<Record<string, readonly string[]>>,
    reopen = false,
  ): Result<LeaseRecord | undefined> {
    const key = leaseKey(id);
    const stored = this.draft.leases.get(key);
    if (stored?.state === 'closed' && !reopen) {
      return fail(
        appError('LEASE_CLOSED', `lease ${key} is closed; a closed lease cannot be deployed again`),
      );
    }
    // A reopened lease starts from nothing; its endpoints reclaim their quarantined addresses by key.
    const previous = stored?.state === 'closed' ? undefined : stored;
    if (previous === undefined && declarations.length === 0) return ok(undefined);
    if (declarations.length > 0 && !this.config.hasPools) {
      return fail(appError('NO_IP_SUPPORT', 'this provider has no IP pool; it cannot lease IP endpoints'));
    }
    // A group's placement is fixed on chain, so an update asks what the deployment asked: without a group
    // spec, the family the lease's endpoints already have.
    const family: FamilyRequest =
      requested ?? (previous === undefined ? this.config.family : (previous.endpoints[0]?.family ?? 'v4'));
    if (previous === undefined && declarations.length > 0 && !this.config.offer[family]) {
      return familyUnsupported(family);
    }
    this.dropReservation(orderKey(id), id.owner, 'lease deployed');
    const wanted = byEndpoint(declarations);
    const had = byEndpoint(previous?.declarations ?? []);
    for (const endpoint of previous?.endpoints ?? []) {
      if (endpoint.state !== 'active' || wanted.has(endpoint.name)) continue;
      const released = this.release(id, endpoint.name, 'endpoint removed from the manifest');
      if (!released.ok) return released;
    }
    const endpoints: EndpointRecord[] = [];
    for (const name of [...wanted.keys()].sort()) {
      const list = wanted.get(name) ?? [];
      const was = previous?.endpoints.find((endpoint) => endpoint.name === name);
      if (was?.state === 'active') {
        const rebound = this.rebind(id, name, had.get(name) ?? [], list);
        if (!rebound.ok) return rebound;
        endpoints.push(was);
        continue;
      }
      const holder = this.draft.claims.get(nameKey(id.owner, name));
      if (holder !== undefined && holder !== key) {
        if (was?.state === 'withheld') endpoints.push(was);
        else {
          const tag = family === 'v4' ? {} : { family };
          this.draft.record({
            action: 'withhold',
            owner: id.owner,
            lease: key,
            endpoint: name,
            detail: withheldReason(name, this.draft.leases.get(holder)),
          });
          endpoints.push(Object.freeze({ name, state: 'withheld', since: this.now, ...tag }));
        }
        continue;
      }
      const allocated = this.allocate(id, name, was?.family ?? family, list, was, pins?.[name]);
      if (!allocated.ok) return allocated;
      endpoints.push(allocated.value);
    }
    const next: LeaseRecord = Object.freeze({
      id,
      state: 'active',
      group,
      declarations,
      endpoints: Object.freeze(endpoints),
      createdAt: stored?.createdAt ?? this.now,
      updatedAt: this.now,
    });
    if (previous !== undefined && sameLease(previous, next)) return ok(previous);
    this.draft.putLease(next);
    const promoted = this.promote();
    return promoted.ok ? ok(next) : promoted;
  }

  /** Closes a lease and releases everything it holds; idempotent. */
  close(id: LeaseId): Result<{
    readonly lease: LeaseRecord | undefined;
    readonly released: readonly string[];
    readonly already: boolean;
  }> {
    const key = leaseKey(id);
    this.dropReservation(orderKey(id), id.owner, 'lease closed');
    const previous = this.draft.leases.get(key);
    if (previous === undefined) return ok({ lease: undefined, released: [], already: false });
    if (previous.state === 'closed') return ok({ lease: previous, released: [], already: true });
    const released: string[] = [];
    for (const endpoint of previous.endpoints) {
      if (endpoint.state !== 'active') continue;
      const result = this.release(id, endpoint.name, 'lease closed');
      if (!result.ok) return result;
      released.push(...result.value);
    }
    const next: LeaseRecord = Object.freeze({
      ...previous,
      state: 'closed',
      endpoints: [],
      updatedAt: this.now,
      closedAt: this.now,
    });
    this.draft.record({ action: 'close', owner: id.owner, lease: key });
    this.draft.putLease(next);
    const promoted = this.promote();
    if (!promoted.ok) return promoted;
    return ok({ lease: next, released, already: false });
  }

  /**
   * Hands names whose holder let go to the longest-waiting withheld endpoint of the same owner, with
   * the address the holder just released when there is one: the owner's name keeps its address.
   */
  promote(): Result<void> {
    for (const name of this.draft.freed) {
      this.draft.freed.delete(name);
      if (this.draft.claims.get(name) !== undefined) continue;
      let next: { lease: LeaseRecord; endpoint: EndpointRecord } | undefined;
      for (const key of this.draft.waiting.get(name) ?? []) {
        const lease = this.draft.leases.get(key);
        const endpoint = lease?.endpoints.find(
          (candidate) => nameKey(lease.id.owner, candidate.name) === name,
        );
        if (lease === undefined || endpoint === undefined) continue;
        if (
          next === undefined ||
          endpoint.since < next.endpoint.since ||
          (endpoint.since === next.endpoint.since && key < leaseKey(next.lease.id))
        ) {
          next = { lease, endpoint };
        }
      }
      if (next === undefined) continue;
      const { lease, endpoint } = next;
      const result = this.allocate(
        lease.id,
        endpoint.name,
        endpoint.family ?? 'v4',
        declarationsOfEndpoint(lease, endpoint.name),
        undefined,
        this.draft.released.get(name),
      );
      if (!result.ok) return result;
      this.draft.putLease(
        Object.freeze({
          ...lease,
          endpoints: lease.endpoints.map((candidate) =>
            candidate.name === endpoint.name ? result.value : candidate,
          ),
          updatedAt: this.now,
        }),
      );
    }
    return done;
  }

  /** Retries every pending endpoint and drops expired quarantine rows; returns how many were retried. */
  maintain(): Result<{ readonly pruned: number; readonly retried: number }> {
    let pruned = 0;
    for (const entry of this.draft.state.quarantine.values()) {
      if (entry.until > this.now) continue;
      this.draft.quarantine.set(entry.address, undefined);
      pruned += 1;
    }
    let retried = 0;
    for (const key of [...this.draft.state.pending.keys()]) {
      const lease = this.draft.leases.get(key);
      if (lease === undefined) continue;
      const endpoints: EndpointRecord[] = [];
      for (const endpoint of lease.endpoints) {
        if (endpoint.state !== 'pending') {
          endpoints.push(endpoint);
          continue;
        }
        retried += 1;
        const result = this.allocate(
          lease.id,
          endpoint.name,
          endpoint.family ?? 'v4',
          declarationsOfEndpoint(lease, endpoint.name),
          endpoint,
        );
        if (!result.ok) return result;
        endpoints.push(result.value);
      }
      const next: LeaseRecord = Object.freeze({ ...lease, endpoints, updatedAt: this.now });
      if (!sameLease(lease, next)) this.draft.putLease(next);
    }
    return ok({ pruned, retried });
  }

  /**
   * Holds addresses for a bid: `count` endpoints of `family` (a dual endpoint one address of each family);
   * a count of 0 drops any earlier reservation of the order. A family that has run out is INSUFFICIENT_IPS
   * naming it (`details.family`); one the pools do not offer at all is NO_IP_SUPPORT naming it.
   */
  reserve(order: OrderId, count: number, family: FamilyRequest): Result<void> {
    const id = orderKey(order);
    if (count === 0) {
      this.dropReservation(id, order.owner, 'order needs no IP');
      return done;
    }
    if (!this.config.hasPools) {
      return fail(appError('NO_IP_SUPPORT', 'no leased IPs available: this provider has no IP pool'));
    }
    if (!this.config.offer[family]) return familyUnsupported(family);
    const previous = this.draft.reservations.get(id);
    if (previous?.count === count && previous.family === family) return done;
    const reserved = this.allocator.reserve(id, count, family);
    if (!reserved.ok) {
      if (reserved.error.code !== 'POOL_EXHAUSTED') return reserved;
      const short = reserved.error.details?.family;
      const exhausted: Family = short === 'v6' ? 'v6' : 'v4';
      return fail(
        appError(
          'INSUFFICIENT_IPS',
          // Go's text for IPv4, the only family Akash leases; the family is named otherwise
          `insufficient number of IPs: unable to reserve ${count}${exhausted === 'v4' ? '' : ' IPv6 address(es)'}`,
          { requested: count, family: exhausted, cause: reserved.error.message },
        ),
      );
    }
    this.touched = true;
    const record: ReservationRecord = Object.freeze({
      id,
      owner: order.owner,
      count,
      family,
      at: this.now,
    });
    this.draft.reservations.set(id, record);
    const what = familiesOf(family)
      .map((one) => `${count} ${FAMILY_NAME[one]}`)
      .join(' + ');
    this.draft.record({ action: 'reserve', owner: order.owner, lease: id, detail: `${what} address(es)` });
    return done;
  }

  unreserve(order: OrderId): void {
    this.dropReservation(orderKey(order), order.owner, 'order ended');
  }

  /** The active lease of (owner, dseq, gseq), or why there is none. */
  private deployment(
    owner: string,
    dseq: string,
    gseq: number | undefined,
    role: string,
  ): Result<LeaseRecord> {
    const leases = (this.draft.byDseq.get(dseq) ?? []).flatMap((key) => this.draft.leases.get(key) ?? []);
    const group = leases.filter((lease) => gseq === undefined || lease.id.gseq === gseq);
    const mine = group.filter((lease) => lease.id.owner === owner);
    const label = gseq === undefined ? `deployment ${dseq}` : `deployment ${dseq} group ${gseq}`;
    if (mine.length === 0) {
      // Another owner's deployment is an authorization matter, as the daemon's own check answers it.
      if (group.length > 0) {
        return fail(
          appError('FORBIDDEN', `${role} ${label} does not belong to ${owner}`, {
            reason: 'not-owner',
            action: 'ip-migrate',
          }),
        );
      }
      return fail(appError('LEASE_NOT_FOUND', `${role} ${label} has no IP lease on this provider`));
    }
    const active = mine.find((lease) => lease.state === 'active');
    if (active === undefined) return migrationError(`${role} ${label} is not active`);
    return ok(active);
  }

  /** Checks a migration and says what it would move; changes nothing. */
  plan(input: MigrationInput): Result<MigrationPlan> {
    const names = [...new Set(input.endpoints)];
    if (names.length === 0) return migrationError('no endpoint to migrate');
    const destination = this.deployment(
      input.owner,
      input.destination.dseq,
      input.destination.gseq,
      'destination',
    );
    if (!destination.ok) return destination;
    if (input.source !== undefined) {
      const source = this.deployment(input.owner, input.source.dseq, undefined, 'source');
      if (!source.ok) return source;
    }
    const to = destination.value;
    const toKey = leaseKey(to.id);
    const moves: PlannedMove[] = [];
    const unchanged: string[] = [];
    for (const name of names) {
      const wanted = declarationsOfEndpoint(to, name);
      if (wanted.length === 0) {
        return fail(
          appError(
            'ENDPOINT_NOT_FOUND',
            `the endpoint "${name}" does not exist in destination deployment ${to.id.dseq} group ${to.id.gseq}`,
          ),
        );
      }
      const holderKey = this.draft.claims.get(nameKey(input.owner, name));
      if (holderKey === toKey) {
        unchanged.push(name);
        continue;
      }
      const from = holderKey === undefined ? undefined : this.draft.leases.get(holderKey);
      if (holderKey === undefined || from === undefined) {
        return migrationError(`no active deployment of ${input.owner} holds endpoint "${name}"`);
      }
      if (input.source !== undefined && from.id.dseq !== input.source.dseq) {
        return migrationError(
          `endpoint "${name}" is held by deployment ${from.id.dseq}, not by source deployment ${input.source.dseq}`,
        );
      }
      const allocation = this.draft.allocations.get(endpointKey(holderKey, name));
      if (allocation === undefined) {
        return migrationError(`endpoint "${name}" of deployment ${from.id.dseq} has no address yet`);
      }
      const { unbind, bind } = portDiff(declarationsOfEndpoint(from, name), wanted);
      moves.push(
        Object.freeze({
          endpoint: name,
          from,
          to,
          addresses: allocation.addresses,
          unbind: unbind.map(binding),
          bind: bind.map(binding),
        }),
      );
    }
    return ok(Object.freeze({ destination: to, moves, unchanged }));
  }

  /** Carries out a plan: each address changes hands with no release, so it is kept. */
  migrate(plan: MigrationPlan): Result<void> {
    const destination = plan.destination;
    const toLease = leaseKey(destination.id);
    const sources = new Map<string, { readonly lease: LeaseRecord; readonly names: Set<string> }>();
    for (const move of plan.moves) {
      const fromLease = leaseKey(move.from.id);
      const fromKey = endpointKey(fromLease, move.endpoint);
      const toKey = endpointKey(toLease, move.endpoint);
      const moved = this.allocator.transfer(fromKey, toKey, destination.id.owner);
      if (!moved.ok) return moved;
      this.touched = true;
      this.draft.allocations.set(fromKey, undefined);
      const record: AllocationRecord = { ...moved.value, lease: toLease, endpoint: move.endpoint };
      this.draft.allocations.set(toKey, record);
      for (const address of record.addresses) {
        this.draft.record({
          action: 'migrate',
          owner: destination.id.owner,
          lease: toLease,
          endpoint: move.endpoint,
          address,
          detail: `from ${fromLease}`,
        });
      }
      const rebound = this.rebind(
        destination.id,
        move.endpoint,
        declarationsOfEndpoint(move.from, move.endpoint),
        declarationsOfEndpoint(destination, move.endpoint),
      );
      if (!rebound.ok) return rebound;
      const source = sources.get(fromLease) ?? { lease: move.from, names: new Set<string>() };
      source.names.add(move.endpoint);
      sources.set(fromLease, source);
    }
    const retag = (
      lease: LeaseRecord,
      names: ReadonlySet<string>,
      state: 'active' | 'withheld',
    ): LeaseRecord =>
      Object.freeze({
        ...lease,
        endpoints: lease.endpoints.map((endpoint) =>
          names.has(endpoint.name)
            ? Object.freeze({
                name: endpoint.name,
                state,
                since: this.now,
                ...(endpoint.family === undefined ? {} : { family: endpoint.family }),
              })
            : endpoint,
        ),
        updatedAt: this.now,
      });
    this.draft.putLease(retag(destination, new Set(plan.moves.map((move) => move.endpoint)), 'active'));
    for (const { lease, names } of sources.values()) this.draft.putLease(retag(lease, names, 'withheld'));
    return this.promote();
  }
}
