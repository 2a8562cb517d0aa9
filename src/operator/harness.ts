/**
 * A test harness: the operator on the in-memory API server, with MetalLB played by the test (it assigns
 * every pinned address when told to), and waits on conditions, never on time.
 */
import { memoryLogger } from '../daemon/index.js';
import type { AppError } from '../errors/index.js';
import { FakeKubeGateway, leaseNamespace } from '../k8s/index.js';
import { createLeaseEngine, type LeaseEngine, type LeaseId, type LeaseStore } from '../lease/index.js';
import { createMemoryStore } from '../store/index.js';
import { until } from '../testing/wait.js';
import type { LeaseFamilies } from './families.js';
import { IpOperator } from './reconciler.js';
import { type GoDeclaration, goLeasedIp, metallbAssign, metallbPool, PROVIDER } from './testing.js';

export const LEASED_IPS = '/apis/akash.network/v2beta2/namespaces/lease/providerleasedips';
export const POOLS = '/apis/metallb.io/v1beta1/namespaces/metallb-system/ipaddresspools';

export { until, untilValue } from '../testing/wait.js';

export interface HarnessOptions {
  readonly pool?: readonly string[];
  /** More MetalLB pools, by name, leased from besides `default`. */
  readonly morePools?: Readonly<Record<string, readonly string[]>>;
  readonly store?: LeaseStore;
  readonly fake?: FakeKubeGateway;
  /** Leave MetalLB out (tests of what happens before it confirms). */
  readonly noMetallb?: boolean;
  readonly start?: boolean;
  /** The operator's clock (milliseconds); default the real one. */
  readonly clock?: { now: number };
  /** Where new leases' families come from; default IPv4 for all. */
  readonly families?: LeaseFamilies;
  readonly onRefused?: (error: AppError) => void;
}

export class Harness {
  readonly logger = memoryLogger();
  operator!: IpOperator;
  engine!: LeaseEngine;

  private constructor(
    readonly fake: FakeKubeGateway,
    private readonly options: HarnessOptions,
  ) {}

  static async create(options: HarnessOptions = {}): Promise<Harness> {
    const fake = options.fake ?? new FakeKubeGateway();
    if (options.fake === undefined) {
      for (const name of ['lease', 'metallb-system']) fake.add('/api/v1/namespaces', { metadata: { name } });
      fake.add(POOLS, metallbPool('default', options.pool ?? ['192.0.2.0/29']));
      for (const [name, addresses] of Object.entries(options.morePools ?? {})) {
        fake.add(POOLS, metallbPool(name, addresses));
      }
    }
    const harness = new Harness(fake, options);
    await harness.boot(options.store ?? createMemoryStore());
    return harness;
  }

  /** Builds the engine and the operator over `store` and waits for the first sync. */
  async boot(store: LeaseStore): Promise<void> {
    const engine = await createLeaseEngine({ store, provider: PROVIDER, pools: [], quarantineMs: 60_000 });
    if (!engine.ok) throw new Error(engine.error.message);
    this.engine = engine.value;
    this.operator = new IpOperator({
      gateway: this.fake,
      engine: this.engine,
      provider: PROVIDER,
      manifestNamespace: 'lease',
      metallbNamespace: 'metallb-system',
      pools: ['default', ...Object.keys(this.options.morePools ?? {})],
      logger: this.logger,
      ...(this.options.clock === undefined ? {} : { now: () => this.options.clock?.now ?? 0 }),
      writeBackoff: { minMs: 5, maxMs: 40 },
      watchBackoff: { minMs: 5, maxMs: 40 },
      ...(this.options.families === undefined ? {} : { families: this.options.families }),
      ...(this.options.onRefused === undefined ? {} : { onRefused: this.options.onRefused }),
    });
    if (this.options.start === false) return;
    this.operator.start();
    await this.operator.synced();
  }

  /** Stops the operator (a restart is `stop()` then `boot(store)`). */
  async stop(): Promise<void> {
    await this.operator.stop();
  }

  /** `DeclareIP` for each port, creating the lease's namespace first as the provider's Deploy does. */
  declare(lease: LeaseId, ...ports: GoDeclaration[]): void {
    const namespace = leaseNamespace(lease);
    if (this.fake.objects(`/api/v1/namespaces/${namespace}`).length === 0) {
      this.fake.add('/api/v1/namespaces', { metadata: { name: namespace } });
    }
    for (const port of ports) this.fake.add(LEASED_IPS, goLeasedIp(lease, port));
  }

  /** A Service another writer made (the Go operator, another LoadBalancer), with MetalLB's address in its status. */
  addService(
    body: {
      readonly metadata: { readonly name: string; readonly namespace: string };
      readonly spec: unknown;
    },
    address?: string,
  ): void {
    const { name, namespace } = body.metadata;
    if (this.fake.objects(`/api/v1/namespaces/${namespace}`).length === 0) {
      this.fake.add('/api/v1/namespaces', { metadata: { name: namespace } });
    }
    this.fake.add(`/api/v1/namespaces/${namespace}/services`, body);
    if (address !== undefined) {
      this.fake.setStatus(`/api/v1/namespaces/${namespace}/services/${name}`, {
        loadBalancer: { ingress: [{ ip: address }] },
      });
    }
  }

  /**
   * Waits until the operator has nothing left to do: every informer has seen the API server's latest
   * version (a bookmark carries it), no pass runs, and MetalLB (unless left out) has nothing to assign.
   */
  async settle(): Promise<void> {
    for (let round = 0; round < 100; round++) {
      await this.operator.idle();
      const assigned = this.options.noMetallb === true ? 0 : metallbAssign(this.fake);
      const rv = this.fake.resourceVersion();
      let turns = 0;
      // A bookmark reaches open watches only: one that is reconnecting gets the next one.
      await until(() => {
        if (turns++ % 20 === 0) this.fake.bookmark();
        // An optional informer the server forbids to list has no version to reach.
        return Object.values(this.operator.informerStats()).every(
          (stats) => stats.forbidden === true || BigInt(stats.resourceVersion ?? '0') >= BigInt(rv),
        );
      }, `the informers to reach resourceVersion ${rv}`);
      await this.operator.idle();
      if (assigned === 0 && this.fake.resourceVersion() === rv) return;
    }
    throw new Error('the operator did not settle');
  }

  /** The Services in a lease's namespace, by name. */
  services(
    lease: LeaseId,
  ): Map<string, Record<string, unknown> & { metadata: { annotations?: Record<string, string> } }> {
    const out = new Map();
    for (const object of this.fake.objects(`/api/v1/namespaces/${leaseNamespace(lease)}/services`)) {
      const name = (object as { metadata: { name: string } }).metadata.name;
      out.set(name, object);
    }
    return out;
  }

  /** The pinned address of every Service of the lease, by Service name. */
  addresses(lease: LeaseId): Record<string, string | undefined> {
    const out: Record<string, string | undefined> = {};
    for (const [name, service] of this.services(lease)) {
      out[name] = service.metadata.annotations?.['metallb.io/loadBalancerIPs'];
    }
    return out;
  }
}
