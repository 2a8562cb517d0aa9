/**
 * `akash-ip operator --webhook-port` against the real kube-apiserver and MetalLB controller: the Go
 * provider's order (the workload first, the IP declarations after), pods admitted through the apiserver
 * (no kubelet runs, but admission does), the webhook called by URL on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { memoryLogger } from '../../src/daemon/index.js';
import { LABEL, leaseLabels, leaseNamespace, sharingKey } from '../../src/k8s/index.js';
import { leaseKey } from '../../src/lease/index.js';
import type { RunningOperator } from '../../src/operator/index.js';
import { ALICE, goLeasedIp, leaseOf } from '../../src/operator/testing.js';
import { CONFIGURATION_PATH, type LeasePodsReport } from '../../src/webhook/index.js';
import { eventually } from './cluster.js';
import { LEASED_IPS, type OperatorCluster, operatorCluster } from './operator-cluster.js';

const WEB = { [LABEL.akash]: 'true', [LABEL.manifestService]: 'web' };
const web = { endpoint: 'web', service: 'web', port: 8080, externalPort: 80 } as const;
/** Go hashes a name holding `_`: the operator sees only the hash. */
const hashed = { endpoint: 'p2p_node', service: 'web', port: 26656, externalPort: 26656 } as const;

let env: OperatorCluster;
let running: RunningOperator | undefined;

const call = (method: 'GET' | 'POST', path: string, body?: unknown) => env.call(method, path, body);

interface PodOut {
  metadata: { name: string };
  spec: { containers: { env?: { name: string; value?: string }[] }[] };
}

async function createPod(ns: string): Promise<PodOut> {
  return (await call('POST', `/api/v1/namespaces/${ns}/pods`, {
    metadata: { generateName: 'web-', labels: WEB },
    spec: { automountServiceAccountToken: false, containers: [{ name: 'app', image: 'nginx' }] },
  })) as PodOut;
}

const variablesOf = (pod: PodOut) =>
  Object.fromEntries((pod.spec.containers[0]?.env ?? []).map((entry) => [entry.name, entry.value]));

describe('akash-ip operator serving the leased-IP webhook on a real apiserver', () => {
  before(async () => {
    env = await operatorCluster();
  });

  after(async () => {
    await running?.stop();
    await env?.stop();
  });

  it('injects the variables into a pod created after the declarations are confirmed; /state reports the earlier pod missing', async () => {
    const logs = memoryLogger();
    const started = await env.start(
      { webhookPort: '0', webhookUrl: 'https://127.0.0.1:{port}/mutate' },
      logs,
    );
    running = started;
    const operator = started;
    await eventually('the webhook serving', async () =>
      operator.admission()?.webhook.serving ? true : undefined,
    ).catch((error: Error) => {
      const lines = logs.lines.map((line) => `${line.level} ${line.msg} ${String(line.fields.error ?? '')}`);
      const informers = JSON.stringify(operator.operator.informerStats());
      throw new Error(`${error.message}; informers ${informers}; the operator's log:\n${lines.join('\n')}`);
    });
    const configurations = (await call('GET', CONFIGURATION_PATH)) as { items: unknown[] };
    assert.equal(configurations.items.length, 1);

    // The Go provider's order: namespace and workload first, the IP declarations after.
    const lease = leaseOf(ALICE, 400);
    const ns = leaseNamespace(lease);
    // The labels the Go provider puts on a lease namespace: what the webhook's namespaceSelector matches.
    const labels = { [LABEL.akash]: 'true', ...leaseLabels(lease) };
    await call('POST', '/api/v1/namespaces', { metadata: { name: ns, labels } });
    await call('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'default' } });
    const early = await createPod(ns);
    assert.deepEqual(variablesOf(early), {}, 'no address exists yet');
    for (const port of [web, hashed]) await call('POST', LEASED_IPS, goLeasedIp(lease, port));
    const ips = await eventually('both endpoints confirmed', async () => {
      const answer = await fetch(`${operator.url}/ip-lease-status/${ALICE}/400/1/1`);
      if (answer.status !== 200) return undefined;
      const list = (await answer.json()) as { ExternalPort: number; IP: string }[];
      return list.length === 2 ? new Map(list.map((entry) => [entry.ExternalPort, entry.IP])) : undefined;
    });

    const later = await createPod(ns);
    const hash = sharingKey(ALICE, 'p2p_node').slice(`${ALICE}-ip-`.length);
    const variables = variablesOf(later);
    assert.equal(variables.AKASH_LEASED_IP_WEB, ips.get(80));
    assert.equal(variables[`AKASH_LEASED_IP_${hash.toUpperCase()}`], ips.get(26656));
    assert.equal(
      variables.AKASH_LEASED_IPS,
      [`${hash}=${ips.get(26656)}`, `web=${ips.get(80)}`].sort().join(','),
    );

    // /state gives the pod list 2 s; a slower answer is reported as `current: null`, so ask again
    const report = await eventually("/state's report of the lease's pods", async () => {
      const state = (await (await fetch(`${operator.url}/state`)).json()) as {
        ip_env: Record<string, LeasePodsReport | { current: null }>;
      };
      const found = state.ip_env[leaseKey(lease)];
      return found?.current === null ? undefined : (found as LeasePodsReport | undefined);
    });
    assert.equal(report?.current, false);
    assert.deepEqual(
      new Map(report?.pods.map((pod) => [pod.pod, pod.state])),
      new Map([
        [early.metadata.name, 'missing'],
        [later.metadata.name, 'current'],
      ]),
    );
    assert.equal((await fetch(`${operator.url}/health`)).status, 200);
  });
});
