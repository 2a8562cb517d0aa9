/**
 * `akash-ip operator` while the MetalLB controller restarts (issue 10's test list), on the real
 * kube-apiserver and MetalLB controller: addresses are pinned (`metallb.io/loadBalancerIPs`), so MetalLB
 * re-reads them and nothing moves; the operator writes nothing for it and `/health` never drops (K-B2).
 * Needs the harness's MetalLB controls (`restart-metallb`, `stop-metallb`, `start-metallb`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { leaseNamespace } from '../../src/k8s/index.js';
import type { LeaseId } from '../../src/lease/index.js';
import type { RunningOperator } from '../../src/operator/index.js';
import { ALICE, type GoDeclaration, goLeasedIp, leaseOf } from '../../src/operator/testing.js';
import { eventually } from './cluster.js';
import { LEASED_IPS, type OperatorCluster, operatorCluster } from './operator-cluster.js';

const web = { endpoint: 'web', service: 'web', port: 8080, externalPort: 80 } as const;
const tls = { endpoint: 'web', service: 'web', port: 8443, externalPort: 443 } as const;
/** Between two `/health` samples while MetalLB restarts: a sampling rate, nothing waits on it. */
const SAMPLE_EVERY_MS = 25;

let env: OperatorCluster;
let running: RunningOperator | undefined;

const call = (method: 'GET' | 'POST', path: string, body?: unknown) => env.call(method, path, body);

async function declare(lease: LeaseId, ...ports: GoDeclaration[]): Promise<void> {
  await call('POST', '/api/v1/namespaces', { metadata: { name: leaseNamespace(lease) } });
  for (const port of ports) await call('POST', LEASED_IPS, goLeasedIp(lease, port));
}

/** Each Service of the lease: the address it asks for (our pin) and the one MetalLB reports. */
async function addresses(
  lease: LeaseId,
): Promise<Record<string, { pin: string | undefined; ingress: string | undefined }>> {
  const list = (await call('GET', `/api/v1/namespaces/${leaseNamespace(lease)}/services`)) as {
    items: {
      metadata: { name: string; annotations?: Record<string, string> };
      status?: { loadBalancer?: { ingress?: { ip: string }[] } };
    }[];
  };
  return Object.fromEntries(
    list.items.map((item) => [
      item.metadata.name,
      {
        pin: item.metadata.annotations?.['metallb.io/loadBalancerIPs'],
        ingress: item.status?.loadBalancer?.ingress?.[0]?.ip,
      },
    ]),
  );
}

async function confirmed(operator: RunningOperator, lease: LeaseId, ports: number): Promise<string[]> {
  return eventually(`${ports} ports of ${lease.dseq} confirmed`, async () => {
    const answer = await fetch(`${operator.url}/ip-lease-status/${lease.owner}/${lease.dseq}/1/1`);
    const list = answer.status === 200 ? ((await answer.json()) as { IP: string }[]) : [];
    return list.length === ports ? list.map((entry) => entry.IP) : undefined;
  });
}

describe('akash-ip operator through a MetalLB controller restart', () => {
  before(async () => {
    env = await operatorCluster();
  });

  after(async () => {
    await running?.stop();
    await env?.stop();
  });

  it('keeps every address, writes nothing, /health stays 200; a port declared while MetalLB was down is confirmed after', async () => {
    running = await env.start();
    const operator = running;
    const first = leaseOf(ALICE, 500);
    await declare(first, web, tls);
    const ips = await confirmed(operator, first, 2);
    await operator.operator.idle();
    const before = await addresses(first);
    const writes = operator.operator.writeStats();

    let sampling = true;
    const health = new Set<number>();
    const sampler = (async () => {
      while (sampling) {
        health.add((await fetch(`${operator.url}/health`)).status);
        await new Promise((done) => setTimeout(done, SAMPLE_EVERY_MS));
      }
    })();
    try {
      await env.cluster.restartMetalLB();
      // A Service MetalLB re-reads keeps its address: pinned and reported as before.
      await eventually('the addresses reported again after the restart', async () => {
        const now = await addresses(first);
        return Object.values(now).every((service) => service.ingress !== undefined) ? now : undefined;
      });
      assert.deepEqual(await addresses(first), before);

      await env.cluster.stopMetalLB();
      const second = leaseOf(ALICE, 501);
      await declare(second, { ...web, endpoint: 'late' });
      const pinned = await eventually("the late port's Service written, pinned", async () => {
        const services = Object.values(await addresses(second));
        return services.length === 1 ? services[0] : undefined;
      });
      assert.equal(pinned.ingress, undefined, 'confirmed with MetalLB down');
      assert.equal((await fetch(`${operator.url}/ip-lease-status/${ALICE}/501/1/1`)).status, 204);
      await env.cluster.startMetalLB();
      assert.deepEqual(await confirmed(operator, second, 1), [pinned.pin]);
      assert.deepEqual(await confirmed(operator, first, 2), ips);
      assert.deepEqual(await addresses(first), before);
    } finally {
      sampling = false;
      await sampler;
    }
    assert.deepEqual([...health], [200], '/health left 200 while MetalLB was away');
    await operator.operator.idle();
    // One Service created, for the late port; none of the first lease's touched.
    assert.deepEqual(operator.operator.writeStats(), { ...writes, created: writes.created + 1 });
  });
});
