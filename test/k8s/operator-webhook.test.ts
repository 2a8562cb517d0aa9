/**
 * `akash-ip operator --webhook-port` against the real kube-apiserver and MetalLB controller: the Go
 * provider's order (the workload first, the IP declarations after), pods admitted through the apiserver
 * (no kubelet runs, but admission does), the webhook called by URL on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { memoryLogger } from '../../src/daemon/index.js';
import {
  createHttpsGateway,
  KubeBackend,
  type KubeGateway,
  LABEL,
  leaseLabels,
  leaseNamespace,
  sharingKey,
} from '../../src/k8s/index.js';
import { leaseKey } from '../../src/lease/index.js';
import { parseOperatorConfig, type RunningOperator, runOperator } from '../../src/operator/index.js';
import { ALICE, goLeasedIp, leaseOf, metallbPool, PROVIDER } from '../../src/operator/testing.js';
import { CONFIGURATION_PATH, type LeasePodsReport } from '../../src/webhook/index.js';
import { eventually, startCluster, type TestCluster } from './cluster.js';

const LEASED_IPS = '/apis/akash.network/v2beta2/namespaces/lease/providerleasedips';
const WEB = { [LABEL.akash]: 'true', [LABEL.manifestService]: 'web' };
const web = { endpoint: 'web', service: 'web', port: 8080, externalPort: 80 } as const;
/** Go hashes a name holding `_`: the operator sees only the hash. */
const hashed = { endpoint: 'p2p_node', service: 'web', port: 26656, externalPort: 26656 } as const;

let cluster: TestCluster;
let gateway: KubeGateway;
let running: RunningOperator | undefined;

async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const answer = await gateway.request({ method, path, ...(body === undefined ? {} : { body }) });
  if (!answer.ok) assert.fail(answer.error.message);
  assert.ok(answer.value.status < 300, `${method} ${path}: ${JSON.stringify(answer.value.body)}`);
  return answer.value.body;
}

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

const envOf = (pod: PodOut) =>
  Object.fromEntries((pod.spec.containers[0]?.env ?? []).map((entry) => [entry.name, entry.value]));

describe('akash-ip operator serving the leased-IP webhook on a real apiserver', () => {
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

  it('injects the variables into a pod created after the declarations are confirmed; /state reports the earlier pod missing', async () => {
    const config = parseOperatorConfig(
      {
        provider: PROVIDER,
        kubeconfig: cluster.kubeconfig,
        restAddress: '127.0.0.1',
        restPort: '0',
        webhookPort: '0',
        webhookUrl: 'https://127.0.0.1:{port}/mutate',
      },
      { AP_METALLB_NAMESPACE: cluster.metallbNamespace },
    );
    if (!config.ok) assert.fail(config.error.message);
    const logs = memoryLogger();
    const started = await runOperator(config.value, { logger: logs });
    if (!started.ok) assert.fail(started.error.message);
    running = started.value;
    const operator = started.value;
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
    assert.deepEqual(envOf(early), {}, 'no address exists yet');
    for (const port of [web, hashed]) await call('POST', LEASED_IPS, goLeasedIp(lease, port));
    const ips = await eventually('both endpoints confirmed', async () => {
      const answer = await fetch(`${operator.url}/ip-lease-status/${ALICE}/400/1/1`);
      if (answer.status !== 200) return undefined;
      const list = (await answer.json()) as { ExternalPort: number; IP: string }[];
      return list.length === 2 ? new Map(list.map((entry) => [entry.ExternalPort, entry.IP])) : undefined;
    });

    const later = await createPod(ns);
    const hash = sharingKey(ALICE, 'p2p_node').slice(`${ALICE}-ip-`.length);
    const env = envOf(later);
    assert.equal(env.AKASH_LEASED_IP_WEB, ips.get(80));
    assert.equal(env[`AKASH_LEASED_IP_${hash.toUpperCase()}`], ips.get(26656));
    assert.equal(env.AKASH_LEASED_IPS, [`${hash}=${ips.get(26656)}`, `web=${ips.get(80)}`].sort().join(','));

    const state = (await (await fetch(`${operator.url}/state`)).json()) as {
      ip_env: Record<string, LeasePodsReport>;
    };
    const report = state.ip_env[leaseKey(lease)];
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
