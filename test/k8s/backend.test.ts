/**
 * The Kubernetes backend against a real kube-apiserver and the real MetalLB controller (test/k8s/harness),
 * driven by the real lease engine: what the engine decides is what the cluster must end up holding.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PoolSpec } from '../../src/ipam/index.js';
import { createHttpsGateway, KubeBackend, type KubeGateway } from '../../src/k8s/index.js';
import {
  createLeaseEngine,
  type LeaseEngine,
  type LeaseId,
  type LeaseView,
  type RealizedLease,
} from '../../src/lease/index.js';
import { groupSpecOf, leaseOf, manifestGroup, PROVIDER, requiring } from '../../src/lease/testing.js';
import { createMemoryStore } from '../../src/store/index.js';
import { eventually, startCluster, type TestCluster } from './cluster.js';

// Documentation ranges; the harness keeps 203.0.113.0/25 and 2001:db8:ffff::/112 for ClusterIPs and
// 203.0.113.254 for its probe.
const POOLS: readonly PoolSpec[] = [
  { name: 'pool-a', addresses: ['192.0.2.1-192.0.2.14'] },
  { name: 'pool-b', addresses: ['198.51.100.16/29'] },
];
const POOLS_V6: readonly PoolSpec[] = [{ name: 'pool-v6', addresses: ['2001:db8:1::/120'] }];
/** One pool holding both families: MetalLB gives a dual-stack Service both addresses from one pool. */
const POOL_DUAL: PoolSpec = { name: 'pool-dual', addresses: ['198.51.100.32/29', '2001:db8:2::/120'] };
const TENANT = 'akash1tenant';
const OTHER = 'akash1other';
const LEASE_A = leaseOf(TENANT, 11);
const LEASE_B = leaseOf(TENANT, 12);
const LEASE_C = leaseOf(OTHER, 13);

let cluster: TestCluster;
let gateway: KubeGateway;
let backend: KubeBackend;
let engine: LeaseEngine;
/** A second provider engine leasing IPv6 addresses only. */
let engine6: LeaseEngine;

function unwrap<T>(
  result: { ok: true; value: T } | { ok: false; error: { code: string; message: string } },
): T {
  if (!result.ok) assert.fail(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

async function raw(path: string): Promise<{ items: Record<string, unknown>[] }> {
  const answer = unwrap(await gateway.request({ method: 'GET', path }));
  assert.equal(answer.status, 200, `GET ${path}: ${JSON.stringify(answer.body)}`);
  return answer.body as { items: Record<string, unknown>[] };
}

interface ServiceLike {
  metadata: { name: string; namespace: string; uid: string; annotations?: Record<string, string> };
}

async function managedServices(): Promise<ServiceLike[]> {
  const list = await raw('/api/v1/services?labelSelector=app.kubernetes.io/managed-by%3Dakash-ip');
  return list.items as unknown as ServiceLike[];
}

async function deploy(id: LeaseId, services: Parameters<typeof manifestGroup>[1]): Promise<LeaseView> {
  const view = unwrap(await engine.deploy(id, manifestGroup('dcloud', services))).lease;
  assert.ok(view !== undefined);
  return view;
}

function addressOf(view: LeaseView, endpoint: string): string {
  const found = view.endpoints.find((e) => e.name === endpoint);
  assert.equal(found?.state, 'active', `endpoint ${endpoint}: ${JSON.stringify(found)}`);
  assert.equal(found.addresses.length, 1);
  return found.addresses[0]!;
}

/** Waits until MetalLB has confirmed every port of the lease. */
function confirmed(id: LeaseId): Promise<RealizedLease> {
  return eventually(`MetalLB confirms ${id.owner}/${id.dseq}`, async () => {
    const status = unwrap(await backend.status(id));
    return status.confirmed ? status : undefined;
  });
}

describe('k8s backend on a real apiserver + MetalLB controller', () => {
  before(async () => {
    cluster = await startCluster();
    gateway = createHttpsGateway({ server: cluster.server, ca: cluster.ca, token: cluster.token });
    backend = new KubeBackend({ gateway, provider: PROVIDER, metallbNamespace: cluster.metallbNamespace });
    backend.start();
    engine = unwrap(
      await createLeaseEngine({ store: createMemoryStore(), provider: PROVIDER, pools: POOLS }),
    );
    engine6 = unwrap(
      await createLeaseEngine({
        store: createMemoryStore(),
        provider: PROVIDER,
        pools: POOLS_V6,
        family: 'v6',
      }),
    );
  });

  after(async () => {
    await backend?.stop();
    gateway?.close();
    await cluster?.stop();
  });

  it('installs the ProviderLeasedIP CRD and mirrors the pools as MetalLB IPAddressPools', async () => {
    unwrap(await backend.prepare());
    unwrap(await backend.prepare());
    const poolsPath = `/apis/metallb.io/v1beta1/namespaces/${cluster.metallbNamespace}/ipaddresspools`;
    // An operator's own pool: never ours to change or delete.
    const foreign = unwrap(
      await gateway.request({
        method: 'POST',
        path: poolsPath,
        body: {
          apiVersion: 'metallb.io/v1beta1',
          kind: 'IPAddressPool',
          metadata: { name: 'operator-pool' },
          spec: { addresses: ['203.0.113.240/30'], autoAssign: false },
        },
      }),
    );
    assert.equal(foreign.status, 201);
    const all = [...POOLS, ...POOLS_V6];
    const first = unwrap(await backend.syncPools(all));
    assert.deepEqual(first, { created: ['pool-a', 'pool-b', 'pool-v6'], updated: [], deleted: [] });
    const specs = async () =>
      Object.fromEntries(
        (await raw(poolsPath)).items.map((item) => {
          const pool = item as { metadata: { name: string }; spec: unknown };
          return [pool.metadata.name, pool.spec];
        }),
      );
    assert.deepEqual(await specs(), {
      'operator-pool': { addresses: ['203.0.113.240/30'], autoAssign: false, avoidBuggyIPs: false },
      'pool-a': { addresses: ['192.0.2.1-192.0.2.14'], autoAssign: false, avoidBuggyIPs: false },
      'pool-b': { addresses: ['198.51.100.16/29'], autoAssign: false, avoidBuggyIPs: false },
      'pool-v6': { addresses: ['2001:db8:1::/120'], autoAssign: false, avoidBuggyIPs: false },
    });
    assert.deepEqual(unwrap(await backend.syncPools(all)), { created: [], updated: [], deleted: [] });
    // Dropping and changing pools touches ours only.
    assert.deepEqual(unwrap(await backend.syncPools([{ ...POOLS[0]!, avoidBuggyIPs: true }, ...POOLS_V6])), {
      created: [],
      updated: ['pool-a'],
      deleted: ['pool-b'],
    });
    assert.deepEqual(Object.keys(await specs()).sort(), ['operator-pool', 'pool-a', 'pool-v6']);
    assert.deepEqual(unwrap(await backend.syncPools(all)), {
      created: ['pool-b'],
      updated: ['pool-a'],
      deleted: [],
    });
  });

  it('puts two ports of one endpoint on the one address the IPAM chose, confirmed by MetalLB', async () => {
    const view = await deploy(LEASE_A, {
      web: [
        { port: 80, ip: 'web' },
        { port: 443, ip: 'web' },
      ],
    });
    const address = addressOf(view, 'web');
    const writes = unwrap(await backend.apply(view));
    assert.deepEqual(writes, { created: 4, updated: 0, deleted: 0, unchanged: 0 });
    const status = await confirmed(LEASE_A);
    assert.deepEqual(
      status.ports.map((port) => [port.declaration.externalPort, port.assigned]),
      [
        [80, [address]],
        [443, [address]],
      ],
    );
    const services = await managedServices();
    assert.equal(services.length, 2);
    for (const service of services) {
      assert.equal(service.metadata.annotations?.['metallb.io/allow-shared-ip'], `${TENANT}-ip-web`);
      assert.equal(service.metadata.annotations?.['metallb.io/loadBalancerIPs'], address);
    }
    const resources = await raw('/apis/akash.network/v2beta2/namespaces/lease/providerleasedips');
    assert.deepEqual(
      resources.items.map((item) => (item as { metadata: { name: string } }).metadata.name).sort(),
      [`${TENANT}-ip-web-tcp-443`, `${TENANT}-ip-web-tcp-80`],
    );
  });

  it('keeps the address when the deployment is updated (new target port, one more port)', async () => {
    const before = unwrap(await backend.status(LEASE_A));
    const uids = (await managedServices()).map((service) => service.metadata.uid).sort();
    const view = await deploy(LEASE_A, {
      web: [
        { port: 8080, as: 80, ip: 'web' },
        { port: 443, ip: 'web' },
        { port: 53, proto: 'UDP', ip: 'web' },
      ],
    });
    const address = addressOf(view, 'web');
    assert.deepEqual(before.ports[0]?.addresses, [address]);
    const writes = unwrap(await backend.apply(view));
    // Port 80's objects are patched in place (target 80 → 8080), 443's are already right, 53/UDP is new.
    assert.deepEqual(writes, { created: 2, updated: 2, deleted: 0, unchanged: 2 });
    const status = await confirmed(LEASE_A);
    assert.deepEqual(
      status.ports.map((port) => [port.declaration.externalPort, port.declaration.port, port.assigned]),
      [
        [53, 53, [address]],
        [80, 8080, [address]],
        [443, 443, [address]],
      ],
    );
    const kept = (await managedServices()).map((service) => service.metadata.uid);
    for (const uid of uids) assert.ok(kept.includes(uid), 'an existing Service was recreated');
  });

  it("closing one lease deletes exactly its objects; the same owner's other lease and another tenant's stay", async () => {
    const viewB = await deploy(LEASE_B, { api: [{ port: 80, ip: 'api' }] });
    const viewC = await deploy(LEASE_C, { web: [{ port: 80, ip: 'web' }] });
    unwrap(await backend.apply(viewB));
    unwrap(await backend.apply(viewC));
    await confirmed(LEASE_B);
    await confirmed(LEASE_C);

    const closed = unwrap(await engine.close(LEASE_A)).lease;
    assert.equal(closed?.state, 'closed');
    const writes = unwrap(await backend.apply(closed));
    assert.deepEqual(writes, { created: 0, updated: 0, deleted: 6, unchanged: 0 });

    assert.equal(unwrap(await backend.status(LEASE_A)).ports.length, 0);
    const left = await managedServices();
    assert.deepEqual(
      left.map((service) => service.metadata.annotations?.['metallb.io/allow-shared-ip']).sort(),
      [`${OTHER}-ip-web`, `${TENANT}-ip-api`],
    );
    const b = unwrap(await backend.status(LEASE_B));
    const c = unwrap(await backend.status(LEASE_C));
    assert.ok(b.confirmed && c.confirmed);
    assert.deepEqual(b.ports[0]?.assigned, [addressOf(viewB, 'api')]);
    assert.deepEqual(c.ports[0]?.assigned, [addressOf(viewC, 'web')]);
  });

  it('a restarted backend rebuilds its state from the cluster and then writes nothing', async () => {
    // A lease the engine never made, pinned outside every MetalLB pool: MetalLB cannot confirm it.
    const stray: LeaseView = {
      ...engine.lease(LEASE_B)!,
      id: leaseOf(TENANT, 99),
      key: 'stray',
      declarations: [{ endpoint: 'stray', service: 'api', port: 80, externalPort: 80, protocol: 'TCP' }],
      endpoints: [{ name: 'stray', state: 'active', since: 0, family: 'v4', addresses: ['203.0.113.200'] }],
    };
    unwrap(await backend.apply(stray));
    const problem = await eventually('MetalLB says why the stray lease has no address', async () => {
      const port = unwrap(await backend.status(stray.id)).ports[0];
      assert.equal(port?.confirmed, false);
      return port?.problem;
    });
    assert.match(problem, /^AllocationFailed: .*203\.0\.113\.200/);

    const restarted = new KubeBackend({
      gateway: createHttpsGateway({ server: cluster.server, ca: cluster.ca, token: cluster.token }),
      provider: PROVIDER,
      metallbNamespace: cluster.metallbNamespace,
    });
    const state = unwrap(await restarted.rebuild());
    assert.deepEqual(state.malformed, []);
    // Assigned leases first (B and C, by key), the unconfirmed stray last.
    assert.deepEqual(
      state.leases.map((lease) => [lease.id.dseq, lease.confirmed]),
      [
        ['13', true],
        ['12', true],
        ['99', false],
      ],
    );
    const rebuiltB = state.leases.find((lease) => lease.id.dseq === '12');
    assert.deepEqual(
      rebuiltB?.ports.map((port) => port.declaration),
      engine.lease(LEASE_B)?.declarations,
    );

    const result = unwrap(await restarted.reconcile(engine.leases()));
    assert.deepEqual(result.failures, []);
    // Only the stray lease's two objects go; every other object is already right.
    assert.deepEqual(result.writes, { created: 0, updated: 0, deleted: 2, unchanged: 4 });
    assert.deepEqual([...restarted.observed().keys()].sort(), [LEASE_C, LEASE_B].map(keyOf).sort());
  });

  it("a migration moves the endpoint's objects to the destination lease and keeps its address", async () => {
    const source = engine.lease(LEASE_B)!;
    const address = addressOf(source, 'api');
    const destination = leaseOf(TENANT, 14);
    const withheld = await deploy(destination, { api: [{ port: 80, ip: 'api' }] });
    assert.equal(withheld.endpoints[0]?.state, 'withheld');
    assert.deepEqual(unwrap(await backend.reconcile(engine.leases())).writes, {
      created: 0,
      updated: 0,
      deleted: 0,
      unchanged: 4,
    });

    unwrap(await engine.migrate({ owner: TENANT, destination: { dseq: '14', gseq: 1 }, endpoints: ['api'] }));
    const result = unwrap(await backend.reconcile(engine.leases()));
    assert.deepEqual(result.failures, []);
    // The source's Service and object go first, then the destination's are created with the same pin.
    assert.deepEqual(result.writes, { created: 2, updated: 0, deleted: 2, unchanged: 2 });
    assert.equal(unwrap(await backend.status(LEASE_B)).ports.length, 0);
    const moved = await confirmed(destination);
    assert.deepEqual(
      moved.ports.map((port) => port.assigned),
      [[address]],
    );
  });

  it('one lease the server refuses does not stop the others', async () => {
    // A valid Akash address, but too long for a label value (63 characters): the server refuses the
    // objects that carry it (422; a reconcile compares with the objects it listed, so no per-lease
    // selector, which would be refused with 400, is sent).
    const refused = leaseOf(`akash1${'q'.repeat(64)}`, 15);
    await deploy(refused, { web: [{ port: 80, ip: 'web' }] });
    const late = leaseOf(OTHER, 16);
    const view = await deploy(late, { db: [{ port: 5432, ip: 'db' }] });
    const result = unwrap(await backend.reconcile(engine.leases()));
    assert.deepEqual(
      result.failures.map((failure) => [failure.lease, failure.error.code, failure.error.details?.status]),
      [[keyOf(refused), 'K8S_REJECTED', 422]],
    );
    const status = await confirmed(late);
    assert.deepEqual(status.ports[0]?.assigned, [addressOf(view, 'db')]);
  });

  it('an IPv6 endpoint gets IPv6 LoadBalancer Services on its one address, confirmed by MetalLB', async () => {
    const id = leaseOf(TENANT, 21);
    const group = manifestGroup('dcloud', {
      web: [
        { port: 80, ip: 'edge' },
        { port: 443, ip: 'edge' },
      ],
    });
    const view = unwrap(await engine6.deploy(id, group)).lease;
    assert.ok(view !== undefined);
    const address = addressOf(view, 'edge');
    assert.match(address, /^2001:db8:1::/);
    assert.deepEqual(unwrap(await backend.apply(view)), { created: 4, updated: 0, deleted: 0, unchanged: 0 });
    const status = await confirmed(id);
    assert.deepEqual(
      status.ports.map((port) => port.assigned),
      [[address], [address]],
    );
    const namespace = status.ports[0]?.service?.split('/')[0];
    const services = await raw(`/api/v1/namespaces/${namespace}/services`);
    assert.equal(services.items.length, 2);
    for (const item of services.items) {
      assert.deepEqual((item as { spec: { ipFamilies: string[] } }).spec.ipFamilies, ['IPv6']);
    }
  });

  it('a dual-stack endpoint gets RequireDualStack Services pinned to both addresses, both confirmed by MetalLB', async () => {
    unwrap(await backend.syncPools([...POOLS, ...POOLS_V6, POOL_DUAL]));
    const dual = unwrap(
      await createLeaseEngine({ store: createMemoryStore(), provider: PROVIDER, pools: [POOL_DUAL] }),
    );
    const id = leaseOf(TENANT, 31);
    const group = manifestGroup('dcloud', {
      web: [
        { port: 80, ip: 'both' },
        { port: 53, proto: 'UDP', ip: 'both' },
      ],
    });
    const spec = requiring(groupSpecOf(group), { 'ip-lease-ipv6': 'true' });
    const view = unwrap(await dual.deploy(id, group, { groupSpec: spec })).lease;
    assert.ok(view !== undefined);
    const addresses = view.endpoints[0]?.addresses ?? [];
    assert.equal(addresses.length, 2);
    assert.match(addresses[0] ?? '', /^198\.51\.100\./);
    assert.match(addresses[1] ?? '', /^2001:db8:2::/);
    assert.deepEqual(unwrap(await backend.apply(view)), { created: 4, updated: 0, deleted: 0, unchanged: 0 });
    const status = await confirmed(id);
    assert.deepEqual(
      status.ports.map((port) => port.assigned),
      [addresses, addresses],
    );
    const namespace = status.ports[0]?.service?.split('/')[0];
    const services = await raw(`/api/v1/namespaces/${namespace}/services`);
    assert.equal(services.items.length, 2);
    for (const item of services.items) {
      const service = item as {
        spec: { ipFamilies: string[]; ipFamilyPolicy: string };
        metadata: { annotations: Record<string, string> };
        status: { loadBalancer: { ingress?: { ip: string }[] } };
      };
      assert.deepEqual(service.spec.ipFamilies, ['IPv4', 'IPv6']);
      assert.equal(service.spec.ipFamilyPolicy, 'RequireDualStack');
      assert.equal(service.metadata.annotations['metallb.io/loadBalancerIPs'], addresses.join(','));
      assert.deepEqual(
        service.status.loadBalancer.ingress?.map((entry) => entry.ip),
        addresses,
      );
    }
  });
});

function keyOf(id: LeaseId): string {
  return `${id.owner}/${id.dseq}/${id.gseq}/${id.oseq}/${id.provider}`;
}
