/**
 * `akash-ip operator` against the real kube-apiserver and MetalLB controller: objects written as the Go
 * provider's DeclareIP writes them, answers read as the Go provider's IP client reads them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { leaseNamespace } from '../../src/k8s/index.js';
import type { LeaseId } from '../../src/lease/index.js';
import type { RunningOperator } from '../../src/operator/index.js';
import { ALICE, type GoDeclaration, goLeasedIp, goService, leaseOf } from '../../src/operator/testing.js';
import { eventually } from './cluster.js';
import { LEASED_IPS, type OperatorCluster, operatorCluster } from './operator-cluster.js';

const web = { endpoint: 'web', service: 'web', port: 8080, externalPort: 80 } as const;
const tls = { endpoint: 'web', service: 'web', port: 8443, externalPort: 443 } as const;
const dnsTcp = { endpoint: 'dns', service: 'dns', port: 53, externalPort: 53, protocol: 'TCP' } as const;
const dnsUdp = { endpoint: 'dns', service: 'dns', port: 53, externalPort: 53, protocol: 'UDP' } as const;

let env: OperatorCluster;
let running: RunningOperator | undefined;

async function call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) {
  return (await env.call(method, path, body)) as {
    items?: { metadata: { name: string; resourceVersion: string } }[];
  };
}

const start = (): Promise<RunningOperator> => env.start();

async function declare(lease: LeaseId, ...ports: GoDeclaration[]): Promise<void> {
  await call('POST', '/api/v1/namespaces', { metadata: { name: leaseNamespace(lease) } });
  for (const port of ports) await call('POST', LEASED_IPS, goLeasedIp(lease, port));
}

async function get(path: string): Promise<Response> {
  assert.ok(running !== undefined);
  return fetch(`${running.url}${path}`);
}

async function serviceVersions(lease: LeaseId): Promise<Record<string, string>> {
  const list = await call('GET', `/api/v1/namespaces/${leaseNamespace(lease)}/services`);
  return Object.fromEntries(
    (list.items ?? []).map((item) => [item.metadata.name, item.metadata.resourceVersion]),
  );
}

describe('akash-ip operator on a real apiserver + MetalLB controller', () => {
  before(async () => {
    env = await operatorCluster();
  });

  after(async () => {
    await running?.stop();
    await env?.stop();
  });

  it('deploys Go-declared ports, MetalLB confirms them, the Go client reads them; a restart writes nothing', async () => {
    running = await start();
    const lease = leaseOf(ALICE, 100);
    await declare(lease, web, tls, dnsTcp, dnsUdp);
    const entries = await eventually('all four ports confirmed', async () => {
      const answer = await get(`/ip-lease-status/${ALICE}/100/1/1`);
      if (answer.status !== 200) return undefined;
      const list = (await answer.json()) as { ExternalPort: number; IP: string; Protocol: string }[];
      return list.length === 4 ? list : undefined;
    });
    const byPort = Object.fromEntries(
      entries.map((entry) => [`${entry.ExternalPort}/${entry.Protocol}`, entry.IP]),
    );
    assert.equal(byPort['80/TCP'], byPort['443/TCP']);
    assert.equal(byPort['53/TCP'], byPort['53/UDP']);
    assert.notEqual(byPort['80/TCP'], byPort['53/TCP']);
    assert.equal(await (await get('/health')).text(), 'OK');
    assert.equal(await (await get('/usage')).text(), '{"Available":14,"InUse":2}\n');

    const before = await serviceVersions(lease);
    await running.stop();
    running = await start();
    await eventually('health after the restart', async () =>
      (await get('/health')).status === 200 ? true : undefined,
    );
    const again = (await (await get(`/ip-lease-status/${ALICE}/100/1/1`)).json()) as unknown[];
    assert.deepEqual(
      new Set(again.map((entry) => JSON.stringify(entry))),
      new Set(entries.map((e) => JSON.stringify(e))),
    );
    // /health is 200 once the first pass has read the cluster, before that pass's writes: let it finish
    await running.operator.idle();
    assert.deepEqual(running.operator.writeStats(), { created: 0, updated: 0, deleted: 0, failed: 0 });
    assert.deepEqual(await serviceVersions(lease), before, 'no Service was written on restart');
  });

  it("migration by overwrite: the destination's Services get the same address, confirmed by MetalLB", async () => {
    const from = leaseOf(ALICE, 200);
    const to = leaseOf(ALICE, 201);
    await declare(from, { ...web, endpoint: 'mig' }, { ...tls, endpoint: 'mig' });
    const before = await eventually('the source confirmed', async () => {
      const answer = await get(`/ip-lease-status/${ALICE}/200/1/1`);
      const list = answer.status === 200 ? ((await answer.json()) as { IP: string }[]) : [];
      return list.length === 2 ? list[0]?.IP : undefined;
    });
    await call('POST', '/api/v1/namespaces', { metadata: { name: leaseNamespace(to) } });
    for (const port of [web, tls]) {
      const body = goLeasedIp(to, { ...port, endpoint: 'mig' });
      const path = `${LEASED_IPS}/${body.metadata.name}`;
      const current = (await call('GET', path)) as unknown as { metadata: { resourceVersion: string } };
      const answer = await env.gateway.request({
        method: 'PUT',
        path,
        body: { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion } },
      });
      assert.ok(answer.ok && answer.value.status === 200);
    }
    const after = await eventually('the destination confirmed', async () => {
      const answer = await get(`/ip-lease-status/${ALICE}/201/1/1`);
      const list = answer.status === 200 ? ((await answer.json()) as { IP: string }[]) : [];
      return list.length === 2 ? list.map((entry) => entry.IP) : undefined;
    });
    assert.deepEqual(after, [before, before]);
    assert.equal((await get(`/ip-lease-status/${ALICE}/200/1/1`)).status, 204);
    assert.deepEqual(await serviceVersions(from), {});
  });

  it("adopts the Go operator's Services: MetalLB's addresses become the pins, no tenant's IP changes", async () => {
    await running?.stop();
    running = undefined;
    const lease = leaseOf(ALICE, 300);
    await declare(lease, { ...web, endpoint: 'adopt' }, { ...dnsUdp, endpoint: 'adopt' });
    for (const port of [web, dnsUdp]) {
      await call(
        'POST',
        `/api/v1/namespaces/${leaseNamespace(lease)}/services`,
        goService(lease, { ...port, endpoint: 'adopt' }),
      );
    }
    const assigned = await eventually('MetalLB assigns the Go Services', async () => {
      const list = (await call('GET', `/api/v1/namespaces/${leaseNamespace(lease)}/services`)) as unknown as {
        items: { status?: { loadBalancer?: { ingress?: { ip: string }[] } } }[];
      };
      const ips = list.items.map((item) => item.status?.loadBalancer?.ingress?.[0]?.ip);
      return ips.length === 2 && ips.every((ip) => ip !== undefined) ? ips : undefined;
    });
    assert.equal(assigned[0], assigned[1], 'one sharing key, one address');
    running = await start();
    const entries = await eventually('the adopted ports confirmed', async () => {
      const answer = await get(`/ip-lease-status/${ALICE}/300/1/1`);
      const list = answer.status === 200 ? ((await answer.json()) as { IP: string }[]) : [];
      return list.length === 2 ? list.map((entry) => entry.IP) : undefined;
    });
    assert.deepEqual(entries, [assigned[0], assigned[0]]);
  });

  it('closes a lease whose objects are deleted: its Services go, its address stays counted (quarantine)', async () => {
    const lease = leaseOf(ALICE, 100);
    for (const port of [web, tls, dnsTcp, dnsUdp]) {
      await call('DELETE', `${LEASED_IPS}/${goLeasedIp(lease, port).metadata.name}`);
    }
    await eventually('the Services deleted', async () =>
      Object.keys(await serviceVersions(lease)).length === 0 ? true : undefined,
    );
    assert.equal((await get(`/ip-lease-status/${ALICE}/100/1/1`)).status, 204);
    // Two quarantined addresses of lease 100, one of the migrated endpoint, one adopted.
    assert.equal(await (await get('/usage')).text(), '{"Available":14,"InUse":4}\n');
  });
});
