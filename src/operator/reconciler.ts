/**
 * The IP operator's reconcile loop. Four informers (the Go provider's `ProviderLeasedIP` objects, the
 * named MetalLB pools, every Service, our IPv6 NetworkPolicies) feed one pass at a time, run after each
 * informer batch (a burst of events coalesces into one pass); a fifth keeps MetalLB's Warnings on Services,
 * read only to tell why a port is still pending:
 *
 * 1. pools: the named pools minus addresses foreign LoadBalancers hold → `engine.setPools` when changed;
 * 2. leases: objects of our provider grouped by lease → `engine.deployDeclarations` for a lease whose
 *    declarations changed (adopting the address its Services already carry), `engine.migrate` when Go's
 *    migration overwrote an endpoint's objects with another lease, `engine.close` when a lease's last object
 *    is gone; other providers' objects and malformed ones are listed, never acted on. A new lease's address
 *    families come from a {@link LeaseFamilies} source (`--ip-family`, or its order on chain); one whose
 *    family is not known yet waits, undeployed;
 * 3. Services: the engine's active endpoints → the Services Go would write plus our pin, compared with the
 *    informer's cache; only what differs is written, each object on its own with its own backoff;
 * 4. NetworkPolicies: per manifest service with IPv6 addresses, one admitting `::/0` (Go's admit IPv4 only),
 *    written the same way.
 *
 * Nothing here restarts the world: a refused write, a bad object or a lease the engine refuses is recorded
 * with its reason and retried on its own.
 */
import type { z } from 'zod';
import type { Logger } from '../daemon/index.js';
import { type AppError, appError, type Result } from '../errors/index.js';
import type { Family, FamilyRequest } from '../ipam/index.js';
import {
  familiesDiffer,
  Informer,
  type InformerStats,
  IPV6_POLICIES,
  type IpAddressPoolObject,
  type Ipv6PolicyBody,
  ipAddressPoolSchema,
  ipv6PolicyBodies,
  KubeClient,
  type KubeGateway,
  LABEL,
  leaseNamespace,
  type NetworkPolicyObject,
  networkPolicyMatches,
  networkPolicyPath,
  networkPolicySchema,
  type ObjectMeta,
  type ServiceObject,
  ServiceWarnings,
  serviceMatches,
  servicePatch,
  servicePath,
  serviceSchema,
} from '../k8s/index.js';
import {
  type AuditEntry,
  addressFamily,
  checkDeclarations,
  familyOfAddresses,
  type LeaseEngine,
  type LeaseId,
  type LeaseView,
  leaseKey,
  offeredFamilies,
} from '../lease/index.js';
import { type FamilyAnswer, familyFlagName, fixedFamilies, type LeaseFamilies } from './families.js';
import { type DeclaredPort, leasedIpCollection, parseLeasedIp, sharingKeyOf } from './leased-ip.js';
import { jsonCount, type PoolPicture, picturePools, poolCollection } from './pools.js';
import {
  heldAddresses,
  ingressAddresses,
  kindOf,
  leaseKeyOfLabels,
  pinsOf,
  sharingKeyAnnotation,
  type WantedService,
  wantedServices,
} from './services.js';

export interface IpOperatorOptions {
  readonly gateway: KubeGateway;
  readonly engine: LeaseEngine;
  readonly provider: string;
  readonly manifestNamespace: string;
  readonly metallbNamespace: string;
  /** MetalLB pool names. */
  readonly pools: readonly string[];
  readonly logger: Logger;
  /** Milliseconds since the epoch; injected so tests control time. */
  readonly now?: () => number;
  /** Per-object retry after a refused write: doubles from min to max. Default 1 s to 5 min. */
  readonly writeBackoff?: { readonly minMs: number; readonly maxMs: number };
  /** Informers' reconnect backoff (see Informer). */
  readonly watchBackoff?: { readonly minMs: number; readonly maxMs: number };
  /** Writes in flight at once; default 16. */
  readonly concurrency?: number;
  /** While any endpoint is pending, a pass is also run this often (quarantine expiry frees addresses); default 30 s. */
  readonly pendingRetryMs?: number;
  /** Called after each pass once synced (the engine and the Services' confirmations are current then). */
  readonly onPass?: () => void;
  /** Where a new lease's address families come from; default IPv4 for every lease, as Go. */
  readonly families?: LeaseFamilies;
  /**
   * Called instead of completing the first sync when the named pools that exist cannot serve the default
   * family (NO_IP_SUPPORT): the operator is misconfigured and must not start. Without it, only reported.
   */
  readonly onRefused?: (error: AppError) => void;
}

/** Pool size and addresses not free, of one family or as `/usage` counts them. */
export interface Usage {
  readonly available: bigint;
  readonly inUse: bigint;
}

/** Why an object or a lease is not acted on. */
export interface Ignored {
  /** The lease key when known, else `object/<name>`. */
  readonly key: string;
  readonly objects: readonly string[];
  readonly kind: 'other-provider' | 'malformed' | 'refused';
  readonly reason: string;
  readonly at: number;
}

/** One port of a lease as `/state` shows it. */
export interface PortState {
  readonly endpoint: string;
  readonly sharingKey: string;
  readonly serviceName: string;
  readonly port: number;
  readonly externalPort: number;
  readonly protocol: string;
  /** The Service's name in the lease namespace (set once the endpoint holds an address). */
  readonly service?: string;
  /** Set when Go's name `<svc>-ip-<port>-<proto>` is no valid Service name and a hashed one is used. */
  readonly goName?: string;
  readonly address?: string;
  readonly state: 'confirmed' | 'pending' | 'withheld';
  readonly reason?: string;
}

export interface LeaseState {
  readonly lease: LeaseId;
  readonly namespace: string;
  readonly ports: readonly PortState[];
  readonly lastEventAt?: number;
}

export interface WriteStats {
  created: number;
  updated: number;
  deleted: number;
  failed: number;
}

/** A lease of our provider: its objects. */
interface LeaseGroup {
  readonly id: LeaseId;
  readonly ports: DeclaredPort[];
}

interface Failure {
  readonly attempts: number;
  readonly retryAt: number;
  readonly error: AppError;
}

/** A write done, whose echo the informer has not delivered yet: do not write the object again meanwhile. */
type Expectation =
  | { readonly kind: 'written'; readonly resourceVersion: string; readonly at: number }
  | { readonly kind: 'deleted'; readonly uid: string; readonly at: number };

/** How long a write's echo is waited for before the object is compared afresh. */
const ECHO_WAIT_MS = 30_000;

function zodParse<T>(schema: z.ZodType<T>, what: string) {
  return (raw: unknown): Result<T, AppError> => {
    const parsed = schema.safeParse(raw);
    if (parsed.success) return { ok: true, value: parsed.data };
    const why = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
      .join('; ');
    return { ok: false, error: appError('K8S_MALFORMED', `${what}: ${why}`) };
  };
}

/** Resource versions are etcd revisions in practice: compare them as numbers when they are. */
function atLeast(have: string, want: string): boolean {
  if (/^\d+$/.test(have) && /^\d+$/.test(want)) return BigInt(have) >= BigInt(want);
  return have === want;
}

function slot(sharingKey: string, externalPort: number, protocol: string): string {
  return `${sharingKey}/${externalPort}/${protocol}`;
}

function sameDeclarations(view: LeaseView | undefined, inputs: readonly DeclaredPort[]): boolean {
  if (view === undefined || view.state !== 'active') return false;
  const checked = checkDeclarations(inputs.map((port) => port.declaration));
  return checked.ok && JSON.stringify(checked.value) === JSON.stringify(view.declarations);
}

export class IpOperator {
  readonly #options: IpOperatorOptions;
  readonly #engine: LeaseEngine;
  readonly #families: LeaseFamilies;
  readonly #client: KubeClient;
  readonly #now: () => number;
  readonly #leasedIps: Informer<DeclaredPort>;
  readonly #poolObjects: Informer<IpAddressPoolObject>;
  readonly #services: Informer<ServiceObject>;
  readonly #policies: Informer<NetworkPolicyObject>;
  /** MetalLB's Warnings on Services: why an unconfirmed one is waiting. Never holds up a pass. */
  readonly #warnings: ServiceWarnings;
  readonly #unsubscribe: (() => void)[] = [];

  #running: Promise<void> | undefined;
  #again = false;
  #scheduled: NodeJS.Immediate | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #firstPass = false;
  #firstPassDone: () => void = () => {};
  readonly #firstPassPromise: Promise<void>;

  #picture: PoolPicture | undefined;
  #appliedPools = '';
  readonly #leaseProblems = new Map<string, Ignored>();
  /** Leases not deployed because their family is not known yet, with why; rebuilt every pass. */
  #awaitingFamily = new Map<string, { readonly group: LeaseGroup; readonly reason: string }>();
  /** Why the named pools cannot serve the default family, if they cannot. */
  #familyProblem: string | undefined;
  #ignored: readonly Ignored[] = [];
  readonly #lastEventAt = new Map<string, number>();
  readonly #failures = new Map<string, Failure>();
  readonly #expected = new Map<string, Expectation>();
  readonly #inFlight = new Set<string>();
  readonly #writes: WriteStats = { created: 0, updated: 0, deleted: 0, failed: 0 };
  #passes = 0;

  constructor(options: IpOperatorOptions) {
    this.#options = options;
    this.#engine = options.engine;
    this.#families = options.families ?? fixedFamilies('v4');
    this.#client = new KubeClient(options.gateway);
    this.#now = options.now ?? Date.now;
    const common = {
      gateway: options.gateway,
      logger: options.logger,
      ...(options.watchBackoff === undefined ? {} : { backoff: options.watchBackoff }),
    };
    this.#leasedIps = new Informer({
      ...common,
      name: 'providerleasedips',
      path: leasedIpCollection(options.manifestNamespace),
      parse: parseLeasedIp,
    });
    this.#poolObjects = new Informer({
      ...common,
      name: 'ipaddresspools',
      path: poolCollection(options.metallbNamespace),
      parse: zodParse(ipAddressPoolSchema, 'IPAddressPool'),
    });
    // Every Service, not only ours: a foreign LoadBalancer holding an address of our pools must be seen.
    this.#services = new Informer({
      ...common,
      name: 'services',
      path: '/api/v1/services',
      parse: zodParse(serviceSchema, 'Service'),
    });
    // Ours only: the IPv6 policies (the Go provider's own admit IPv4 alone).
    this.#policies = new Informer({
      ...common,
      name: 'networkpolicies',
      path: IPV6_POLICIES.path,
      labelSelector: IPV6_POLICIES.labelSelector,
      parse: zodParse(networkPolicySchema, 'NetworkPolicy'),
      // An install whose RBAC predates the IPv6 policies must still serve IPv4 leases: the first sync does not
      // wait for a list it may not make (problems() says so, and writing a policy fails on its own backoff).
      optional: true,
    });
    this.#warnings = new ServiceWarnings(common);
    this.#firstPassPromise = new Promise((resolve) => {
      this.#firstPassDone = resolve;
    });
  }

  /** Starts the informers; the first pass runs once all three have listed. Idempotent. */
  start(): void {
    if (this.#unsubscribe.length > 0) return;
    this.#unsubscribe.push(
      this.#leasedIps.subscribe((changes) => {
        const at = this.#now();
        for (const change of changes) {
          for (const port of [change.object, change.previous]) {
            if (port !== undefined) this.#lastEventAt.set(port.leaseKey, at);
          }
        }
        this.#schedule();
      }),
      this.#poolObjects.subscribe(() => this.#schedule()),
      this.#services.subscribe(() => this.#schedule()),
      this.#policies.subscribe(() => this.#schedule()),
    );
    // A list with nothing in it delivers no change: were it the last to come, no pass would ever run.
    for (const informer of this.#informers()) {
      void informer.synced().then(() => this.#schedule());
      informer.start();
    }
    this.#warnings.start();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#families.stop();
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await Promise.all([...this.#informers().map((informer) => informer.stop()), this.#warnings.stop()]);
    await this.#running;
  }

  #informers(): readonly Informer<unknown>[] {
    return [this.#leasedIps, this.#poolObjects, this.#services, this.#policies] as Informer<unknown>[];
  }

  /** Resolves when the first pass after the informers' first lists is done: state and `/usage` are exact. */
  synced(): Promise<void> {
    return this.#firstPassPromise;
  }

  isSynced(): boolean {
    return this.#firstPass;
  }

  /** Runs a pass soon, whatever the informers say (a clock moved on; an operator asks). */
  resync(): void {
    this.#schedule();
  }

  /** Resolves when no pass is running or scheduled (tests). */
  async idle(): Promise<void> {
    while (this.#running !== undefined || this.#scheduled !== undefined) {
      await (this.#running ?? new Promise((resolve) => setImmediate(resolve)));
    }
  }

  #schedule(): void {
    if (this.#stopped) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    if (this.#scheduled !== undefined) return;
    this.#scheduled = setImmediate(() => {
      this.#scheduled = undefined;
      this.#run();
    });
  }

  #run(): void {
    this.#running = (async () => {
      do {
        this.#again = false;
        try {
          await this.#pass();
        } catch (error) {
          this.#options.logger.log('error', 'reconcile pass failed', {
            error: error instanceof Error ? error.message : String(error),
          });
        }
      } while (this.#again && !this.#stopped);
    })().finally(() => {
      this.#running = undefined;
      // A change that came between the loop's last check and now must not wait for the next one.
      if (this.#again) {
        this.#again = false;
        this.#schedule();
      }
      this.#arm();
    });
  }

  /** Arms one timer for the earliest retry due: a backed-off write, or pending endpoints to retry. */
  #arm(): void {
    if (this.#stopped) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    let at = Number.POSITIVE_INFINITY;
    for (const failure of this.#failures.values()) at = Math.min(at, failure.retryAt);
    const pending = this.#engine
      .leases({ state: 'active' })
      .some((lease) => lease.endpoints.some((endpoint) => endpoint.state === 'pending'));
    if (pending) at = Math.min(at, this.#now() + (this.#options.pendingRetryMs ?? 30_000));
    if (at === Number.POSITIVE_INFINITY) return;
    this.#timer = setTimeout(() => this.#schedule(), Math.max(0, at - this.#now()));
    this.#timer.unref();
  }

  async #pass(): Promise<void> {
    if (!this.#informers().every((informer) => informer.isSynced())) return;
    this.#passes += 1;
    const services = [...this.#services.items().values()].map((item) => item.object);
    const changedPools = await this.#syncPools(services);
    if (!this.#firstPass && this.#familyProblem !== undefined && this.#options.onRefused !== undefined) {
      this.#stopped = true;
      this.#options.onRefused(
        appError('NO_IP_SUPPORT', this.#familyProblem, { family: this.#families.fallback }),
      );
      return;
    }
    const ignored: Ignored[] = [];
    const groups = this.#group(ignored);
    this.#families.retain(new Set([...groups.values()].map(({ id }) => `${id.owner}/${id.dseq}`)));
    const pins = this.#pins(services);
    this.#awaitingFamily = new Map();
    await this.#migrate(groups, pins);
    await this.#deploy(groups, pins);
    await this.#closeVanished(groups);
    const pending = this.#engine
      .leases({ state: 'active' })
      .some((lease) => lease.endpoints.some((endpoint) => endpoint.state === 'pending'));
    if (changedPools || pending) {
      const maintained = await this.#engine.maintain({ actor: 'operator' });
      if (!maintained.ok) this.#logFailure('retrying pending endpoints failed', maintained.error);
    }
    this.#ignored = [...ignored, ...this.#leaseProblems.values()];
    // The ledger is now exact: /health and /usage may answer while the Services are being written.
    if (!this.#firstPass) {
      this.#firstPass = true;
      this.#firstPassDone();
      this.#options.logger.log('info', 'first sync done', this.summary());
    }
    const keep = this.#keptLeases();
    const known = await this.#syncServices(services, keep);
    for (const key of await this.#syncPolicies(keep)) known.add(key);
    for (const map of [this.#failures, this.#expected]) {
      for (const key of map.keys()) if (!known.has(key)) map.delete(key);
    }
    this.#options.onPass?.();
  }

  async #syncPools(services: readonly ServiceObject[]): Promise<boolean> {
    const foreign = new Set<string>();
    for (const service of services) {
      if (kindOf(service, this.#options.provider) === 'foreign') {
        for (const address of heldAddresses(service)) foreign.add(address);
      }
    }
    const objects = new Map(
      [...this.#poolObjects.items().values()].map((item) => [item.object.metadata.name, item.object]),
    );
    const picture = picturePools(this.#options.pools, objects, foreign);
    for (const pool of picture.pools) {
      const before = this.#picture?.pools.find((p) => p.name === pool.name)?.problem;
      if (pool.problem !== undefined && pool.problem !== before) {
        this.#options.logger.log('error', 'pool unusable', { pool: pool.name, reason: pool.problem });
      }
    }
    this.#picture = picture;
    const familyProblem = this.#familyUnserved(picture);
    if (familyProblem !== undefined && familyProblem !== this.#familyProblem) {
      this.#options.logger.log('error', 'the pools cannot serve the default family', {
        reason: familyProblem,
      });
    }
    this.#familyProblem = familyProblem;
    const key = JSON.stringify(picture.specs);
    if (key === this.#appliedPools) return false;
    const changed = await this.#engine.setPools(picture.specs);
    if (!changed.ok) {
      this.#logFailure('the pools were refused', changed.error);
      return false;
    }
    this.#appliedPools = key;
    this.#options.logger.log('info', 'pools applied', {
      pools: picture.pools.map((pool) => ({
        name: pool.name,
        size: pool.size,
        foreign: pool.foreign.length,
      })),
    });
    for (const orphan of changed.value.orphaned) {
      this.#options.logger.log('warn', 'an address held by a lease is in no pool now; it stays held', {
        lease: orphan.lease,
        endpoint: orphan.endpoint,
        addresses: orphan.addresses,
      });
    }
    return true;
  }

  /**
   * Why the named pools that exist cannot serve the default family; undefined when they can, or when
   * none exists (each missing pool is reported on its own).
   */
  #familyUnserved(picture: PoolPicture): string | undefined {
    if (picture.specs.length === 0) return undefined;
    const family = this.#families.fallback;
    if (offeredFamilies(picture.specs)[family]) return undefined;
    const names = picture.specs.map((spec) => spec.name).join(', ');
    const what =
      family === 'dual'
        ? 'a pool holding both IPv4 and IPv6 addresses (MetalLB takes both addresses of a Service from one pool)'
        : `${family === 'v4' ? 'IPv4' : 'IPv6'} addresses`;
    return `--ip-family ${familyFlagName(family)} needs ${what}; the named pools (${names}) have none`;
  }

  /** Our provider's objects by lease; the others listed in `ignored`. */
  #group(ignored: Ignored[]): Map<string, LeaseGroup> {
    const at = this.#now();
    const groups = new Map<string, LeaseGroup>();
    const seen = new Map<string, string>();
    for (const { object: port } of this.#leasedIps.items().values()) {
      if (port.lease.provider !== this.#options.provider) {
        ignored.push({
          key: port.leaseKey,
          objects: [port.name],
          kind: 'other-provider',
          reason: `lease_id.provider is ${port.lease.provider}, this operator serves ${this.#options.provider}`,
          at,
        });
        continue;
      }
      const d = port.declaration;
      const where = `${port.leaseKey}|${slot(port.sharingKey, d.externalPort, d.protocol)}`;
      const first = seen.get(where);
      if (first !== undefined) {
        ignored.push({
          key: port.leaseKey,
          objects: [port.name],
          kind: 'malformed',
          reason: `declares the same endpoint, port and protocol as object "${first}"`,
          at,
        });
        continue;
      }
      seen.set(where, port.name);
      const group = groups.get(port.leaseKey) ?? { id: port.lease, ports: [] };
      group.ports.push(port);
      groups.set(port.leaseKey, group);
    }
    for (const [key, { problem }] of this.#leasedIps.malformed()) {
      const name = key.slice(key.indexOf('/') + 1);
      ignored.push({
        key: `object/${name}`,
        objects: [name],
        kind: 'malformed',
        reason: problem.message,
        at,
      });
    }
    return groups;
  }

  /** Sharing key → the addresses our (or Go's) Services of it already carry: what adoption keeps. */
  #pins(services: readonly ServiceObject[]): Map<string, readonly string[]> {
    const pins = new Map<string, readonly string[]>();
    for (const service of services) {
      const kind = kindOf(service, this.#options.provider);
      if (kind !== 'ours' && kind !== 'go') continue;
      const key = sharingKeyAnnotation(service);
      const addresses = pinsOf(service);
      if (key !== undefined && addresses.length > 0 && !pins.has(key)) pins.set(key, addresses);
    }
    return pins;
  }

  #pinsOf(group: LeaseGroup, pins: ReadonlyMap<string, readonly string[]>) {
    const out: Record<string, readonly string[]> = {};
    for (const port of group.ports) {
      const addresses = pins.get(port.sharingKey);
      if (addresses !== undefined) out[port.declaration.endpoint] = addresses;
    }
    return out;
  }

  /**
   * The family to deploy a lease with. A lease the engine knows keeps its own (undefined here); one whose
   * Services already carry addresses (a restart without state, the Go operator's) is what they hold; a new
   * one asks the families source, and may have to wait.
   */
  #familyFor(group: LeaseGroup, pins: ReadonlyMap<string, readonly string[]>): FamilyAnswer | undefined {
    if (this.#engine.lease(group.id) !== undefined) return undefined;
    const pinned = familyOfAddresses(Object.values(this.#pinsOf(group, pins)).flat());
    return pinned === undefined ? this.#families.familyOf(group.id) : { family: pinned };
  }

  /**
   * Go's migration overwrites an endpoint's objects with the destination lease. When a slot (sharing key,
   * port, protocol) of an endpoint active on lease A is now declared by lease B, B is deployed (the endpoint
   * withheld there) and the endpoint moved A → B with its address.
   */
  async #migrate(
    groups: Map<string, LeaseGroup>,
    pins: ReadonlyMap<string, readonly string[]>,
  ): Promise<void> {
    const slotOwner = new Map<string, string>();
    for (const [key, group] of groups) {
      for (const port of group.ports) {
        slotOwner.set(slot(port.sharingKey, port.declaration.externalPort, port.declaration.protocol), key);
      }
    }
    for (const from of this.#engine.leases({ state: 'active' })) {
      for (const endpoint of from.endpoints) {
        if (endpoint.state !== 'active') continue;
        const key = sharingKeyOf(from.id.owner, endpoint.name);
        const to = from.declarations
          .filter((d) => d.endpoint === endpoint.name)
          .map((d) => slotOwner.get(slot(key, d.externalPort, d.protocol)))
          .find((owner) => owner !== undefined && owner !== from.key);
        const group = to === undefined ? undefined : groups.get(to);
        if (group === undefined) continue;
        const deployed = await this.#deployLease(group, pins);
        if (!deployed) continue;
        const moved = await this.#engine.migrate(
          {
            owner: from.id.owner,
            destination: { dseq: group.id.dseq, gseq: group.id.gseq },
            endpoints: [endpoint.name],
            source: { dseq: from.id.dseq },
          },
          { actor: 'operator' },
        );
        if (!moved.ok) {
          this.#logFailure('migration by overwrite failed', moved.error, { from: from.key, to });
          continue;
        }
        this.#options.logger.log('info', 'endpoint migrated by overwrite', {
          endpoint: endpoint.name,
          from: from.key,
          to,
          addresses: moved.value.moves.flatMap((move) => move.addresses),
        });
      }
    }
  }

  async #deploy(
    groups: Map<string, LeaseGroup>,
    pins: ReadonlyMap<string, readonly string[]>,
  ): Promise<void> {
    // Leases whose Services already carry an address go first: on a start with no state they keep it.
    const ordered = [...groups.entries()].sort(([a, ga], [b, gb]) => {
      const pa = Object.keys(this.#pinsOf(ga, pins)).length > 0 ? 0 : 1;
      const pb = Object.keys(this.#pinsOf(gb, pins)).length > 0 ? 0 : 1;
      return pa - pb || (a < b ? -1 : a > b ? 1 : 0);
    });
    for (const [, group] of ordered) await this.#deployLease(group, pins);
  }

  /** Deploys a lease when its declarations changed; false when the engine refused it (recorded). */
  async #deployLease(group: LeaseGroup, pins: ReadonlyMap<string, readonly string[]>): Promise<boolean> {
    const key = leaseKey(group.id);
    if (sameDeclarations(this.#engine.lease(group.id), group.ports)) return true;
    const family = this.#familyFor(group, pins);
    if (family !== undefined && 'waiting' in family) {
      this.#awaitingFamily.set(key, { group, reason: family.waiting });
      return false;
    }
    const deployed = await this.#engine.deployDeclarations(
      group.id,
      group.ports.map((port) => port.declaration),
      {
        pins: this.#pinsOf(group, pins),
        reopen: true,
        actor: 'operator',
        ...(family === undefined ? {} : { family: family.family }),
      },
    );
    if (!deployed.ok) {
      const before = this.#leaseProblems.get(key);
      this.#leaseProblems.set(key, {
        key,
        objects: group.ports.map((port) => port.name).sort(),
        kind: 'refused',
        reason: `${deployed.error.code}: ${deployed.error.message}`,
        at: before?.reason === deployed.error.message ? before.at : this.#now(),
      });
      if (before === undefined) this.#logFailure('lease refused', deployed.error, { lease: key });
      return false;
    }
    this.#leaseProblems.delete(key);
    this.#logEvents(key, deployed.value.events);
    return true;
  }

  async #closeVanished(groups: ReadonlyMap<string, unknown>): Promise<void> {
    for (const lease of this.#engine.leases({ state: 'active' })) {
      if (groups.has(lease.key)) continue;
      const closed = await this.#engine.close(lease.id, { actor: 'operator' });
      if (!closed.ok) this.#logFailure('closing a lease failed', closed.error, { lease: lease.key });
      else this.#logEvents(lease.key, closed.value.events);
    }
    for (const map of [this.#leaseProblems, this.#lastEventAt]) {
      for (const key of map.keys()) if (!groups.has(key)) map.delete(key);
    }
  }

  #logEvents(lease: string, events: readonly AuditEntry[]): void {
    for (const event of events) {
      this.#options.logger.log('info', event.action, {
        lease,
        ...(event.endpoint === undefined ? {} : { endpoint: event.endpoint }),
        ...(event.address === undefined ? {} : { address: event.address }),
        ...(event.port === undefined ? {} : { port: event.port, protocol: event.protocol }),
        ...(event.detail === undefined ? {} : { detail: event.detail }),
      });
    }
  }

  #logFailure(msg: string, error: AppError, fields: Record<string, unknown> = {}): void {
    this.#options.logger.log('error', msg, { ...fields, code: error.code, error: error.message });
  }

  /** The Services the engine's active endpoints want, by `namespace/name`. */
  #wanted(): Map<string, WantedService> {
    const poolOf = this.#picture?.poolOf ?? (() => undefined);
    const wanted = new Map<string, WantedService>();
    for (const lease of this.#engine.leases({ state: 'active' })) {
      for (const service of wantedServices(lease, poolOf)) wanted.set(service.key, service);
    }
    return wanted;
  }

  /** True while a write's echo is awaited or its backoff runs: the object is left alone this pass. */
  #waiting(key: string, have: { readonly metadata: ObjectMeta } | undefined, now: number): boolean {
    if (this.#inFlight.has(key)) return true;
    const failure = this.#failures.get(key);
    if (failure !== undefined && failure.retryAt > now) return true;
    const expected = this.#expected.get(key);
    if (expected === undefined) return false;
    const echoed =
      expected.kind === 'written'
        ? have !== undefined && atLeast(have.metadata.resourceVersion, expected.resourceVersion)
        : have === undefined || have.metadata.uid !== expected.uid;
    if (echoed || now - expected.at > ECHO_WAIT_MS) {
      this.#expected.delete(key);
      return false;
    }
    return true;
  }

  /** Leases the engine refused, or with an unreadable object: they keep the Services and policies they have. */
  #keptLeases(): Set<string> {
    const keep = new Set(this.#leaseProblems.keys());
    for (const [, { raw }] of this.#leasedIps.malformed()) {
      const labels = (raw as { metadata?: { labels?: Record<string, string> } }).metadata?.labels;
      const lease = leaseKeyOfLabels(labels);
      if (lease !== undefined) keep.add(lease);
    }
    return keep;
  }

  /** Writes what differs; returns the keys of the Services wanted or seen (their retry state is kept). */
  async #syncServices(services: readonly ServiceObject[], keep: ReadonlySet<string>): Promise<Set<string>> {
    const now = this.#now();
    const wanted = this.#wanted();
    const observed = new Map<string, ServiceObject>();
    for (const service of services) {
      observed.set(`${service.metadata.namespace}/${service.metadata.name}`, service);
    }
    const tasks: (() => Promise<void>)[] = [];
    for (const [key, want] of wanted) {
      const have = observed.get(key);
      if (this.#waiting(key, have, now)) continue;
      if (have === undefined) {
        tasks.push(() => this.#create(key, want));
        continue;
      }
      const kind = kindOf(have, this.#options.provider);
      if (kind !== 'ours' && kind !== 'go') {
        this.#fail(key, appError('K8S_REJECTED', `Service ${key} exists and is not ours; it is left alone`));
        continue;
      }
      if (familiesDiffer(have, want.body)) tasks.push(() => this.#delete(key, servicePath, have));
      else if (!serviceMatches(have, want.body)) tasks.push(() => this.#patch(key, have, want));
      else this.#failures.delete(key);
    }
    for (const [key, have] of observed) {
      if (wanted.has(key)) continue;
      const kind = kindOf(have, this.#options.provider);
      if (kind !== 'ours' && kind !== 'go') continue;
      if (have.metadata.labels?.[LABEL.akash] !== 'true') continue;
      const lease = leaseKeyOfLabels(have.metadata.labels);
      if (lease !== undefined && keep.has(lease)) continue;
      if (this.#waiting(key, have, now)) continue;
      tasks.push(() => this.#delete(key, servicePath, have));
    }
    await this.#runAll(tasks);
    return new Set([...wanted.keys(), ...observed.keys()]);
  }

  /**
   * Our IPv6 NetworkPolicies: one per manifest service with ports on an IPv6 address, removed with the
   * lease (or its last IPv6 port); only what differs is written. Returns the keys wanted or seen.
   */
  async #syncPolicies(keep: ReadonlySet<string>): Promise<Set<string>> {
    const now = this.#now();
    const keyOf = (metadata: { readonly namespace: string; readonly name: string }) =>
      `networkpolicy:${metadata.namespace}/${metadata.name}`;
    const wanted = new Map<string, Ipv6PolicyBody>();
    for (const lease of this.#engine.leases({ state: 'active' })) {
      for (const body of ipv6PolicyBodies(lease)) wanted.set(keyOf(body.metadata), body);
    }
    const observed = new Map<string, NetworkPolicyObject>();
    for (const { object } of this.#policies.items().values()) observed.set(keyOf(object.metadata), object);
    const tasks: (() => Promise<void>)[] = [];
    for (const [key, want] of wanted) {
      const have = observed.get(key);
      if (this.#waiting(key, have, now)) continue;
      if (have === undefined) {
        const path = networkPolicyPath(want.metadata.namespace);
        tasks.push(() =>
          this.#write(key, 'created', async () =>
            this.#written(await this.#client.create(networkPolicySchema, path, want)),
          ),
        );
      } else if (!networkPolicyMatches(have, want)) {
        const path = networkPolicyPath(want.metadata.namespace, want.metadata.name);
        const patch = { metadata: { labels: want.metadata.labels }, spec: want.spec };
        tasks.push(() =>
          this.#write(key, 'updated', async () =>
            this.#written(await this.#client.patch(networkPolicySchema, path, patch)),
          ),
        );
      } else this.#failures.delete(key);
    }
    for (const [key, have] of observed) {
      if (wanted.has(key) || this.#waiting(key, have, now)) continue;
      // Another provider's operator in the same cluster keeps its own.
      if (have.metadata.labels?.[LABEL.provider] !== this.#options.provider) continue;
      const lease = leaseKeyOfLabels(have.metadata.labels);
      if (lease !== undefined && keep.has(lease)) continue;
      tasks.push(() => this.#delete(key, networkPolicyPath, have));
    }
    await this.#runAll(tasks);
    return new Set([...wanted.keys(), ...observed.keys()]);
  }

  /** A create's or patch's answer as the echo to wait for. */
  #written(done: Result<{ readonly metadata: { readonly resourceVersion: string } }>): Result<Expectation> {
    if (!done.ok) return done;
    return {
      ok: true,
      value: { kind: 'written', resourceVersion: done.value.metadata.resourceVersion, at: this.#now() },
    };
  }

  async #runAll(tasks: readonly (() => Promise<void>)[]): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < tasks.length && !this.#stopped) {
        const task = tasks[next++];
        if (task !== undefined) await task();
      }
    };
    const width = Math.min(this.#options.concurrency ?? 16, tasks.length);
    await Promise.all(Array.from({ length: width }, worker));
  }

  async #write(key: string, verb: keyof WriteStats, work: () => Promise<Result<Expectation>>): Promise<void> {
    this.#inFlight.add(key);
    try {
      const done = await work();
      if (done.ok) {
        this.#writes[verb] += 1;
        this.#failures.delete(key);
        this.#expected.set(key, done.value);
      } else this.#fail(key, done.error);
    } finally {
      this.#inFlight.delete(key);
    }
  }

  #fail(key: string, error: AppError): void {
    const before = this.#failures.get(key);
    const attempts = (before?.attempts ?? 0) + 1;
    const { minMs, maxMs } = this.#options.writeBackoff ?? { minMs: 1000, maxMs: 300_000 };
    const delay = Math.min(maxMs, minMs * 2 ** Math.min(attempts - 1, 30));
    this.#failures.set(key, { attempts, retryAt: this.#now() + delay, error });
    this.#writes.failed += 1;
    if (before?.error.message !== error.message) {
      this.#options.logger.log('warn', 'service write failed; retrying with backoff', {
        service: key,
        attempts,
        retryInMs: delay,
        code: error.code,
        error: error.message,
      });
    }
  }

  #create(key: string, want: WantedService): Promise<void> {
    return this.#write(key, 'created', async () => {
      const created = await this.#client.create(serviceSchema, servicePath(want.port.namespace), want.body);
      if (!created.ok) return created;
      if (want.goName !== want.port.service) {
        this.#options.logger.log('warn', "Go's Service name is not valid; a hashed name is used", {
          service: key,
          goName: want.goName,
        });
      }
      const at = this.#now();
      return {
        ok: true,
        value: { kind: 'written', resourceVersion: created.value.metadata.resourceVersion, at },
      };
    });
  }

  #patch(key: string, have: ServiceObject, want: WantedService): Promise<void> {
    return this.#write(key, 'updated', async () => {
      const path = servicePath(have.metadata.namespace, have.metadata.name);
      const patched = await this.#client.patch(serviceSchema, path, servicePatch(have, want.body));
      if (!patched.ok) return patched;
      const at = this.#now();
      return {
        ok: true,
        value: { kind: 'written', resourceVersion: patched.value.metadata.resourceVersion, at },
      };
    });
  }

  #delete(
    key: string,
    pathOf: (namespace: string, name: string) => string,
    have: { readonly metadata: { readonly namespace: string; readonly name: string; readonly uid: string } },
  ): Promise<void> {
    return this.#write(key, 'deleted', async () => {
      const path = pathOf(have.metadata.namespace, have.metadata.name);
      const deleted = await this.#client.delete(path, have.metadata.uid);
      if (!deleted.ok) return deleted;
      return { ok: true, value: { kind: 'deleted', uid: have.metadata.uid, at: this.#now() } };
    });
  }

  // ---- reads for the HTTP face ----

  /**
   * One family's addresses in the usable pools (with `dualPools`, only pools holding both families) and
   * those not free: leased, quarantined, held by foreign Services.
   */
  familyUsage(family: Family, dualPools = false): Usage | undefined {
    if (!this.#firstPass || this.#picture === undefined) return undefined;
    const pools = this.#picture.pools.filter(
      (pool) => pool.problem === undefined && (!dualPools || (pool.sizes.v4 > 0n && pool.sizes.v6 > 0n)),
    );
    const names = new Set(pools.map((pool) => pool.name));
    let available = 0n;
    let inUse = 0n;
    for (const pool of pools) {
      available += pool.sizes[family];
      inUse += BigInt(pool.foreign.filter((address) => addressFamily(address) === family).length);
    }
    for (const entry of this.#engine.capacities()) {
      if (entry.family === family && names.has(entry.pool)) inUse += entry.allocated + entry.quarantined;
    }
    return { available, inUse };
  }

  /**
   * `/usage`, what the Go provider's bid gate subtracts its unconfirmed reservations from, one per
   * endpoint: counted in the default family (`--ip-family`), so Available − InUse is how many more endpoints
   * of it can be served. IPv4: IPv4 addresses, as Go. IPv6: IPv6 addresses. Dual: of the pools holding
   * both families, the family with fewer free addresses (each endpoint takes one of each).
   */
  usage(): Usage | undefined {
    const family = this.#families.fallback;
    if (family !== 'dual') return this.familyUsage(family);
    const v4 = this.familyUsage('v4', true);
    const v6 = this.familyUsage('v6', true);
    if (v4 === undefined || v6 === undefined) return undefined;
    return v6.available - v6.inUse < v4.available - v4.inUse ? v6 : v4;
  }

  /** The default family (`--ip-family`). */
  defaultFamily(): FamilyRequest {
    return this.#families.fallback;
  }

  /** The lease's ports MetalLB has confirmed, once per address (a dual-stack port twice, IPv4 first). */
  confirmedPorts(lease: LeaseId): readonly { readonly service: WantedService; readonly address: string }[] {
    const view = this.#engine.lease(lease);
    if (view === undefined || view.state !== 'active') return [];
    const items = this.#services.items();
    return wantedServices(view, this.#picture?.poolOf ?? (() => undefined)).flatMap((service) => {
      const have = items.get(service.key)?.object;
      const ingress = have === undefined ? [] : ingressAddresses(have);
      return service.port.addresses
        .filter((candidate) => ingress.includes(candidate))
        .map((address) => ({ service, address }));
    });
  }

  /** `/state`: every lease we act on, its ports and what holds each up. */
  state(): readonly LeaseState[] {
    return [...this.#activeState(), ...this.#awaitingState()];
  }

  /** Leases waiting for their family: every port pending, with why. */
  #awaitingState(): LeaseState[] {
    return [...this.#awaitingFamily.values()].map(({ group, reason }) => {
      const lastEventAt = this.#lastEventAt.get(leaseKey(group.id));
      return {
        lease: group.id,
        namespace: leaseNamespace(group.id),
        ports: group.ports.map(
          ({ sharingKey, declaration: d }): PortState => ({
            endpoint: d.endpoint,
            sharingKey,
            serviceName: d.service,
            port: d.port,
            externalPort: d.externalPort,
            protocol: d.protocol,
            state: 'pending',
            reason: `waiting for the lease's address family: ${reason}`,
          }),
        ),
        ...(lastEventAt === undefined ? {} : { lastEventAt }),
      };
    });
  }

  #activeState(): LeaseState[] {
    const items = this.#services.items();
    const poolOf = this.#picture?.poolOf ?? (() => undefined);
    return this.#engine.leases({ state: 'active' }).map((lease) => {
      const services = new Map(
        wantedServices(lease, poolOf).map((service) => [service.port.declaration, service] as const),
      );
      const endpoints = new Map(lease.endpoints.map((endpoint) => [endpoint.name, endpoint]));
      const ports = lease.declarations.map((d): PortState => {
        const base = {
          endpoint: d.endpoint,
          sharingKey: sharingKeyOf(lease.id.owner, d.endpoint),
          serviceName: d.service,
          port: d.port,
          externalPort: d.externalPort,
          protocol: d.protocol,
        };
        const endpoint = endpoints.get(d.endpoint);
        const service = services.get(d);
        if (endpoint === undefined || endpoint.state !== 'active' || service === undefined) {
          return {
            ...base,
            state: endpoint?.state === 'withheld' ? 'withheld' : 'pending',
            reason: endpoint?.reason ?? 'no address yet',
          };
        }
        const named = {
          ...base,
          service: service.port.service,
          ...(service.goName === service.port.service ? {} : { goName: service.goName }),
          address: service.port.addresses.join(','),
        };
        const have = items.get(service.key)?.object;
        const confirmed =
          have !== undefined && service.port.addresses.every((a) => ingressAddresses(have).includes(a));
        if (confirmed) return { ...named, state: 'confirmed' };
        const failure = this.#failures.get(service.key);
        const metallb =
          have === undefined ? undefined : this.#warnings.latest(service.key, have.metadata.uid);
        const reason =
          failure !== undefined
            ? `writing the Service failed (${failure.attempts}×): ${failure.error.message}`
            : have === undefined
              ? 'the Service is being created'
              : metallb !== undefined
                ? `MetalLB: ${metallb}`
                : 'waiting for MetalLB to assign the address';
        return { ...named, state: 'pending', reason };
      });
      const lastEventAt = this.#lastEventAt.get(lease.key);
      return {
        lease: lease.id,
        namespace: leaseNamespace(lease.id),
        ports,
        ...(lastEventAt === undefined ? {} : { lastEventAt }),
      };
    });
  }

  /** `/ignored-leases`: other providers' objects, malformed objects, leases the engine refused. */
  ignored(): readonly Ignored[] {
    return this.#ignored;
  }

  /** Why the first sync is not done yet: the informers that have not listed, with their last error. */
  syncProblems(): readonly string[] {
    if (this.#firstPass) return [];
    const out: string[] = [];
    for (const [name, stats] of Object.entries(this.#syncingStats())) {
      if (stats.synced) continue;
      out.push(`${name} not listed yet${stats.lastError === undefined ? '' : `: ${stats.lastError}`}`);
    }
    return out.length > 0 ? out : ['the first sync is not done'];
  }

  /** What keeps addresses from being leased (missing or unusable pools), for /readyz and /state. */
  problems(): readonly string[] {
    const out: string[] = [];
    for (const pool of this.#picture?.pools ?? []) if (pool.problem !== undefined) out.push(pool.problem);
    if (this.#familyProblem !== undefined) out.push(this.#familyProblem);
    if (this.#policies.stats().forbidden === true) {
      out.push(
        "may not list NetworkPolicies (RBAC): IPv6 endpoints get no policy admitting ::/0; grant networkpolicies as the chart's ClusterRole does",
      );
    }
    return out;
  }

  pools(): PoolPicture | undefined {
    return this.#picture;
  }

  summary(): Record<string, unknown> {
    const leases = this.#engine.leases({ state: 'active' });
    const usage = this.usage();
    return {
      synced: this.#firstPass,
      passes: this.#passes,
      leases: leases.length,
      objects: this.#leasedIps.items().size,
      ignored: this.#ignored.length,
      writes: { ...this.#writes },
      backingOff: this.#failures.size,
      ...(usage === undefined
        ? {}
        : { available: jsonCount(usage.available), inUse: jsonCount(usage.inUse) }),
    };
  }

  informerStats(): Readonly<Record<string, InformerStats>> {
    return { ...this.#syncingStats(), events: this.#warnings.stats() };
  }

  /** The informers the first pass waits for (MetalLB's Warnings are not among them). */
  #syncingStats(): Readonly<Record<string, InformerStats>> {
    return Object.fromEntries(this.#informers().map((informer) => [informer.name, informer.stats()]));
  }

  writeStats(): Readonly<WriteStats> {
    return { ...this.#writes };
  }
}
