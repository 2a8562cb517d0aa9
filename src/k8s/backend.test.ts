/**
 * The Kubernetes backend on the in-memory API server: the fast half of its tests (the real apiserver and
 * MetalLB half is test/k8s/backend.test.ts). What the lease engine decides is what the fake must end up holding.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { PoolSpec } from '../ipam/index.js';
import { createLeaseEngine, type LeaseEngine, type LeaseId, type LeaseView } from '../lease/index.js';
import { leaseOf, manifestGroup, PROVIDER } from '../lease/testing.js';
import { createMemoryStore } from '../store/index.js';
import { untilValue } from '../testing/wait.js';
import { KubeBackend } from './backend.js';
import { FakeKubeGateway } from './fake-gateway.js';
import { leaseNamespace } from './names.js';

const POOLS: readonly PoolSpec[] = [{ name: 'pool-a', addresses: ['192.0.2.1-192.0.2.14'] }];
const TENANT = 'akash1tenant';
const OTHER = 'akash1other';
const RESOURCES = '/apis/akash.network/v2beta2/namespaces/lease/providerleasedips';

function unwrap<T>(
  result: { ok: true; value: T } | { ok: false; error: { code: string; message: string } },
): T {
  if (!result.ok) assert.fail(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

function keyOf(id: LeaseId): string {
  return `${id.owner}/${id.dseq}/${id.gseq}/${id.oseq}/${id.provider}`;
}

let fake: FakeKubeGateway;
let backend: KubeBackend;
let engine: LeaseEngine;

async function deploy(id: LeaseId, services: Parameters<typeof manifestGroup>[1]): Promise<LeaseView> {
  const view = unwrap(await engine.deploy(id, manifestGroup('dcloud', services))).lease;
  assert.ok(view !== undefined);
  return view;
}

function names(path: string): string[] {
  return fake.objects(path).map((object) => (object.metadata as { name: string }).name);
}

function servicesOf(owner: string): string[] {
  return fake
    .objects('/api/v1/services')
    .filter(
      (object) =>
        (object.metadata as { labels: Record<string, string> }).labels['akash.network/lease.id.owner'] ===
        owner,
    )
    .map((object) => (object.metadata as { name: string }).name);
}

describe('KubeBackend on the fake API server', () => {
  beforeEach(async () => {
    fake = new FakeKubeGateway();
    backend = new KubeBackend({ gateway: fake, provider: PROVIDER });
    engine = unwrap(
      await createLeaseEngine({ store: createMemoryStore(), provider: PROVIDER, pools: POOLS }),
    );
    unwrap(await backend.prepare());
    fake.resetCounts();
  });

  it("applies a lease's objects, and a second apply writes nothing", async () => {
    const view = await deploy(leaseOf(TENANT, 1), {
      web: [
        { port: 80, ip: 'web' },
        { port: 53, proto: 'UDP', ip: 'web' },
      ],
    });
    assert.deepEqual(unwrap(await backend.apply(view)), { created: 4, updated: 0, deleted: 0, unchanged: 0 });
    assert.deepEqual(names(RESOURCES), [`${TENANT}-ip-web-tcp-80`, `${TENANT}-ip-web-udp-53`]);
    assert.deepEqual(servicesOf(TENANT).sort(), ['web-ip-53-udp', 'web-ip-80-tcp']);
    const address = view.endpoints[0]!.addresses[0]!;
    for (const service of fake.objects('/api/v1/services')) {
      const annotations = (service.metadata as { annotations: Record<string, string> }).annotations;
      assert.equal(annotations['metallb.io/loadBalancerIPs'], address);
    }
    fake.resetCounts();
    assert.deepEqual(unwrap(await backend.apply(view)), { created: 0, updated: 0, deleted: 0, unchanged: 4 });
    assert.equal(fake.writes(), 0);
  });

  it("removes only that lease's objects", async () => {
    const a = await deploy(leaseOf(TENANT, 1), { web: [{ port: 80, ip: 'web' }] });
    const b = await deploy(leaseOf(TENANT, 2), { api: [{ port: 80, ip: 'api' }] });
    const c = await deploy(leaseOf(OTHER, 3), { web: [{ port: 80, ip: 'web' }] });
    for (const view of [a, b, c]) unwrap(await backend.apply(view));
    // Someone else's Service carrying the lease's labels but not ours: never deleted.
    const namespaceOfA = fake.objects('/api/v1/services')[0]!.metadata as { namespace: string };
    fake.add(`/api/v1/namespaces/${namespaceOfA.namespace}/services`, {
      metadata: {
        name: 'hand-made',
        labels: { 'akash.network/lease.id.owner': TENANT, 'akash.network/lease.id.dseq': '1' },
      },
      spec: { ports: [{ port: 9 }] },
    });
    assert.deepEqual(unwrap(await backend.remove(a.id)), {
      created: 0,
      updated: 0,
      deleted: 2,
      unchanged: 0,
    });
    assert.deepEqual(names(RESOURCES), [`${OTHER}-ip-web-tcp-80`, `${TENANT}-ip-api-tcp-80`]);
    assert.deepEqual(servicesOf(TENANT).sort(), ['api-ip-80-tcp', 'hand-made']);
    assert.deepEqual(servicesOf(OTHER), ['web-ip-80-tcp']);
  });

  it('a new backend rebuilds the state from the cluster, then a reconcile writes nothing', async () => {
    const a = await deploy(leaseOf(TENANT, 1), { web: [{ port: 80, ip: 'web' }] });
    const b = await deploy(leaseOf(OTHER, 2), { db: [{ port: 5432, ip: 'db' }] });
    unwrap(await backend.apply(a));
    unwrap(await backend.apply(b));
    // MetalLB confirms lease b's address.
    const serviceOfB = fake
      .objects('/api/v1/services')
      .find((object) => (object.metadata as { name: string }).name === 'db-ip-5432-tcp')!.metadata as {
      name: string;
      namespace: string;
    };
    fake.setStatus(`/api/v1/namespaces/${serviceOfB.namespace}/services/${serviceOfB.name}`, {
      loadBalancer: { ingress: [{ ip: b.endpoints[0]!.addresses[0] }] },
    });
    const restarted = new KubeBackend({ gateway: fake, provider: PROVIDER });
    const state = unwrap(await restarted.rebuild());
    assert.deepEqual(state.malformed, []);
    // The lease MetalLB already serves comes first.
    assert.deepEqual(
      state.leases.map((lease) => [lease.id.dseq, lease.confirmed]),
      [
        ['2', true],
        ['1', false],
      ],
    );
    assert.deepEqual(state.leases[1]?.ports[0]?.declaration, a.declarations[0]);
    fake.resetCounts();
    const result = unwrap(await restarted.reconcile(engine.leases()));
    assert.deepEqual(result.writes, { created: 0, updated: 0, deleted: 0, unchanged: 4 });
    assert.equal(fake.writes(), 0);
    // Reads only: the two lists (resources, Services) and each lease's namespace check.
    assert.deepEqual(
      fake.requests.map((req) => `${req.method} ${req.path}`).sort(),
      [
        `GET ${RESOURCES}`,
        'GET /api/v1/services',
        ...state.leases.map((lease) => `GET /api/v1/namespaces/${lease.ports[0]?.service?.split('/')[0]}`),
      ].sort(),
    );
  });

  it('one lease the server refuses does not stop the others', async () => {
    const refused = await deploy(leaseOf(TENANT, 1), { web: [{ port: 80, ip: 'web' }] });
    const late = await deploy(leaseOf(OTHER, 2), { db: [{ port: 5432, ip: 'db' }] });
    fake.fail({ method: 'POST', name: `${TENANT}-ip-web-tcp-80` }, { status: 422 });
    const result = unwrap(await backend.reconcile(engine.leases()));
    assert.deepEqual(
      result.failures.map((failure) => [failure.lease, failure.error.code, failure.error.details?.status]),
      [[keyOf(refused.id), 'K8S_REJECTED', 422]],
    );
    assert.deepEqual(
      result.changed.map((change) => change.lease),
      [keyOf(late.id)],
    );
    assert.deepEqual(servicesOf(OTHER), ['db-ip-5432-tcp']);
    // Once the server accepts it, the next reconcile writes the refused lease and nothing else.
    fake.clearFailures();
    // each lease is told to the caller before it is compared and written, the one written and the one left alike
    const told: string[] = [];
    const retried = unwrap(await backend.reconcile(engine.leases(), (lease) => told.push(lease)));
    assert.deepEqual(told.sort(), [keyOf(refused.id), keyOf(late.id)].sort());
    assert.deepEqual(retried.failures, []);
    assert.deepEqual(retried.writes, { created: 2, updated: 0, deleted: 0, unchanged: 2 });
  });

  it('a server that does not answer is K8S_UNAVAILABLE, and nothing is half-done after it is back', async () => {
    const view = await deploy(leaseOf(TENANT, 1), { web: [{ port: 80, ip: 'web' }] });
    fake.down();
    const failed = await backend.apply(view);
    assert.ok(!failed.ok);
    assert.equal(failed.error.code, 'K8S_UNAVAILABLE');
    fake.up();
    assert.deepEqual(unwrap(await backend.apply(view)), { created: 2, updated: 0, deleted: 0, unchanged: 0 });
  });

  describe("status: MetalLB's reasons, from one list + watch of its Warnings", () => {
    const lease = leaseOf(TENANT, 1);
    const events = `/api/v1/namespaces/${leaseNamespace(lease)}/events`;
    /** An Event on one of the lease's Services, as MetalLB records it. */
    const event = (name: string, service: string, reason: string, at: string, type = 'Warning') => ({
      metadata: { name, namespace: leaseNamespace(lease) },
      involvedObject: { kind: 'Service', name: service, namespace: leaseNamespace(lease) },
      type,
      source: { component: 'metallb-controller' },
      reason,
      message: `${reason} on ${service}`,
      lastTimestamp: at,
    });
    /** The reasons `status` gives the lease's ports, by Service. */
    const reasons = async () =>
      Object.fromEntries(
        unwrap(await backend.status(lease)).ports.map((port) => [port.service?.split('/')[1], port.problem]),
      );

    beforeEach(async () => {
      // MetalLB assigns nothing here: every port stays unconfirmed.
      unwrap(
        await backend.apply(
          await deploy(lease, {
            web: [
              { port: 80, ip: 'web' },
              { port: 443, ip: 'web' },
            ],
          }),
        ),
      );
    });
    afterEach(async () => {
      await backend.stop();
    });

    /** Starts the backend and waits until its watch of Warnings is open (the list before it is in). */
    const started = async () => {
      backend.start();
      await fake.waitFor(() => fake.watchCount('/api/v1/events') === 1);
    };

    it("gives an unconfirmed port its Service's newest Warning, MetalLB's deprecated-annotation notice aside", async () => {
      fake.add(events, event('a.1', 'web-ip-80-tcp', 'AllocationFailed', '2026-01-02T03:04:05Z'));
      // MetalLB warns of Go's `metallb.universe.tf/allow-shared-ip` after each attempt: newer, and no reason.
      fake.add(events, event('a.2', 'web-ip-80-tcp', 'deprecatedAnnotation', '2026-01-02T03:04:06Z'));
      fake.add(events, event('b.1', 'web-ip-443-tcp', 'AllocationFailed', '2026-01-02T03:04:07Z'));
      fake.add(events, event('a.0', 'web-ip-80-tcp', 'Scheduled', '2026-01-02T03:04:08Z', 'Normal'));
      await started();
      assert.deepEqual(await reasons(), {
        'web-ip-80-tcp': 'AllocationFailed: AllocationFailed on web-ip-80-tcp',
        'web-ip-443-tcp': 'AllocationFailed: AllocationFailed on web-ip-443-tcp',
      });
    });

    it('gives no reason when only the notice was given', async () => {
      fake.add(events, event('a.2', 'web-ip-80-tcp', 'deprecatedAnnotation', '2026-01-02T03:04:06Z'));
      await started();
      assert.deepEqual(await reasons(), { 'web-ip-80-tcp': undefined, 'web-ip-443-tcp': undefined });
    });

    it('reads no Event for a status call, however many ports wait and however often they are asked for', async () => {
      fake.add(events, event('a.1', 'web-ip-80-tcp', 'AllocationFailed', '2026-01-02T03:04:05Z'));
      await started();
      for (let call = 0; call < 20; call++) {
        assert.equal(
          (await reasons())['web-ip-80-tcp'],
          'AllocationFailed: AllocationFailed on web-ip-80-tcp',
        );
      }
      // A Warning given later reaches the next status calls through the watch.
      fake.add(events, event('b.1', 'web-ip-443-tcp', 'IPConflict', '2026-01-02T03:04:07Z'));
      await untilValue(async () => (await reasons())['web-ip-443-tcp'], 'the later Warning in status');
      assert.deepEqual(
        fake.requests.filter((req) => req.path.endsWith('/events')).map((req) => `${req.method} ${req.path}`),
        ['GET /api/v1/events', 'WATCH /api/v1/events'],
      );
    });
  });
});
