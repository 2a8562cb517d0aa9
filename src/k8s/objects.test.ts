import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LeaseView } from '../lease/index.js';
import {
  desiredPorts,
  ipv6PolicyBodies,
  poolBody,
  serviceBody,
  serviceMatches,
  servicePatch,
} from './objects.js';
import { type ServiceObject, serviceSchema } from './schemas.js';

const ID = { owner: 'akash1tenant', dseq: '7', gseq: 1, oseq: 2, provider: 'akash1provider' };

const VIEW: LeaseView = {
  id: ID,
  key: 'akash1tenant/7/1/2/akash1provider',
  state: 'active',
  group: 'dcloud',
  declarations: [
    { endpoint: 'db', service: 'db', port: 5432, externalPort: 5432, protocol: 'TCP' },
    { endpoint: 'web', service: 'web', port: 8080, externalPort: 80, protocol: 'TCP' },
    { endpoint: 'web', service: 'web', port: 53, externalPort: 53, protocol: 'UDP' },
  ],
  endpoints: [
    { name: 'db', state: 'pending', since: 1, family: 'v4', addresses: [], reason: 'pool exhausted' },
    { name: 'web', state: 'active', since: 1, family: 'v4', addresses: ['192.0.2.7'] },
  ],
  createdAt: 1,
  updatedAt: 1,
};

/** What the server answers for a Service we created: ours plus its own fields. */
function readBack(
  body: ReturnType<typeof serviceBody>,
  extraSelector: Record<string, string> = {},
): ServiceObject {
  return serviceSchema.parse({
    ...body,
    metadata: { ...body.metadata, uid: 'u1', resourceVersion: '1' },
    spec: {
      ...body.spec,
      selector: { ...body.spec.selector, ...extraSelector },
      clusterIP: '203.0.113.9',
      ports: body.spec.ports.map((port) => ({ ...port, name: '' })),
    },
    status: { loadBalancer: { ingress: [{ ip: '192.0.2.7', ipMode: 'VIP' }] } },
  });
}

describe('k8s desired objects', () => {
  it('realizes only the declarations of active endpoints, each pinned to its address', () => {
    const ports = desiredPorts(VIEW);
    assert.deepEqual(
      ports.map((port) => [port.declaration.externalPort, port.service, port.addresses, port.sharingKey]),
      [
        [80, 'web-ip-80-tcp', ['192.0.2.7'], 'akash1tenant-ip-web'],
        [53, 'web-ip-53-udp', ['192.0.2.7'], 'akash1tenant-ip-web'],
      ],
    );
    assert.deepEqual(desiredPorts({ ...VIEW, state: 'closed' }), []);
  });

  it('builds a LoadBalancer Service with MetalLB sharing and pinning annotations and no NodePort', () => {
    const body = serviceBody(desiredPorts(VIEW)[0]!);
    assert.deepEqual(body.metadata.annotations, {
      'metallb.io/allow-shared-ip': 'akash1tenant-ip-web',
      'metallb.io/loadBalancerIPs': '192.0.2.7',
      'akash-ip.akash.network/endpoint': 'web',
    });
    assert.deepEqual(body.spec.ports, [{ port: 80, targetPort: 8080, protocol: 'TCP' }]);
    assert.equal(body.spec.allocateLoadBalancerNodePorts, false);
    assert.deepEqual(body.spec.ipFamilies, ['IPv4']);
    assert.equal(body.metadata.labels['akash.network/lease.id.oseq'], '2');
  });

  it('sees a read-back Service as unchanged, and patches away selector keys it does not want', () => {
    const body = serviceBody(desiredPorts(VIEW)[0]!);
    assert.ok(serviceMatches(readBack(body), body));
    const drifted = readBack(body, { extra: 'x' });
    assert.ok(!serviceMatches(drifted, body));
    assert.equal(servicePatch(drifted, body).spec.selector.extra, null);
  });

  it('mirrors a pool for MetalLB with auto-assignment off', () => {
    assert.deepEqual(poolBody({ name: 'a', addresses: ['192.0.2.0/28'], exclude: ['192.0.2.1'] }, 'm').spec, {
      addresses: ['192.0.2.0/28'],
      autoAssign: false,
      avoidBuggyIPs: false,
    });
  });
});

describe('ipv6PolicyBodies', () => {
  it('none for an IPv4 lease; per manifest service with IPv6 ports, ::/0 on their container ports, a hashed name when too long', () => {
    assert.deepEqual(ipv6PolicyBodies(VIEW), []);
    const long = 'x'.repeat(250);
    const dual: LeaseView = {
      ...VIEW,
      declarations: [
        ...VIEW.declarations,
        { endpoint: 'db', service: long, port: 9000, externalPort: 90, protocol: 'TCP' },
      ],
      endpoints: [
        { name: 'db', state: 'active', since: 1, family: 'v6', addresses: ['2001:db8::5'] },
        { name: 'web', state: 'active', since: 1, family: 'dual', addresses: ['192.0.2.7', '2001:db8::7'] },
      ],
    };
    const bodies = ipv6PolicyBodies(dual);
    assert.deepEqual(
      bodies.map((body) => [body.metadata.name, body.spec.ingress[0]?.ports]),
      [
        ['akash-ip-db-ipv6', [{ port: 5432, protocol: 'TCP' }]],
        [
          'akash-ip-web-ipv6',
          [
            { port: 53, protocol: 'UDP' },
            { port: 8080, protocol: 'TCP' },
          ],
        ],
        [bodies[2]?.metadata.name, [{ port: 9000, protocol: 'TCP' }]],
      ],
    );
    assert.match(bodies[2]?.metadata.name ?? '', /^akash-ip-[0-9a-v]{24}-ipv6$/);
    assert.deepEqual(bodies[0]?.spec.ingress[0]?.from, [{ ipBlock: { cidr: '::/0' } }]);
    assert.equal(bodies[0]?.metadata.labels['akash-ip.akash.network/policy'], 'ipv6-ingress');
  });
});
