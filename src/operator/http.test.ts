import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { memoryLogger } from '../daemon/index.js';
import { leaseNamespace } from '../k8s/index.js';
import { fixedFamilies } from './families.js';
import { Harness } from './harness.js';
import { createOperatorApp, type OperatorAppDeps } from './http.js';
import { ALICE, leaseOf, PROVIDER } from './testing.js';

function appOf(h: Harness, overrides: Partial<OperatorAppDeps> = {}) {
  return createOperatorApp({
    operator: h.operator,
    provider: PROVIDER,
    reachable: async () => undefined,
    registry: new Registry(),
    version: '0.1.0',
    logger: memoryLogger(),
    now: () => Date.UTC(2026, 0, 2, 3, 4, 5),
    ...overrides,
  });
}

const web = { endpoint: 'web', service: 'web', port: 8080, externalPort: 80 } as const;
const dns = { endpoint: 'dns', service: 'dns', port: 53, externalPort: 53, protocol: 'UDP' } as const;

describe('operator HTTP API', () => {
  it("answers as Go's barrier before the first sync: 503 empty, /usage 204", async () => {
    const h = await Harness.create({ start: false });
    const app = appOf(h);
    for (const path of ['/health', `/ip-lease-status/${ALICE}/1/1/1`, '/state', '/ignored-leases']) {
      const answer = await app.request(path);
      assert.equal(answer.status, 503, path);
      assert.equal(await answer.text(), '');
    }
    assert.equal((await app.request('/usage')).status, 204);
    const ready = await app.request('/readyz');
    assert.equal(ready.status, 503);
    assert.deepEqual(((await ready.json()) as { reasons: string[] }).reasons, [
      'providerleasedips not listed yet',
      'ipaddresspools not listed yet',
      'services not listed yet',
      'networkpolicies not listed yet',
    ]);
    assert.equal((await app.request('/healthz')).status, 200);
  });

  it('serves /health, /usage and /ip-lease-status byte for byte as the Go client reads them', async () => {
    const h = await Harness.create();
    const lease = leaseOf(ALICE, 7);
    h.declare(lease, web, dns);
    await h.settle();
    const app = appOf(h);

    const health = await app.request('/health');
    assert.equal(health.status, 200);
    assert.equal(await health.text(), 'OK');

    const usage = await app.request('/usage');
    assert.equal(await usage.text(), '{"Available":8,"InUse":2}\n');
    assert.equal(usage.headers.get('cache-control'), 'no-cache, max-age=0');
    assert.equal(usage.headers.get('last-modified'), 'Fri, 02 Jan 2026 03:04:05 GMT');
    assert.equal(usage.headers.get('content-type'), 'application/json');

    const status = await app.request(`/ip-lease-status/${ALICE}/7/1/1`);
    assert.equal(status.status, 200);
    const dnsIp = h.addresses(lease)['dns-ip-53-udp'];
    const webIp = h.addresses(lease)['web-ip-80-tcp'];
    assert.equal(
      await status.text(),
      `[{"Port":53,"ExternalPort":53,"ServiceName":"dns","IP":"${dnsIp}","Protocol":"UDP"},` +
        `{"Port":8080,"ExternalPort":80,"ServiceName":"web","IP":"${webIp}","Protocol":"TCP"}]\n`,
    );
    assert.equal((await app.request(`/ip-lease-status/${ALICE}/8/1/1`)).status, 204);
    for (const bad of [
      `/ip-lease-status/notbech32/7/1/1`,
      `/ip-lease-status/${ALICE}/0/1/1`,
      `/ip-lease-status/${ALICE}/7/x/1`,
    ]) {
      const answer = await app.request(bad);
      assert.equal(answer.status, 404, bad);
      assert.equal(await answer.text(), '');
    }
    await h.stop();
  });

  it("a dual-stack lease: /ip-lease-status has one entry per port per family in Go's shape; /usage/families counts each", async () => {
    const h = await Harness.create({
      pool: ['192.0.2.0/29', '2001:db8::/125'],
      families: fixedFamilies('dual'),
    });
    const lease = leaseOf(ALICE, 30);
    h.declare(lease, web, dns);
    await h.settle();
    const app = appOf(h);
    const status = await app.request(`/ip-lease-status/${ALICE}/30/1/1`);
    assert.equal(
      await status.text(),
      '[{"Port":53,"ExternalPort":53,"ServiceName":"dns","IP":"192.0.2.0","Protocol":"UDP"},' +
        '{"Port":53,"ExternalPort":53,"ServiceName":"dns","IP":"2001:db8::","Protocol":"UDP"},' +
        '{"Port":8080,"ExternalPort":80,"ServiceName":"web","IP":"192.0.2.1","Protocol":"TCP"},' +
        '{"Port":8080,"ExternalPort":80,"ServiceName":"web","IP":"2001:db8::1","Protocol":"TCP"}]\n',
    );
    assert.equal(await (await app.request('/usage')).text(), '{"Available":8,"InUse":2}\n');
    assert.deepEqual(await (await app.request('/usage/families')).json(), {
      default: 'dual',
      IPv4: { Available: 8, InUse: 2 },
      IPv6: { Available: 8, InUse: 2 },
    });
    const state = (await (await app.request('/state')).json()) as Record<string, { address?: string }[]>;
    assert.deepEqual(
      state[`${ALICE}/30/1/1/${PROVIDER}`]?.map((port) => port.address),
      ['192.0.2.0,2001:db8::', '192.0.2.1,2001:db8::1'],
    );
    await h.stop();
  });

  it('leaves a port MetalLB has not confirmed out of /ip-lease-status instead of failing the call (F13)', async () => {
    const h = await Harness.create({ noMetallb: true });
    const lease = leaseOf(ALICE, 9);
    h.declare(lease, web, dns);
    await h.settle();
    const app = appOf(h);
    assert.equal((await app.request(`/ip-lease-status/${ALICE}/9/1/1`)).status, 204);
    const address = h.addresses(lease)['web-ip-80-tcp'];
    h.fake.setStatus(`/api/v1/namespaces/${leaseNamespace(lease)}/services/web-ip-80-tcp`, {
      loadBalancer: { ingress: [{ ip: address }] },
    });
    await h.settle();
    const entries = (await (await app.request(`/ip-lease-status/${ALICE}/9/1/1`)).json()) as unknown[];
    assert.deepEqual(entries, [
      { Port: 8080, ExternalPort: 80, ServiceName: 'web', IP: address, Protocol: 'TCP' },
    ]);
    const state = (await (await app.request('/state')).json()) as Record<
      string,
      { state: string; reason?: string }[]
    >;
    const ports = Object.entries(state).find(([key]) => key !== 'pools')?.[1] ?? [];
    assert.deepEqual(
      ports.map((port) => [port.state, port.reason]),
      [
        ['pending', 'waiting for MetalLB to assign the address'],
        ['confirmed', undefined],
      ],
    );
    await h.stop();
  });

  it("reports MetalLB's reason for a Service it leaves unconfirmed", async () => {
    const clock = { now: 1_000_000 };
    const h = await Harness.create({ noMetallb: true, clock });
    const lease = leaseOf(ALICE, 12);
    h.declare(lease, web);
    await h.settle();
    h.fake.add(`/api/v1/namespaces/${leaseNamespace(lease)}/events`, {
      metadata: { name: 'web-ip-80-tcp.1', namespace: leaseNamespace(lease) },
      involvedObject: { kind: 'Service', name: 'web-ip-80-tcp', namespace: leaseNamespace(lease) },
      type: 'Warning',
      source: { component: 'metallb-controller' },
      reason: 'AllocationFailed',
      message: 'Failed to allocate IP for "web-ip-80-tcp": no available IPs',
      lastTimestamp: '2026-01-02T03:04:05Z',
    });
    clock.now += 10_000;
    h.operator.resync();
    await h.settle();
    const state = (await (await appOf(h).request('/state')).json()) as Record<string, { reason?: string }[]>;
    assert.equal(
      Object.entries(state).find(([key]) => key !== 'pools')?.[1][0]?.reason,
      'MetalLB: AllocationFailed: Failed to allocate IP for "web-ip-80-tcp": no available IPs',
    );
    await h.stop();
  });

  it('answers 500 with a JSON body and Content-Type when a route fails (F9)', async () => {
    const h = await Harness.create();
    const app = appOf(h, {
      operator: {
        ...h.operator,
        isSynced: () => true,
        confirmedPorts: () => {
          throw new Error('boom');
        },
      } as never,
    });
    const answer = await app.request(`/ip-lease-status/${ALICE}/1/1/1`);
    assert.equal(answer.status, 500);
    assert.equal(answer.headers.get('content-type'), 'application/json');
    assert.equal(await answer.text(), '{"Error":"internal error","Code":-1}\n');
    await h.stop();
  });

  it('keeps /health at 200 while the apiserver is away; /readyz says why', async () => {
    const h = await Harness.create();
    const app = appOf(h, { reachable: async () => 'the Kubernetes API server does not answer' });
    h.fake.down();
    assert.equal((await app.request('/health')).status, 200);
    const ready = await app.request('/readyz');
    assert.equal(ready.status, 503);
    assert.deepEqual(((await ready.json()) as { reasons: string[] }).reasons, [
      'the Kubernetes API server does not answer',
    ]);
    h.fake.up();
    await h.stop();
  });

  it('lists ignored objects and explains a missing pool', async () => {
    const h = await Harness.create();
    h.fake.remove('/apis/metallb.io/v1beta1/namespaces/metallb-system/ipaddresspools/default');
    h.fake.add('/apis/akash.network/v2beta2/namespaces/lease/providerleasedips', {
      metadata: { name: 'broken' },
      spec: {},
    });
    await h.settle();
    const app = appOf(h);
    const ignored = (await (await app.request('/ignored-leases')).json()) as Record<
      string,
      Record<string, unknown>
    >;
    assert.deepEqual(Object.keys(ignored), ['object/broken']);
    assert.equal(ignored['object/broken']?.['last-error-type'], 'malformed');
    assert.equal(await (await app.request('/usage')).text(), '{"Available":0,"InUse":0}\n');
    const ready = (await (await app.request('/readyz')).json()) as { warnings: string[] };
    assert.match(ready.warnings.join(), /IPAddressPool "default" does not exist/);
    const state = (await (await app.request('/state')).json()) as {
      pools: { name: string; problem?: string }[];
    };
    assert.equal(state.pools[0]?.name, 'default');
    assert.match(state.pools[0]?.problem ?? '', /does not exist: no address can be leased from it/);
    await h.stop();
  });
});
