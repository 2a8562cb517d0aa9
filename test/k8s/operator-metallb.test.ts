/**
 * `akash-ip operator` while the MetalLB controller restarts (issue 10's test list), on the real
 * kube-apiserver and MetalLB controller: addresses are pinned (`metallb.io/loadBalancerIPs`), so MetalLB
 * re-reads them and nothing moves; the operator writes nothing for it and `/health` never drops (K-B2).
 * Needs the harness's MetalLB controls (`restart-metallb`, `stop-metallb`, `start-metallb`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { memoryLogger } from '../../src/daemon/index.js';
import { createHttpsGateway, KubeBackend, type KubeGateway, leaseNamespace } from '../../src/k8s/index.js';
import type { LeaseId } from '../../src/lease/index.js';
import { parseOperatorConfig, type RunningOperator, runOperator } from '../../src/operator/index.js';
import {
  ALICE,
  type GoDeclaration,
  goLeasedIp,
  leaseOf,
  metallbPool,
  PROVIDER,
} from '../../src/operator/testing.js';
import { eventually, startCluster, type TestCluster } from './cluster.js';

const LEASED_IPS = '/apis/akash.network/v2beta2/namespaces/lease/providerleasedips';
const web = { endpoint: 'web', service: 'web', port: 8080, externalPort: 80 } as const;
const tls = { endpoint: 'web', service: 'web', port: 8443, externalPort: 443 } as const;
/** Between two `/health` samples while MetalLB restarts: a sampling rate, nothing waits on it. */
const SAMPLE_EVERY_MS = 25;

let cluster: TestCluster;
let gateway: KubeGateway;
let running: RunningOperator | undefined;

async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const answer = await gateway.request({ method, path, ...(body === undefined ? {} : { body }) });
  if (!answer.ok) assert.fail(answer.error.message);
  assert.ok(answer.value.status < 300, `${method} ${path}: ${JSON.stringify(answer.value.body)}`);
  return answer.value.body;
}

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
    cluster = await startCluster();
    gateway = createHttpsGateway({ server: cluster.server, ca: cluster.ca, token: cluster.token });
    const crd = await new KubeBackend({ gateway, provider: PROVIDER }).prepare();
    assert.ok(crd.ok, crd.ok ? '' : crd.error.message);
    await call(
      'POST',
      `/apis/metallb.io/v1beta1/namespaces/${cluster.metallbNamespace}/ipaddresspools`,
      metallbPool('default', ['192.0.2.1-192.0.2.14'], cluster.metallbNamespace),
    );
  });

  after(async () => {
    await running?.stop();
    gateway?.close();
    await cluster?.stop();
  });

  it('keeps every address, writes nothing, /health stays 200; a port declared while MetalLB was down is confirmed after', async () => {
    const config = parseOperatorConfig(
      { provider: PROVIDER, kubeconfig: cluster.kubeconfig, restAddress: '127.0.0.1', restPort: '0' },
      { AP_METALLB_NAMESPACE: cluster.metallbNamespace },
    );
    if (!config.ok) assert.fail(config.error.message);
    const started = await runOperator(config.value, { logger: memoryLogger() });
    if (!started.ok) assert.fail(started.error.message);
    running = started.value;
    const operator = started.value;
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
      await cluster.restartMetalLB();
      // A Service MetalLB re-reads keeps its address: pinned and reported as before.
      await eventually('the addresses reported again after the restart', async () => {
        const now = await addresses(first);
        return Object.values(now).every((service) => service.ingress !== undefined) ? now : undefined;
      });
      assert.deepEqual(await addresses(first), before);

      await cluster.stopMetalLB();
      const second = leaseOf(ALICE, 501);
      await declare(second, { ...web, endpoint: 'late' });
      const pinned = await eventually("the late port's Service written, pinned", async () => {
        const services = Object.values(await addresses(second));
        return services.length === 1 ? services[0] : undefined;
      });
      assert.equal(pinned.ingress, undefined, 'confirmed with MetalLB down');
      assert.equal((await fetch(`${operator.url}/ip-lease-status/${ALICE}/501/1/1`)).status, 204);
      await cluster.startMetalLB();
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
