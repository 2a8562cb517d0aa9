/**
 * The IP operator's reconcile loop. Three informers (the Go provider's `ProviderLeasedIP` objects, the
 * named MetalLB pools, every Service) feed one pass at a time, run after each informer batch (a burst of
 * events coalesces into one pass); a fourth keeps MetalLB's Warnings on Services, read only to tell why a
 * port is still pending:
 *
 * 1. pools: the named pools minus addresses foreign LoadBalancers hold → `engine.setPools` when changed;
 * 2. leases: objects of our provider grouped by lease → `engine.deployDeclarations` for a lease whose
 *    declarations changed (adopting the address its Services already carry), `engine.migrate` when Go's
 *    migration overwrote an endpoint's objects with another lease, `engine.close` when a lease's last object
 *    is gone; other providers' objects and malformed ones are listed, never acted on;
 * 3. Services: the engine's active endpoints → the Services Go would write plus our pin, compared with the
 *    informer's cache; only what differs is written, each object on its own with its own backoff.
 *
 * Nothing here restarts the world: a refused write, a bad object or a lease the engine refuses is recorded
 * with its reason and retried on its own.
 */
import type { z } from 'zod';
import type { Logger } from '../daemon/index.js';
import { type AppError, appError, type Result } from '../errors/index.js';
import {
  familiesDiffer,
  Informer,
  type InformerStats,
  type IpAddressPoolObject,
  ipAddressPoolSchema,
  KubeClient,
  type KubeGateway,
  LABEL,
  leaseNamespace,
  type ServiceObject,
  ServiceWarnings,
  serviceMatches,
  servicePatch,
  servicePath,
  serviceSchema,
} from '../k8s/index.js';
import {
  type AuditEntry,
  checkDeclarations,
  type LeaseEngine,
  type LeaseId,
  type LeaseView,
  leaseKey,
} from '../lease/index.js';
import { type DeclaredPort, leasedIpCollection, parseLeasedIp, sharingKeyOf } from './leased-ip.js';
import { jsonCount, type PoolPicture, picturePools, poolCollection } from './pools.js';
import {
  heldAddresses,
  ingressAddresses,
  kindOf,
  leaseKeyOfLabels,
  pinOf,
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
  readonly #client: KubeClient;
  readonly #now: () => number;
  readonly #leasedIps: Informer<DeclaredPort>;
  readonly #poolObjects: Informer<IpAddressPoolObject>;
  readonly #services: Informer<ServiceObject>;
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
    );
    // A list with nothing in it delivers no change: were it the last to come, no pass would ever run.
    for (const informer of [this.#leasedIps, this.#poolObjects, this.#services]) {
      void informer.synced().then(() => this.#schedule());
    }
    this.#leasedIps.start();
    this.#poolObjects.start();
    this.#services.start();
    this.#warnings.start();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await Promise.all([
      this.#leasedIps.stop(),
      this.#poolObjects.stop(),
      this.#services.stop(),
      this.#warnings.stop(),
    ]);
    await this.#running;
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
    if (!this.#leasedIps.isSynced() || !this.#poolObjects.isSynced() || !this.#services.isSynced()) return;
    this.#passes += 1;
    const services = [...this.#services.items().values()].map((item) => item.object);
    const changedPools = await this.#syncPools(services);
    const ignored: Ignored[] = [];
    const groups = this.#group(ignored);
    const pins = this.#pins(services);
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
    await this.#syncServices(services);
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

  /** Our provider's objects by lease; the others listed in `ignored`. */
  #group(ignored: Ignored[]): Map<string, { readonly id: LeaseId; readonly ports: DeclaredPort[] }> {
    const at = this.#now();
    const groups = new Map<string, { id: LeaseId; ports: DeclaredPort[] }>();
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

  /** Sharing key → the address our (or Go's) Services of it already carry: what adoption keeps. */
  #pins(services: readonly ServiceObject[]): Map<string, string> {
    const pins = new Map<string, string>();
    for (const service of services) {
      const kind = kindOf(service, this.#options.provider);
      if (kind !== 'ours' && kind !== 'go') continue;
      const key = sharingKeyAnnotation(service);
      const address = pinOf(service);
      if (key !== undefined && address !== undefined && !pins.has(key)) pins.set(key, address);
    }
    return pins;
  }

  #pinsOf(
    group: { readonly id: LeaseId; readonly ports: readonly DeclaredPort[] },
    pins: Map<string, string>,
  ) {
    const out: Record<string, readonly string[]> = {};
    for (const port of group.ports) {
      const address = pins.get(port.sharingKey);
      if (address !== undefined) out[port.declaration.endpoint] = [address];
    }
    return out;
  }

  /**
   * Go's migration overwrites an endpoint's objects with the destination lease. When a slot (sharing key,
   * port, protocol) of an endpoint active on lease A is now declared by lease B, B is deployed (the endpoint
   * withheld there) and the endpoint moved A → B with its address.
   */
  async #migrate(
    groups: Map<string, { readonly id: LeaseId; readonly ports: DeclaredPort[] }>,
    pins: Map<string, string>,
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
    groups: Map<string, { readonly id: LeaseId; readonly ports: DeclaredPort[] }>,
    pins: Map<string, string>,
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
  async #deployLease(
    group: { readonly id: LeaseId; readonly ports: readonly DeclaredPort[] },
    pins: Map<string, string>,
  ): Promise<boolean> {
    const key = leaseKey(group.id);
    if (sameDeclarations(this.#engine.lease(group.id), group.ports)) return true;
    const deployed = await this.#engine.deployDeclarations(
      group.id,
      group.ports.map((port) => port.declaration),
      { pins: this.#pinsOf(group, pins), reopen: true, actor: 'operator' },
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
  #waiting(key: string, have: ServiceObject | undefined, now: number): boolean {
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

  async #syncServices(services: readonly ServiceObject[]): Promise<void> {
    const now = this.#now();
    const wanted = this.#wanted();
    const observed = new Map<string, ServiceObject>();
    for (const service of services) {
      observed.set(`${service.metadata.namespace}/${service.metadata.name}`, service);
    }
    // A lease the engine refused, or with an unreadable object, keeps the Services it has.
    const keep = new Set(this.#leaseProblems.keys());
    for (const [, { raw }] of this.#leasedIps.malformed()) {
      const labels = (raw as { metadata?: { labels?: Record<string, string> } }).metadata?.labels;
      const lease = leaseKeyOfLabels(labels);
      if (lease !== undefined) keep.add(lease);
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
      if (familiesDiffer(have, want.body)) tasks.push(() => this.#delete(key, have));
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
      tasks.push(() => this.#delete(key, have));
    }
    await this.#runAll(tasks);
    for (const map of [this.#failures, this.#expected]) {
      for (const key of map.keys()) if (!wanted.has(key) && !observed.has(key)) map.delete(key);
    }
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

  #delete(key: string, have: ServiceObject): Promise<void> {
    return this.#write(key, 'deleted', async () => {
      const path = servicePath(have.metadata.namespace, have.metadata.name);
      const deleted = await this.#client.delete(path, have.metadata.uid);
      if (!deleted.ok) return deleted;
      return { ok: true, value: { kind: 'deleted', uid: have.metadata.uid, at: this.#now() } };
    });
  }

  // ---- reads for the HTTP face ----

  /** `/usage`: pool size and addresses not free (leased, quarantined, held by foreign Services). */
  usage(): { readonly available: bigint; readonly inUse: bigint } | undefined {
    if (!this.#firstPass || this.#picture === undefined) return undefined;
    const usable = new Set(this.#picture.specs.map((spec) => spec.name));
    let inUse = BigInt(this.#picture.foreign);
    for (const entry of this.#engine.capacities()) {
      if (usable.has(entry.pool)) inUse += entry.allocated + entry.quarantined;
    }
    return { available: this.#picture.size, inUse };
  }

  /** The lease's ports MetalLB has confirmed (its Service reports the leased address). */
  confirmedPorts(lease: LeaseId): readonly { readonly service: WantedService; readonly address: string }[] {
    const view = this.#engine.lease(lease);
    if (view === undefined || view.state !== 'active') return [];
    const items = this.#services.items();
    return wantedServices(view, this.#picture?.poolOf ?? (() => undefined)).flatMap((service) => {
      const have = items.get(service.key)?.object;
      const ingress = have === undefined ? [] : ingressAddresses(have);
      const address = service.port.addresses.find((candidate) => ingress.includes(candidate));
      return address === undefined ? [] : [{ service, address }];
    });
  }

  /** `/state`: every lease we act on, its ports and what holds each up. */
  state(): readonly LeaseState[] {
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
    return {
      providerleasedips: this.#leasedIps.stats(),
      ipaddresspools: this.#poolObjects.stats(),
      services: this.#services.stats(),
    };
  }

  writeStats(): Readonly<WriteStats> {
    return { ...this.#writes };
  }
}
