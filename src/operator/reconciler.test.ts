import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { leaseNamespace } from '../k8s/index.js';
import { createMemoryStore } from '../store/index.js';
import { Harness, until } from './harness.js';
import { ALICE, BOB, goLeasedIp, goService, leaseOf, OTHER_PROVIDER, PROVIDER } from './testing.js';

const web = { endpoint: 'web', service: 'web', port: 8080, externalPort: 80 } as const;
const tls = { endpoint: 'web', service: 'web', port: 8443, externalPort: 443 } as const;
const api = { endpoint: 'web', service: 'api', port: 9000, externalPort: 81 } as const;
const dnsTcp = { endpoint: 'dns', service: 'dns', port: 53, externalPort: 53, protocol: 'TCP' } as const;
const dnsUdp = { endpoint: 'dns', service: 'dns', port: 53, externalPort: 53, protocol: 'UDP' } as const;

describe('IP operator reconcile', () => {
  it('deploys several ports, two services on one endpoint and TCP+UDP on one port, as Go names them', async () => {
    const h = await Harness.create();
    const lease = leaseOf(ALICE, 10);
    h.declare(lease, web, tls, api, dnsTcp, dnsUdp);
    await h.settle();
    const services = h.services(lease);
    assert.deepEqual([...services.keys()].sort(), [
      'api-ip-81-tcp',
      'dns-ip-53-tcp',
      'dns-ip-53-udp',
      'web-ip-443-tcp',
      'web-ip-80-tcp',
    ]);
    const addresses = h.addresses(lease);
    assert.equal(addresses['web-ip-80-tcp'], addresses['web-ip-443-tcp']);
    assert.equal(addresses['web-ip-80-tcp'], addresses['api-ip-81-tcp']);
    assert.equal(addresses['dns-ip-53-tcp'], addresses['dns-ip-53-udp']);
    assert.notEqual(addresses['dns-ip-53-tcp'], addresses['web-ip-80-tcp']);
    const service = services.get('web-ip-80-tcp') as never as {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: { ports: unknown[]; selector: Record<string, string>; type: string };
    };
    assert.deepEqual(service.metadata.labels, {
      'akash.network/lease.id.owner': ALICE,
      'akash.network/lease.id.dseq': '10',
      'akash.network/lease.id.gseq': '1',
      'akash.network/lease.id.oseq': '1',
      'akash.network/lease.id.provider': PROVIDER,
      'akash.network': 'true',
      'app.kubernetes.io/managed-by': 'akash-ip',
      'akash.network/service-target': 'metal-lb',
    });
    assert.equal(service.metadata.annotations['metallb.universe.tf/allow-shared-ip'], `${ALICE}-ip-web`);
    assert.equal(service.metadata.annotations['metallb.io/loadBalancerIPs'], addresses['web-ip-80-tcp']);
    assert.equal(
      service.metadata.annotations['metallb.universe.tf/address-pool'],
      undefined,
      'pool "default"',
    );
    assert.deepEqual(service.spec.ports, [
      { name: 'web-ip-80-tcp', port: 80, targetPort: 8080, protocol: 'TCP' },
    ]);
    assert.deepEqual(service.spec.selector, {
      'akash.network': 'true',
      'akash.network/manifest-service': 'web',
    });
    const confirmed = h.operator.confirmedPorts(lease);
    assert.equal(confirmed.length, 5);
    assert.deepEqual(h.operator.usage(), { available: 8n, inUse: 2n });
    await h.stop();
  });

  it('updates in place: a port added, a port removed, a target port changed; the address stays', async () => {
    const h = await Harness.create();
    const lease = leaseOf(ALICE, 11);
    h.declare(lease, web, tls);
    await h.settle();
    const address = h.addresses(lease)['web-ip-80-tcp'];
    h.fake.remove(`/apis/akash.network/v2beta2/namespaces/lease/providerleasedips/${ALICE}-ip-web-tcp-443`);
    h.fake.remove(`/apis/akash.network/v2beta2/namespaces/lease/providerleasedips/${ALICE}-ip-web-tcp-80`);
    h.declare(lease, { ...web, port: 3000 }, api);
    await h.settle();
    assert.deepEqual(h.addresses(lease), { 'api-ip-81-tcp': address, 'web-ip-80-tcp': address });
    const port = (
      h.services(lease).get('web-ip-80-tcp') as never as { spec: { ports: { targetPort: number }[] } }
    ).spec.ports[0];
    assert.equal(port?.targetPort, 3000);
    await h.stop();
  });

  it("keeps Go's hashed sharing key for a name with '_' and hashes a Service name Go could not write", async () => {
    const h = await Harness.create();
    const lease = leaseOf(ALICE, 17);
    const long = 'a'.repeat(60);
    h.declare(lease, { ...web, endpoint: 'my_web' }, { ...web, service: long, endpoint: 'long' });
    await h.settle();
    const services = [...h.services(lease).values()] as never as {
      metadata: { name: string; annotations: Record<string, string> };
    }[];
    const keys = services.map(
      (service) => service.metadata.annotations['metallb.universe.tf/allow-shared-ip'],
    );
    assert.ok(keys.includes(goLeasedIp(lease, { ...web, endpoint: 'my_web' }).spec.sharing_key));
    const hashed = services.find((service) => service.metadata.name !== 'web-ip-80-tcp');
    assert.match(hashed?.metadata.name ?? '', /^ip-[0-9a-v]{16}-80-tcp$/);
    const port = h.operator.state()[0]?.ports.find((candidate) => candidate.serviceName === long);
    assert.equal(port?.goName, `${long}-ip-80-tcp`);
    assert.equal(port?.state, 'confirmed');
    await h.stop();
  });

  it('ignores and reports an object of another provider, and isolates a malformed one', async () => {
    const h = await Harness.create();
    const other = leaseOf(BOB, 12, 1, 1, OTHER_PROVIDER);
    const good = leaseOf(ALICE, 13);
    h.declare(other, web);
    h.fake.add('/apis/akash.network/v2beta2/namespaces/lease/providerleasedips', {
      metadata: { name: 'broken' },
      spec: { lease_id: { owner: 'nobody' }, protocol: 'SCTP' },
    });
    h.declare(good, web);
    await h.settle();
    assert.equal(h.services(other).size, 0);
    assert.equal(h.services(good).size, 1);
    const ignored = h.operator.ignored();
    assert.deepEqual(
      ignored.map((entry) => [entry.kind, entry.objects]),
      [
        ['other-provider', [`${BOB}-ip-web-tcp-80`]],
        ['malformed', ['broken']],
      ],
    );
    await h.stop();
  });

  it('a Service the server refuses is retried on its own, with backoff, and never stops the others', async () => {
    const h = await Harness.create();
    const a = leaseOf(ALICE, 14);
    const b = leaseOf(BOB, 15);
    // refused until the test says otherwise: the retries run on real (short) timers, so a fixed count of
    // refusals could all be spent before the reason is read
    h.fake.fail({ method: 'POST', name: 'api-ip-81-tcp' }, { status: 422, reason: 'Invalid' });
    h.declare(a, api);
    h.declare(b, web);
    await h.settle();
    assert.equal(h.services(b).size, 1);
    const state = h.operator.state().find((lease) => lease.lease.dseq === '14');
    assert.match(state?.ports[0]?.reason ?? '', /writing the Service failed .*422/);
    const posts = () =>
      h.fake.requests.filter((req) => req.method === 'POST' && req.name === 'api-ip-81-tcp').length;
    await until(() => posts() >= 3, 'the refused Service tried again, and again');
    h.fake.clearFailures();
    await until(() => h.services(a).size === 1, 'the retried Service');
    await h.settle();
    assert.equal(h.operator.state().find((lease) => lease.lease.dseq === '14')?.ports[0]?.state, 'confirmed');
    await h.stop();
  });

  it('closes a lease whose objects are gone (Services deleted, address quarantined and counted) and reopens it with its address', async () => {
    const h = await Harness.create();
    const lease = leaseOf(ALICE, 16);
    h.declare(lease, web);
    await h.settle();
    const address = h.addresses(lease)['web-ip-80-tcp'];
    h.fake.remove(`/apis/akash.network/v2beta2/namespaces/lease/providerleasedips/${ALICE}-ip-web-tcp-80`);
    await h.settle();
    assert.equal(h.services(lease).size, 0);
    assert.equal(h.engine.lease(lease)?.state, 'closed');
    assert.deepEqual(h.operator.usage(), { available: 8n, inUse: 1n });
    // Go's F1 deletes every tenant's objects; the provider declares them again on the next deploy.
    h.declare(lease, web);
    await h.settle();
    assert.equal(h.engine.lease(lease)?.state, 'active');
    assert.deepEqual(h.addresses(lease), { 'web-ip-80-tcp': address });
    await h.stop();
  });
});

describe('IP operator pools', () => {
  it('pool exhausted: the endpoint is pending with the reason, /usage exact; a pool edit is applied at run time', async () => {
    const h = await Harness.create({ pool: ['192.0.2.8/31'] });
    h.declare(leaseOf(ALICE, 20), web);
    h.declare(leaseOf(BOB, 21), web);
    h.declare(leaseOf(ALICE, 22), { ...web, endpoint: 'db', service: 'db' });
    await h.settle();
    assert.deepEqual(h.operator.usage(), { available: 2n, inUse: 2n });
    const pending = h.operator.state().filter((lease) => lease.ports[0]?.state === 'pending');
    assert.equal(pending.length, 1);
    assert.match(pending[0]?.ports[0]?.reason ?? '', /no free address/);
    const waiting = pending[0]!.lease;
    assert.equal(h.services(waiting).size, 0);

    h.fake.replace('/apis/metallb.io/v1beta1/namespaces/metallb-system/ipaddresspools/default', {
      metadata: { name: 'default', namespace: 'metallb-system' },
      spec: { addresses: ['192.0.2.8/31', '198.51.100.0/30'] },
    });
    await h.settle();
    assert.deepEqual(h.operator.usage(), { available: 6n, inUse: 3n });
    assert.equal(h.services(waiting).size, 1);
    await h.stop();
  });

  it('a missing pool is reported, and addresses of foreign LoadBalancers are never handed out but counted', async () => {
    const h = await Harness.create({ pool: ['192.0.2.0/30'] });
    h.addService(
      {
        metadata: { name: 'ingress', namespace: 'other' },
        spec: { type: 'LoadBalancer', ports: [{ port: 443 }] },
      },
      '192.0.2.0',
    );
    await h.settle();
    assert.deepEqual(h.operator.usage(), { available: 4n, inUse: 1n });
    for (let dseq = 30; dseq < 33; dseq++) h.declare(leaseOf(ALICE, dseq), { ...web, endpoint: `e${dseq}` });
    await h.settle();
    const given = [30, 31, 32].map((dseq) => h.addresses(leaseOf(ALICE, dseq))['web-ip-80-tcp']);
    assert.deepEqual(given.sort(), ['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    assert.deepEqual(h.operator.usage(), { available: 4n, inUse: 4n });

    h.fake.remove('/apis/metallb.io/v1beta1/namespaces/metallb-system/ipaddresspools/default');
    await h.settle();
    assert.deepEqual(h.operator.usage(), { available: 0n, inUse: 0n });
    assert.match(h.operator.problems().join(), /IPAddressPool "default" does not exist/);
    assert.ok(h.logger.lines.some((line) => line.msg === 'pool unusable'));
    await h.stop();
  });
});

describe('IP operator migration, restart and adoption', () => {
  it("migration by overwrite keeps the address; the old lease's Services go", async () => {
    const h = await Harness.create();
    const from = leaseOf(ALICE, 40);
    const to = leaseOf(ALICE, 41);
    h.declare(from, web, tls);
    await h.settle();
    const address = h.addresses(from)['web-ip-80-tcp'];
    // Go's migrate overwrites both objects' lease_id with the destination.
    h.declare(to); // the destination's namespace
    for (const port of [web, tls]) {
      const body = goLeasedIp(to, port);
      h.fake.replace(
        `/apis/akash.network/v2beta2/namespaces/lease/providerleasedips/${body.metadata.name}`,
        body,
      );
    }
    await h.settle();
    assert.deepEqual(h.addresses(to), { 'web-ip-443-tcp': address, 'web-ip-80-tcp': address });
    assert.equal(h.services(from).size, 0);
    assert.ok(h.logger.lines.some((line) => line.msg === 'endpoint migrated by overwrite'));
    await h.stop();
  });

  for (const withState of [false, true]) {
    it(`restarts ${withState ? 'with' : 'without'} state: the same addresses and zero writes`, async () => {
      const store = createMemoryStore();
      const h = await Harness.create({ store });
      for (let dseq = 50; dseq < 53; dseq++)
        h.declare(leaseOf(ALICE, dseq), { ...web, endpoint: `e${dseq}` }, { ...tls, endpoint: `e${dseq}` });
      await h.settle();
      const before = [50, 51, 52].map((dseq) => h.addresses(leaseOf(ALICE, dseq)));
      await h.stop();
      h.fake.resetCounts();
      await h.boot(withState ? store : createMemoryStore());
      await h.settle();
      assert.equal(h.fake.writes(), 0);
      assert.deepEqual(
        [50, 51, 52].map((dseq) => h.addresses(leaseOf(ALICE, dseq))),
        before,
      );
      await h.stop();
    });
  }

  it('adopts the Services the Go operator left: their addresses become the pins, then only the pin is added', async () => {
    const h = await Harness.create();
    const lease = leaseOf(ALICE, 60);
    h.declare(lease, web, tls);
    h.fake.resetCounts();
    await h.stop();
    h.addService(goService(lease, web), '192.0.2.5');
    h.addService(goService(lease, tls), '192.0.2.5');
    await h.boot(createMemoryStore());
    await h.settle();
    assert.deepEqual(h.addresses(lease), { 'web-ip-443-tcp': '192.0.2.5', 'web-ip-80-tcp': '192.0.2.5' });
    assert.equal(h.fake.count({ method: 'PATCH' }), 2);
    assert.equal(h.fake.count({ method: 'POST' }) + h.fake.count({ method: 'DELETE' }), 0);
    await h.stop();
  });

  it('the apiserver going down mid-sync: the operator converges by itself when it is back', async () => {
    const h = await Harness.create();
    const leases = [70, 71, 72, 73].map((dseq) => leaseOf(ALICE, dseq));
    h.declare(leases[0]!, { ...web, endpoint: 'e0' });
    h.declare(leases[1]!, { ...web, endpoint: 'e1' });
    await until(() => h.fake.count({ method: 'POST', path: /\/services$/ }) >= 1, 'a first Service write');
    h.fake.down();
    h.declare(leases[2]!, { ...web, endpoint: 'e2' });
    h.declare(leases[3]!, { ...web, endpoint: 'e3' });
    await until(
      () => Object.values(h.operator.informerStats()).some((stats) => stats.lastError !== undefined),
      'the informers to notice',
    );
    assert.equal(h.operator.isSynced(), true, 'health stays up while the apiserver is away');
    h.fake.up();
    await until(() => leases.every((lease) => h.services(lease).size === 1), 'every Service');
    await h.settle();
    assert.deepEqual(
      leases.map((lease) => h.operator.confirmedPorts(lease).length),
      [1, 1, 1, 1],
    );
    await h.stop();
  });
});

describe("IP operator and MetalLB's reasons", () => {
  it('a cold sync of many Services MetalLB leaves waiting reads Events once (list + watch), however long they wait', async () => {
    const clock = { now: 1_000_000 };
    const h = await Harness.create({ pool: ['192.0.2.0/26'], noMetallb: true, clock });
    const leases = Array.from({ length: 30 }, (_, i) => leaseOf(ALICE, 100 + i));
    // Go names an object after its sharing key (owner + endpoint): one endpoint per lease.
    for (const [i, lease] of leases.entries()) {
      h.declare(lease, { ...web, endpoint: `web${i}` }, { ...tls, endpoint: `web${i}` });
    }
    await h.settle();
    // Minutes pass with passes in between, every one of the 60 Services still unconfirmed.
    for (let minute = 0; minute < 5; minute++) {
      clock.now += 60_000;
      h.operator.resync();
      await h.settle();
    }
    const pending = h.operator.state().flatMap((lease) => lease.ports.filter((p) => p.state === 'pending'));
    assert.equal(pending.length, 60);
    const eventReads = h.fake.requests.filter((req) => req.path.endsWith('/events'));
    assert.deepEqual(
      eventReads.map((req) => `${req.method} ${req.path}`),
      ['GET /api/v1/events', 'WATCH /api/v1/events'],
    );

    // MetalLB's Warning reaches /state for its own Service only, and not one about an earlier Service of that name.
    const namespace = leaseNamespace(leases[7]!);
    const [service] = h.fake.objects(`/api/v1/namespaces/${namespace}/services/web-ip-80-tcp`) as {
      metadata: { uid: string };
    }[];
    const event = (name: string, uid: string, message: string, at: string) => ({
      metadata: { name, namespace },
      involvedObject: { kind: 'Service', name: 'web-ip-80-tcp', namespace, uid },
      type: 'Warning',
      source: { component: 'metallb-controller' },
      reason: 'AllocationFailed',
      message,
      lastTimestamp: at,
    });
    h.fake.add(
      `/api/v1/namespaces/${namespace}/events`,
      event('a.1', service!.metadata.uid, 'no available IPs', '2026-01-02T03:04:05Z'),
    );
    h.fake.add(
      `/api/v1/namespaces/${namespace}/events`,
      event('a.0', 'an-earlier-uid', 'stale', '2026-01-02T03:04:06Z'),
    );
    await h.settle();
    const reasons = h.operator
      .state()
      .flatMap((lease) => lease.ports.map((port) => port.reason))
      .filter((reason) => reason?.startsWith('MetalLB'));
    assert.deepEqual(reasons, ['MetalLB: AllocationFailed: no available IPs']);
    assert.equal(h.fake.requests.filter((req) => req.path.endsWith('/events')).length, 2);
    await h.stop();
  });
});
