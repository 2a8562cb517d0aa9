import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AppError } from '../errors/index.js';
import type { FamilyRequest } from '../ipam/index.js';
import { leaseNamespace } from '../k8s/index.js';
import { type LeaseId, leaseKey } from '../lease/index.js';
import { createMemoryStore } from '../store/index.js';
import { type FamilyAnswer, fixedFamilies, type LeaseFamilies } from './families.js';
import { Harness, LEASED_IPS, until } from './harness.js';
import { ALICE, BOB, leaseOf } from './testing.js';

const web = { endpoint: 'web', service: 'web', port: 8080, externalPort: 80 } as const;
const tls = { endpoint: 'web', service: 'web', port: 8443, externalPort: 443 } as const;
const DUAL_POOL = ['192.0.2.0/29', '2001:db8::/125'];

interface ServiceShape {
  metadata: { annotations: Record<string, string> };
  spec: { ipFamilies?: string[]; ipFamilyPolicy?: string };
}

/** A families source the test steers: per lease key, a family or why it is not known yet. */
function steeredFamilies(fallback: FamilyRequest = 'v4') {
  const answers = new Map<string, FamilyAnswer>();
  const asked: string[] = [];
  const source: LeaseFamilies = {
    fallback,
    familyOf: (lease: LeaseId) => {
      asked.push(leaseKey(lease));
      return answers.get(leaseKey(lease)) ?? { family: fallback };
    },
    retain: () => {},
    stop: () => {},
  };
  return { source, answers, asked };
}

function service(h: Harness, lease: LeaseId, name: string): ServiceShape {
  return h.services(lease).get(name) as never as ServiceShape;
}

describe('IP operator: IPv6 and dual-stack leases', () => {
  it('RBAC without NetworkPolicies (an older install): IPv4 leases are served, the missing grant is reported', async () => {
    const h = await Harness.create({ start: false });
    h.fake.fail(
      { path: /networkpolicies/ },
      { status: 403, reason: 'Forbidden', message: 'RBAC: forbidden' },
    );
    h.operator.start();
    await h.operator.synced();
    const lease = leaseOf(ALICE, 100);
    h.declare(lease, web, tls);
    await h.settle();
    assert.deepEqual(h.addresses(lease), { 'web-ip-443-tcp': '192.0.2.0', 'web-ip-80-tcp': '192.0.2.0' });
    assert.match(h.operator.problems().join(), /may not list NetworkPolicies \(RBAC\)/);
    h.fake.clearFailures();
    await until(() => h.operator.problems().length === 0, 'the policies listed once allowed');
    await h.stop();
  });

  it('--ip-family ipv6: SingleStack IPv6 Services pinned to an IPv6 address; /usage counts IPv6', async () => {
    const h = await Harness.create({ pool: ['2001:db8::/125'], families: fixedFamilies('v6') });
    const lease = leaseOf(ALICE, 100);
    h.declare(lease, web, tls);
    await h.settle();
    const s = service(h, lease, 'web-ip-80-tcp');
    assert.equal(s.spec.ipFamilyPolicy, 'SingleStack');
    assert.deepEqual(s.spec.ipFamilies, ['IPv6']);
    assert.equal(s.metadata.annotations['metallb.io/loadBalancerIPs'], '2001:db8::');
    assert.deepEqual(h.addresses(lease), { 'web-ip-443-tcp': '2001:db8::', 'web-ip-80-tcp': '2001:db8::' });
    assert.deepEqual(
      h.operator.confirmedPorts(lease).map(({ address }) => address),
      ['2001:db8::', '2001:db8::'],
    );
    assert.deepEqual(h.operator.usage(), { available: 8n, inUse: 1n });
    assert.deepEqual(h.operator.problems(), []);
    await h.stop();
  });

  it('--ip-family dual: RequireDualStack [IPv4, IPv6], both pinned; each address confirmed; a restart without state keeps both and writes nothing', async () => {
    const h = await Harness.create({ pool: DUAL_POOL, families: fixedFamilies('dual') });
    const lease = leaseOf(ALICE, 101);
    h.declare(lease, web, tls);
    await h.settle();
    const s = service(h, lease, 'web-ip-80-tcp');
    assert.equal(s.spec.ipFamilyPolicy, 'RequireDualStack');
    assert.deepEqual(s.spec.ipFamilies, ['IPv4', 'IPv6']);
    assert.equal(s.metadata.annotations['metallb.io/loadBalancerIPs'], '192.0.2.0,2001:db8::');
    assert.deepEqual(
      h.operator.confirmedPorts(lease).map(({ service: port, address }) => [port.port.service, address]),
      [
        ['web-ip-80-tcp', '192.0.2.0'],
        ['web-ip-80-tcp', '2001:db8::'],
        ['web-ip-443-tcp', '192.0.2.0'],
        ['web-ip-443-tcp', '2001:db8::'],
      ],
    );
    // Each endpoint takes one address of each family: the family with fewer free ones is what Go sees.
    assert.deepEqual(h.operator.usage(), { available: 8n, inUse: 1n });
    const before = h.addresses(lease);
    await h.stop();
    h.fake.resetCounts();
    // No state, and a source that would answer IPv4: the Services' pins say what the lease is.
    await h.boot(createMemoryStore());
    await h.settle();
    assert.equal(h.fake.writes(), 0);
    assert.deepEqual(h.addresses(lease), before);
    await h.stop();
  });

  it('mixed leases on one provider (IPv4, IPv6-only, dual); IPv4 runs out while IPv6 still serves', async () => {
    const { source, answers } = steeredFamilies('v4');
    const h = await Harness.create({ pool: ['192.0.2.8/31', '2001:db8::/125'], families: source });
    const [v4a, v4b, v6, dual] = [110, 111, 112, 113].map((dseq) => leaseOf(ALICE, dseq)) as [
      LeaseId,
      LeaseId,
      LeaseId,
      LeaseId,
    ];
    answers.set(leaseKey(v6), { family: 'v6' });
    answers.set(leaseKey(dual), { family: 'dual' });
    // One tenant's endpoint names are one name space (Go's object names): each lease has its own.
    const on = (endpoint: string) => ({ ...web, endpoint });
    h.declare(v4a, on('a'));
    h.declare(v4b, on('b'));
    await h.settle();
    h.declare(v6, on('c'));
    h.declare(dual, on('d'));
    await h.settle();
    assert.deepEqual(h.addresses(v6), { 'web-ip-80-tcp': '2001:db8::' });
    assert.equal(h.services(dual).size, 0, 'no IPv4 address is left for the dual endpoint');
    const pending = h.operator.state().find((lease) => lease.lease.dseq === '113')?.ports[0];
    assert.equal(pending?.state, 'pending');
    assert.match(pending?.reason ?? '', /IPv4/);
    assert.deepEqual(h.operator.familyUsage('v4'), { available: 2n, inUse: 2n });
    assert.deepEqual(h.operator.familyUsage('v6'), { available: 8n, inUse: 1n });
    assert.deepEqual(h.operator.usage(), { available: 2n, inUse: 2n }, 'Go reads the default family');
    // A second IPv6-only lease is still served.
    const v6b = leaseOf(BOB, 114);
    answers.set(leaseKey(v6b), { family: 'v6' });
    h.declare(v6b, web);
    await h.settle();
    assert.equal(service(h, v6b, 'web-ip-80-tcp').spec.ipFamilies?.[0], 'IPv6');
    await h.stop();
  });

  it('pools of either family by name: an IPv4 pool and an IPv6 pool serve IPv4 and IPv6-only leases, each annotated with its pool', async () => {
    const { source, answers } = steeredFamilies('v4');
    const h = await Harness.create({
      pool: ['192.0.2.0/30'],
      morePools: { six: ['2001:db8:6::/126'] },
      families: source,
    });
    const v4 = leaseOf(ALICE, 115);
    const v6 = leaseOf(BOB, 116);
    answers.set(leaseKey(v6), { family: 'v6' });
    h.declare(v4, web);
    h.declare(v6, web);
    await h.settle();
    assert.deepEqual(h.addresses(v4), { 'web-ip-80-tcp': '192.0.2.0' });
    assert.deepEqual(h.addresses(v6), { 'web-ip-80-tcp': '2001:db8:6::' });
    const annotations = service(h, v6, 'web-ip-80-tcp').metadata.annotations;
    assert.equal(annotations['metallb.universe.tf/address-pool'], 'six');
    assert.equal(
      service(h, v4, 'web-ip-80-tcp').metadata.annotations['metallb.universe.tf/address-pool'],
      undefined,
    );
    assert.deepEqual(h.operator.familyUsage('v4'), { available: 4n, inUse: 1n });
    assert.deepEqual(h.operator.familyUsage('v6'), { available: 4n, inUse: 1n });
    // No pool holds both families: a dual lease is refused with the reason, the others keep going.
    const dual = leaseOf(ALICE, 117);
    answers.set(leaseKey(dual), { family: 'dual' });
    h.declare(dual, { ...web, endpoint: 'both' });
    await h.settle();
    assert.equal(h.services(dual).size, 0);
    const refused = h.operator.ignored().find((entry) => entry.key === leaseKey(dual));
    assert.equal(refused?.kind, 'refused');
    assert.match(refused?.reason ?? '', /NO_IP_SUPPORT/);
    await h.stop();
  });

  it('a lease whose family is not known yet waits, reported in /state, and is deployed once it is', async () => {
    const { source, answers, asked } = steeredFamilies('v4');
    const h = await Harness.create({ pool: DUAL_POOL, families: source });
    const lease = leaseOf(ALICE, 120);
    const other = leaseOf(BOB, 121);
    answers.set(leaseKey(lease), { waiting: 'the chain is away' });
    h.declare(lease, web);
    h.declare(other, web);
    await h.settle();
    assert.equal(h.services(lease).size, 0);
    assert.equal(h.services(other).size, 1, 'one waiting lease holds up no other');
    assert.equal(h.engine.lease(lease), undefined, 'no address was taken on a guess');
    const waiting = h.operator.state().find((state) => state.lease.dseq === '120');
    assert.deepEqual(
      waiting?.ports.map((port) => [port.state, port.reason]),
      [['pending', "waiting for the lease's address family: the chain is away"]],
    );
    answers.set(leaseKey(lease), { family: 'dual' });
    h.operator.resync();
    await h.settle();
    assert.equal(service(h, lease, 'web-ip-80-tcp').spec.ipFamilyPolicy, 'RequireDualStack');
    // Known to the engine now: its family is never asked again.
    const asks = asked.length;
    h.declare(lease, tls);
    await h.settle();
    assert.equal(asked.length, asks);
    assert.equal(service(h, lease, 'web-ip-443-tcp').spec.ipFamilyPolicy, 'RequireDualStack');
    await h.stop();
  });

  it('an IPv6 NetworkPolicy per manifest service admits ::/0 on the leased container ports; none for IPv4; deleted on close', async () => {
    const { source, answers } = steeredFamilies('v4');
    const h = await Harness.create({ pool: DUAL_POOL, families: source });
    const dual = leaseOf(ALICE, 130);
    const v4 = leaseOf(BOB, 131);
    answers.set(leaseKey(dual), { family: 'dual' });
    const api = { endpoint: 'web', service: 'api', port: 9000, externalPort: 81, protocol: 'UDP' } as const;
    h.declare(dual, web, tls, api);
    h.declare(v4, web);
    await h.settle();
    const policies = (lease: LeaseId) =>
      h.fake.objects(
        `/apis/networking.k8s.io/v1/namespaces/${leaseNamespace(lease)}/networkpolicies`,
      ) as never as {
        metadata: { name: string; labels: Record<string, string> };
        spec: unknown;
      }[];
    assert.deepEqual(policies(v4), []);
    const written = policies(dual);
    assert.deepEqual(
      written.map((policy) => policy.metadata.name),
      ['akash-ip-api-ipv6', 'akash-ip-web-ipv6'],
    );
    const webPolicy = written[1]!;
    assert.equal(webPolicy.metadata.labels['app.kubernetes.io/managed-by'], 'akash-ip');
    assert.equal(webPolicy.metadata.labels['akash.network/lease.id.dseq'], '130');
    assert.deepEqual(webPolicy.spec, {
      podSelector: { matchLabels: { 'akash.network/manifest-service': 'web' } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ ipBlock: { cidr: '::/0' } }],
          ports: [
            { port: 8080, protocol: 'TCP' },
            { port: 8443, protocol: 'TCP' },
          ],
        },
      ],
    });
    // A port removed: the policy follows, one patch.
    h.fake.resetCounts();
    h.fake.remove(`${LEASED_IPS}/${ALICE}-ip-web-tcp-443`);
    await h.settle();
    assert.equal(h.fake.count({ method: 'PATCH', path: /networkpolicies/ }), 1);
    const spec = policies(dual)[1]?.spec as { ingress: { ports: unknown[] }[] } | undefined;
    assert.deepEqual(spec?.ingress[0]?.ports, [{ port: 8080, protocol: 'TCP' }]);
    // Closed: its Services and policies go.
    for (const name of [`${ALICE}-ip-web-tcp-80`, `${ALICE}-ip-web-udp-81`])
      h.fake.remove(`${LEASED_IPS}/${name}`);
    await h.settle();
    assert.equal(h.services(dual).size, 0);
    assert.deepEqual(policies(dual), []);
    assert.equal(h.services(v4).size, 1);
    await h.stop();
  });

  it('refuses to start when the named pools cannot serve the default family, and only reports it later', async () => {
    let refused: AppError | undefined;
    const h = await Harness.create({
      pool: ['192.0.2.0/29'],
      families: fixedFamilies('dual'),
      onRefused: (error) => {
        refused = error;
      },
      start: false,
    });
    h.operator.start();
    await until(() => refused !== undefined, 'the refusal');
    assert.equal(refused?.code, 'NO_IP_SUPPORT');
    assert.match(
      refused?.message ?? '',
      /--ip-family dual needs a pool holding both IPv4 and IPv6.*\(default\)/,
    );
    assert.equal(h.operator.isSynced(), false);
    await h.stop();

    // Started on a dual pool, then the pool loses its IPv6 range: reported, the operator goes on.
    const later = await Harness.create({ pool: DUAL_POOL, families: fixedFamilies('dual') });
    later.fake.replace('/apis/metallb.io/v1beta1/namespaces/metallb-system/ipaddresspools/default', {
      metadata: { name: 'default', namespace: 'metallb-system' },
      spec: { addresses: ['192.0.2.0/29'] },
    });
    await later.settle();
    assert.match(later.operator.problems().join(), /--ip-family dual needs/);
    assert.equal(later.operator.isSynced(), true);
    await later.stop();
  });
});
