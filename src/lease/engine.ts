/**
 * The provider's IP-lease engine. Each mutation is computed against a draft with the IPAM allocator,
 * written to the store as one atomic change, and only then made visible; a refused or failed write
 * rebuilds the allocator from the committed state, so memory never runs ahead of the store.
 */
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import {
  type Allocator,
  type AllocatorOptions,
  type Capacity,
  createAllocator,
  type Family,
  type FamilyRequest,
  type PoolSpec,
  type PortBinding,
} from '../ipam/index.js';
import type { GroupSpec, ManifestGroup } from '../sdl/index.js';
import {
  checkAgainstSpec,
  checkDeclarations,
  type DeclarationInput,
  declarationsOf,
  leasedIpSequences,
} from './declarations.js';
import { addressesPerEndpoint, type FamilyOffer, offeredFamilies, requestedFamily } from './family.js';
import { isAccountAddress, isEndpointName, leaseKey, orderKey, parseLeaseId, parseOrderId } from './ids.js';
import { type EndpointMove, type MigrationInput, Mutation } from './mutation.js';
import type { LeaseStore, StoreDocument } from './ports.js';
import { buildState, committedSource, Draft, ipamSnapshot, type State } from './state.js';
import type {
  AllocationRecord,
  AuditEntry,
  AuditEvent,
  AuditQuery,
  Declaration,
  LeasedIpInventory,
  LeaseId,
  LeaseIpStatus,
  LeaseRecord,
  LeaseView,
  OrderId,
  ReservationRecord,
} from './types.js';
import { leaseIpStatus, leaseView, type ViewSource, workloadEnv } from './views.js';

/** The IPAM default cool-down, used when none is configured. */
export const DEFAULT_QUARANTINE_MS = 3_600_000;
const DEFAULT_ACTOR = 'provider';

export interface LeaseEngineOptions {
  readonly store: LeaseStore;
  /** This provider's account address; leases of any other provider are refused. */
  readonly provider: string;
  /** The address pools. None means the provider offers no IP leases (NO_IP_SUPPORT). */
  readonly pools: readonly PoolSpec[];
  /** Draw every address from this pool. */
  readonly pool?: string;
  /**
   * The family of an endpoint whose group's placement asks for none (see family.ts); default `v4`. Groups
   * that require `ip-lease-ipv6` or `ip-lease-ipv6-only` get dual-stack or IPv6-only endpoints.
   */
  readonly family?: Family;
  /** Cool-down of a released address; default 1 hour. */
  readonly quarantineMs?: number;
  /** Milliseconds since the epoch; injected so tests control time. */
  readonly now?: () => number;
}

export interface MutationOptions {
  /** Who asked, for the audit trail; default `provider`. */
  readonly actor?: string;
  /**
   * The caller's records, committed in the mutation's one change (even when it changes no lease state),
   * and not at all when the mutation fails or is refused.
   */
  readonly documents?: readonly StoreDocument[];
}

/** Endpoint name → the addresses it should get if it needs a new one (found in the cluster, say). */
export type AddressPins = Readonly<Record<string, readonly string[]>>;

export interface DeployOptions extends MutationOptions {
  /** The order's group spec: when given, the manifest must use exactly its LEASED_IP endpoints. */
  readonly groupSpec?: GroupSpec;
  /**
   * Addresses to adopt: an endpoint that gets an address asks for its pin first, and any address when
   * the pin cannot be had (not in a pool, held by another). An endpoint that already holds one keeps it.
   */
  readonly pins?: AddressPins;
}

/** {@link LeaseEngine.deployDeclarations}: declarations come with no manifest, so the group is named here. */
export interface DeclarationsDeployOptions extends MutationOptions {
  /** The lease record's group name; default empty. */
  readonly group?: string;
  readonly pins?: AddressPins;
  /** The family new endpoints get (the operator reads it from the cluster); default: as `deploy` without a spec. */
  readonly family?: FamilyRequest;
  /**
   * Deploys a closed lease again instead of refusing it (LEASE_CLOSED). The operator closes a lease whose
   * objects all vanished, and they may come back (the Go provider's F1 deletes every tenant's objects).
   */
  readonly reopen?: boolean;
}

/** What a pool change left behind: allocations whose addresses lie in no pool now (kept, not handed out again). */
export interface PoolChangeResult {
  readonly orphaned: readonly AllocationRecord[];
}

/** The lease after the mutation and the audit entries it wrote: the exact diff a backend applies. */
export interface DeployResult {
  /** Undefined when an unknown lease declares no IP endpoint: nothing is recorded for it. */
  readonly lease: LeaseView | undefined;
  readonly events: readonly AuditEntry[];
}

export interface CloseResult {
  readonly lease: LeaseView | undefined;
  readonly released: readonly string[];
  readonly alreadyClosed: boolean;
  readonly events: readonly AuditEntry[];
}

/** `POST /endpoint/migrate`, with an optional source deployment and a dry run. */
export interface MigrateRequest extends MigrationInput {
  readonly dryRun?: boolean;
}

/** One endpoint a migration moved (or, in a dry run, would move). */
export type MigrationMove = EndpointMove<LeaseId>;

export interface MigrationResult {
  readonly dryRun: boolean;
  readonly moves: readonly MigrationMove[];
  /** Requested endpoints the destination already held. */
  readonly unchanged: readonly string[];
  readonly events: readonly AuditEntry[];
}

export interface ReserveResult {
  /** The order key. */
  readonly id: string;
  /** Endpoints the group needs: its distinct LEASED_IP sequences (0: no IP, nothing reserved). */
  readonly count: number;
  /** The family each endpoint gets. */
  readonly family: FamilyRequest;
  /** Addresses held: `count`, twice that for dual-stack endpoints. */
  readonly addresses: number;
}

export interface MaintainResult {
  readonly pruned: number;
  readonly retried: number;
  readonly events: readonly AuditEntry[];
}

/** The engine; all mutations are serialised and atomic, all reads are synchronous and see committed state. */
export interface LeaseEngine {
  /** Deploys a lease's manifest group, or updates it when the lease is known. */
  deploy(lease: LeaseId, group: ManifestGroup, options?: DeployOptions): Promise<Result<DeployResult>>;
  /**
   * Deploys or updates a lease from its declarations directly, with no manifest (the IP operator reads
   * them from the cluster); the declarations are checked as a manifest's would be.
   */
  deployDeclarations(
    lease: LeaseId,
    declarations: readonly DeclarationInput[],
    options?: DeclarationsDeployOptions,
  ): Promise<Result<DeployResult>>;
  /**
   * Replaces the address pools at run time. Held addresses stay held, also those the new pools no longer
   * cover (reported as orphaned); pending endpoints are not retried here: `maintain()` does that.
   */
  setPools(pools: readonly PoolSpec[]): Promise<Result<PoolChangeResult>>;
  /** Capacity of every pool and family, as the allocator counts it. */
  capacities(): readonly Capacity[];
  /** Releases everything the lease holds into quarantine; idempotent, also for unknown leases. */
  close(lease: LeaseId, options?: MutationOptions): Promise<Result<CloseResult>>;
  /** Moves the named endpoints, with their addresses, to another deployment of the owner; all or nothing. */
  migrate(request: MigrateRequest, options?: MutationOptions): Promise<Result<MigrationResult>>;
  /**
   * The bid gate: holds one endpoint's addresses (one per family) per distinct LEASED_IP sequence of the
   * group, of the family its placement attributes ask for.
   */
  reserve(order: OrderId, group: GroupSpec, options?: MutationOptions): Promise<Result<ReserveResult>>;
  /** Drops an order's reservation (bid lost, order closed); idempotent. */
  unreserve(order: OrderId, options?: MutationOptions): Promise<Result<void>>;
  /** Retries pending endpoints and prunes expired quarantine rows; call periodically. */
  maintain(options?: MutationOptions): Promise<Result<MaintainResult>>;
  lease(lease: LeaseId): LeaseView | undefined;
  leases(filter?: { readonly owner?: string; readonly state?: 'active' | 'closed' }): readonly LeaseView[];
  /** lease-status's IP part. */
  status(lease: LeaseId): Result<LeaseIpStatus>;
  /** Per service, the `AKASH_LEASED_IP_<ENDPOINT>` variables of its active endpoints. */
  env(lease: LeaseId): Result<Readonly<Record<string, Readonly<Record<string, string>>>>>;
  /** Leased-IP inventory of one family; default: the family of endpoints whose group asks for none. */
  inventory(family?: Family): LeasedIpInventory;
  /** The bid gate's reservations, one per order (key `owner/dseq/gseq/oseq`). */
  reservations(): readonly ReservationRecord[];
  audit(query: AuditQuery): Promise<Result<readonly AuditEvent[]>>;
  /** Resolves when every mutation queued so far has finished. */
  idle(): Promise<void>;
  /** Compares the engine's ledger with the allocator's own state (O(n), queued after pending mutations); lists every disagreement. */
  check(): Promise<readonly string[]>;
}

interface Config {
  readonly store: LeaseStore;
  readonly provider: string;
  readonly pool: string | undefined;
  readonly family: Family;
  offer: FamilyOffer;
  hasPools: boolean;
  readonly quarantineMs: number;
  readonly now: () => number;
  allocatorOptions: AllocatorOptions;
}

function thrown(error: unknown): { readonly ok: false; readonly error: AppError } {
  const message = error instanceof Error ? error.message : String(error);
  return fail(appError('UNAVAILABLE', `lease store failed: ${message}`));
}

class Engine implements LeaseEngine {
  private tail: Promise<unknown> = Promise.resolve();
  private broken: AppError | undefined;
  private capacityCache: readonly Capacity[];
  private readonly source: ViewSource;

  constructor(
    private readonly config: Config,
    private readonly state: State,
    private allocator: Allocator,
    /** The allocator's clock reads this during a mutation, so it and the draft agree on "now". */
    private readonly clock: { frozen: number | undefined },
  ) {
    this.capacityCache = allocator.capacity();
    this.source = committedSource(state);
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.tail.then(task, task);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private rebuildAllocator(): void {
    const restored = createAllocator(this.config.allocatorOptions, ipamSnapshot(this.state));
    if (restored.ok) this.allocator = restored.value;
    else {
      this.broken = appError('STORE_CORRUPT', `cannot rebuild the address ledger: ${restored.error.message}`);
    }
  }

  /** Runs one mutation: compute on a draft, commit it, then apply it; on any failure undo the allocator. */
  private mutate<T>(
    options: MutationOptions,
    compute: (mutation: Mutation) => Result<T>,
  ): Promise<Result<T>> {
    return this.serially(async (): Promise<Result<T>> => {
      if (this.broken !== undefined) return fail(this.broken);
      const now = Math.floor(this.config.now());
      const draft = new Draft(this.state, now, options.actor ?? DEFAULT_ACTOR);
      const mutation = new Mutation(draft, this.allocator, this.config);
      this.clock.frozen = now;
      let result: Result<T>;
      try {
        result = compute(mutation);
      } catch (error) {
        this.clock.frozen = undefined;
        if (mutation.touched) this.rebuildAllocator();
        throw error;
      }
      this.clock.frozen = undefined;
      const documents = options.documents ?? [];
      if (!result.ok || (draft.isEmpty() && documents.length === 0)) {
        if (mutation.touched) this.rebuildAllocator();
        return result;
      }
      const change = documents.length === 0 ? draft.change() : { ...draft.change(), documents };
      const committed = await this.config.store.commit(change).catch(thrown);
      if (!committed.ok) {
        if (mutation.touched) this.rebuildAllocator();
        return committed;
      }
      draft.apply();
      this.capacityCache = this.allocator.capacity();
      return result;
    });
  }

  async deploy(
    lease: LeaseId,
    group: ManifestGroup,
    options: DeployOptions = {},
  ): Promise<Result<DeployResult>> {
    const declarations = declarationsOf(group);
    if (!declarations.ok) return declarations;
    if (options.groupSpec !== undefined) {
      const checked = checkAgainstSpec(group, options.groupSpec);
      if (!checked.ok) return checked;
    }
    const family = requestedFamily(options.groupSpec?.requirements.attributes);
    return this.deployChecked(lease, group.name, declarations.value, family, options);
  }

  async deployDeclarations(
    lease: LeaseId,
    declarations: readonly DeclarationInput[],
    options: DeclarationsDeployOptions = {},
  ): Promise<Result<DeployResult>> {
    const checked = checkDeclarations(declarations);
    if (!checked.ok) return checked;
    return this.deployChecked(lease, options.group ?? '', checked.value, options.family, options);
  }

  private async deployChecked(
    lease: LeaseId,
    group: string,
    declarations: readonly Declaration[],
    family: FamilyRequest | undefined,
    options: MutationOptions & { readonly pins?: AddressPins; readonly reopen?: boolean },
  ): Promise<Result<DeployResult>> {
    const id = parseLeaseId(lease, this.config.provider);
    if (!id.ok) return id;
    return this.mutate(options, (mutation) => {
      const deployed = mutation.deploy(id.value, group, declarations, family, options.pins, options.reopen);
      if (!deployed.ok) return deployed;
      const record = deployed.value;
      return ok({
        lease: record === undefined ? undefined : leaseView(mutation.draft, record),
        events: mutation.draft.audit,
      });
    });
  }

  setPools(pools: readonly PoolSpec[]): Promise<Result<PoolChangeResult>> {
    return this.serially(async (): Promise<Result<PoolChangeResult>> => {
      if (this.broken !== undefined) return fail(this.broken);
      const changed = this.allocator.setPools(pools);
      if (!changed.ok) return changed;
      this.config.allocatorOptions = { ...this.config.allocatorOptions, pools };
      this.config.hasPools = pools.length > 0;
      this.config.offer = offeredFamilies(pools, this.config.pool);
      this.capacityCache = this.allocator.capacity();
      const orphaned = changed.value.orphaned.flatMap((allocation) => {
        const record = this.state.allocations.get(allocation.key);
        return record === undefined ? [] : [record];
      });
      return ok({ orphaned });
    });
  }

  capacities(): readonly Capacity[] {
    return this.capacityCache;
  }

  async close(lease: LeaseId, options: MutationOptions = {}): Promise<Result<CloseResult>> {
    const id = parseLeaseId(lease, this.config.provider);
    if (!id.ok) return id;
    return this.mutate(options, (mutation) => {
      const closed = mutation.close(id.value);
      if (!closed.ok) return closed;
      const { lease: record, released, already } = closed.value;
      return ok({
        lease: record === undefined ? undefined : leaseView(mutation.draft, record),
        released,
        alreadyClosed: already,
        events: mutation.draft.audit,
      });
    });
  }

  async migrate(request: MigrateRequest, options: MutationOptions = {}): Promise<Result<MigrationResult>> {
    if (!isAccountAddress(request.owner)) {
      return fail(appError('INVALID_INPUT', `owner "${request.owner}" is not a bech32 address`));
    }
    const badName = request.endpoints.find((name) => !isEndpointName(name));
    if (badName !== undefined)
      return fail(appError('INVALID_INPUT', `endpoint name "${badName}" is not valid`));
    return this.mutate(options, (mutation) => {
      const planned = mutation.plan(request);
      if (!planned.ok) return planned;
      const plan = planned.value;
      if (request.dryRun !== true) {
        const migrated = mutation.migrate(plan);
        if (!migrated.ok) return migrated;
      }
      return ok({
        dryRun: request.dryRun === true,
        moves: plan.moves.map((move) =>
          Object.freeze({
            endpoint: move.endpoint,
            from: move.from.id,
            to: move.to.id,
            addresses: move.addresses,
            unbind: move.unbind,
            bind: move.bind,
          }),
        ),
        unchanged: plan.unchanged,
        events: mutation.draft.audit,
      });
    });
  }

  async reserve(
    order: OrderId,
    group: GroupSpec,
    options: MutationOptions = {},
  ): Promise<Result<ReserveResult>> {
    const id = parseOrderId(order);
    if (!id.ok) return id;
    const count = leasedIpSequences(group).size;
    const family = requestedFamily(group.requirements.attributes) ?? this.config.family;
    return this.mutate(options, (mutation) => {
      const reserved = mutation.reserve(id.value, count, family);
      if (!reserved.ok) return reserved;
      return ok({ id: orderKey(id.value), count, family, addresses: count * addressesPerEndpoint(family) });
    });
  }

  async unreserve(order: OrderId, options: MutationOptions = {}): Promise<Result<void>> {
    const id = parseOrderId(order);
    if (!id.ok) return id;
    return this.mutate(options, (mutation) => {
      mutation.unreserve(id.value);
      return ok(undefined);
    });
  }

  maintain(options: MutationOptions = {}): Promise<Result<MaintainResult>> {
    return this.mutate(options, (mutation) => {
      const maintained = mutation.maintain();
      if (!maintained.ok) return maintained;
      return ok({ ...maintained.value, events: mutation.draft.audit });
    });
  }

  private record(lease: LeaseId): Result<LeaseRecord> {
    const key = leaseKey(lease);
    const record = this.state.leases.get(key);
    if (record === undefined) return fail(appError('LEASE_NOT_FOUND', `lease ${key} has no IP lease here`));
    if (record.state === 'closed') return fail(appError('LEASE_CLOSED', `lease ${key} is closed`));
    return ok(record);
  }

  lease(lease: LeaseId): LeaseView | undefined {
    const record = this.state.leases.get(leaseKey(lease));
    return record === undefined ? undefined : leaseView(this.source, record);
  }

  leases(
    filter: { readonly owner?: string; readonly state?: 'active' | 'closed' } = {},
  ): readonly LeaseView[] {
    const out: LeaseView[] = [];
    for (const record of this.state.leases.values()) {
      if (filter.owner !== undefined && record.id.owner !== filter.owner) continue;
      if (filter.state !== undefined && record.state !== filter.state) continue;
      out.push(leaseView(this.source, record));
    }
    return out;
  }

  status(lease: LeaseId): Result<LeaseIpStatus> {
    const record = this.record(lease);
    return record.ok ? ok(leaseIpStatus(this.source, record.value)) : record;
  }

  env(lease: LeaseId): Result<Readonly<Record<string, Readonly<Record<string, string>>>>> {
    const record = this.record(lease);
    return record.ok ? ok(workloadEnv(this.source, record.value)) : record;
  }

  inventory(family: Family = this.config.family): LeasedIpInventory {
    const pools = this.capacityCache.filter(
      (entry) =>
        entry.family === family && (this.config.pool === undefined || entry.pool === this.config.pool),
    );
    let capacity = 0n;
    let inUse = 0n;
    let reserved = 0n;
    let quarantined = 0n;
    let available = 0n;
    for (const entry of pools) {
      capacity += entry.capacity;
      inUse += entry.allocated;
      reserved += entry.reserved;
      quarantined += entry.quarantined;
      available += entry.available;
    }
    return Object.freeze({
      family,
      capacity,
      allocatable: capacity,
      allocated: inUse + reserved + quarantined,
      inUse,
      reserved,
      quarantined,
      available,
      pools,
    });
  }

  reservations(): readonly ReservationRecord[] {
    return [...this.state.reservations.values()].map((reservation) => Object.freeze({ ...reservation }));
  }

  audit(query: AuditQuery): Promise<Result<readonly AuditEvent[]>> {
    return this.config.store.queryAudit(query).catch(thrown);
  }

  async idle(): Promise<void> {
    await this.tail;
  }

  check(): Promise<readonly string[]> {
    return this.serially(async () => this.compareLedger());
  }

  private compareLedger(): readonly string[] {
    const ipam = this.allocator.snapshot();
    const now = this.config.now();
    const ports = (list: readonly PortBinding[]): string =>
      list
        .map((port) => `${port.port}/${port.protocol}`)
        .sort()
        .join(',');
    const lines = {
      ledger: new Set<string>(),
      allocator: new Set<string>(),
    };
    for (const a of this.state.allocations.values()) {
      lines.ledger.add(
        `allocation ${a.key} ${a.owner} ${a.pool} ${[...a.addresses].sort()} [${ports(a.ports)}]`,
      );
    }
    for (const a of ipam.allocations) {
      lines.allocator.add(
        `allocation ${a.key} ${a.owner} ${a.pool} ${[...a.addresses].sort()} [${ports(a.ports)}]`,
      );
    }
    for (const q of this.state.quarantine.values()) {
      if (q.until > now) lines.ledger.add(`quarantine ${q.address} ${q.owner} ${q.key} ${q.pool} ${q.until}`);
    }
    for (const q of ipam.quarantine) {
      lines.allocator.add(`quarantine ${q.address} ${q.owner} ${q.key} ${q.pool} ${q.until}`);
    }
    for (const r of this.state.reservations.values())
      lines.ledger.add(`reservation ${r.id} ${r.count} ${r.family}`);
    for (const r of ipam.reservations) lines.allocator.add(`reservation ${r.id} ${r.count} ${r.family}`);
    const problems: string[] = [];
    for (const line of lines.ledger)
      if (!lines.allocator.has(line)) problems.push(`only in the ledger: ${line}`);
    for (const line of lines.allocator)
      if (!lines.ledger.has(line)) problems.push(`only in the allocator: ${line}`);
    const holders = new Map<string, string>();
    for (const a of this.state.allocations.values()) {
      for (const address of a.addresses) {
        const other = holders.get(address);
        if (other !== undefined) problems.push(`${address} is held by ${other} and ${a.key}`);
        holders.set(address, a.key);
      }
    }
    return problems;
  }
}

/**
 * Builds an engine from the store's content: loads it once, checks its invariants and restores the
 * allocator from it. Writes nothing.
 */
export async function createLeaseEngine(options: LeaseEngineOptions): Promise<Result<LeaseEngine>> {
  if (!isAccountAddress(options.provider)) {
    return fail(appError('INVALID_INPUT', `provider "${options.provider}" is not a bech32 address`));
  }
  const quarantineMs = options.quarantineMs ?? DEFAULT_QUARANTINE_MS;
  if (!Number.isSafeInteger(quarantineMs) || quarantineMs < 0) {
    return fail(appError('INVALID_INPUT', `quarantineMs ${quarantineMs} is not a non-negative integer`));
  }
  const now = options.now ?? Date.now;
  const clock: { frozen: number | undefined } = { frozen: undefined };
  const allocatorOptions: AllocatorOptions = {
    pools: options.pools,
    quarantineMs,
    now: () => clock.frozen ?? Math.floor(now()),
  };
  const loaded = await options.store.load().catch(thrown);
  if (!loaded.ok) return loaded;
  const state = buildState(loaded.value);
  if (!state.ok) return state;
  const allocator = createAllocator(allocatorOptions, ipamSnapshot(state.value));
  if (!allocator.ok) {
    return fail(
      appError(allocator.error.code, `restoring the address ledger: ${allocator.error.message}`, {
        ...allocator.error.details,
      }),
    );
  }
  const config: Config = {
    store: options.store,
    provider: options.provider,
    pool: options.pool,
    family: options.family ?? 'v4',
    offer: offeredFamilies(options.pools, options.pool),
    hasPools: options.pools.length > 0,
    quarantineMs,
    now,
    allocatorOptions,
  };
  return ok(new Engine(config, state.value, allocator.value, clock));
}
