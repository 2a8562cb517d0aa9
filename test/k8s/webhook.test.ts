/**
 * The leased-IP admission webhook against a real kube-apiserver (test/k8s/harness). No kubelet runs, but
 * admission does: a pod created through the API is stored as the webhook patched it. The webhook runs in
 * this process on 127.0.0.1; its MutatingWebhookConfiguration points there by URL with our own CA.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createHttpsGateway,
  KubeClient,
  type KubeGateway,
  LABEL,
  leaseLabels,
  leaseNamespace,
} from '../../src/k8s/index.js';
import { createLeaseEngine, type LeaseEngine, type LeaseId } from '../../src/lease/index.js';
import { leaseOf, manifestGroup, PROVIDER } from '../../src/lease/testing.js';
import { createMemoryStore } from '../../src/store/index.js';
import {
  applyWebhookConfiguration,
  CONFIGURATION_PATH,
  checkLeasePods,
  engineLookup,
  INJECTED_ANNOTATION,
  type LeasedIpLookup,
  RESTARTED_AT_ANNOTATION,
  ROLLED_ANNOTATION,
  type RunningWebhook,
  rollOnce,
  startWebhook,
} from '../../src/webhook/index.js';
import { eventually, startCluster, type TestCluster } from './cluster.js';

const TENANT = 'akash1tenant';
const LEASE: LeaseId = leaseOf(TENANT, 21);
const NEIGHBOUR: LeaseId = leaseOf(TENANT, 22);
const NS = leaseNamespace(LEASE);
const NEIGHBOUR_NS = leaseNamespace(NEIGHBOUR);
const PLAIN_NS = 'not-a-lease';
const WEB = { [LABEL.akash]: 'true', [LABEL.manifestService]: 'web' };

let cluster: TestCluster;
let gateway: KubeGateway;
let client: KubeClient;
let engine: LeaseEngine;
let webhook: RunningWebhook;
/** Every review the webhook answered, by outcome. */
const outcomes: string[] = [];
/** While set, every review waits for it: the webhook made slow on purpose. */
let gate: Promise<void> | undefined;

function unwrap<T>(
  result: { ok: true; value: T } | { ok: false; error: { code: string; message: string } },
): T {
  if (!result.ok) assert.fail(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

async function send(
  method: 'POST' | 'GET' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const answer = unwrap(await gateway.request({ method, path, ...(body === undefined ? {} : { body }) }));
  assert.ok(answer.status < 300, `${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body as Record<string, unknown>;
}

async function namespace(name: string, labels: Record<string, string>): Promise<void> {
  await send('POST', '/api/v1/namespaces', { metadata: { name, labels } });
  // No controller-manager runs: the default ServiceAccount pod admission looks for is made by hand.
  await send('POST', `/api/v1/namespaces/${name}/serviceaccounts`, { metadata: { name: 'default' } });
}

interface PodOut {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: { containers: { name: string; env?: { name: string; value?: string }[] }[] };
}

/** Creates a pod of manifest service `web` (or a dry run of one) and returns it as stored. */
async function createPod(
  ns: string,
  env?: { name: string; value: string }[],
  dryRun = false,
): Promise<PodOut> {
  const path = `/api/v1/namespaces/${ns}/pods${dryRun ? '?dryRun=All' : ''}`;
  return (await send('POST', path, {
    metadata: { generateName: 'web-', labels: WEB },
    spec: {
      automountServiceAccountToken: false,
      containers: [{ name: 'app', image: 'nginx', ...(env === undefined ? {} : { env }) }],
    },
  })) as unknown as PodOut;
}

function envOf(pod: PodOut): Record<string, string | undefined> {
  return Object.fromEntries((pod.spec.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
}

async function deployment(ns: string): Promise<void> {
  await send('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, {
    metadata: { name: 'web', labels: WEB },
    spec: {
      selector: { matchLabels: WEB },
      template: { metadata: { labels: WEB }, spec: { containers: [{ name: 'app', image: 'nginx' }] } },
    },
  });
}

async function templateAnnotations(ns: string): Promise<Record<string, string> | undefined> {
  const body = (await send('GET', `/apis/apps/v1/namespaces/${ns}/deployments/web`)) as {
    spec: { template: { metadata: { annotations?: Record<string, string> } } };
  };
  return body.spec.template.metadata.annotations;
}

function address(): string {
  const endpoint = engine.lease(LEASE)?.endpoints.find((e) => e.name === 'web');
  assert.equal(endpoint?.state, 'active');
  return endpoint.addresses[0]!;
}

/** Waits until the apiserver admits pods of the lease through the webhook (its configuration is read asynchronously). */
function admitted(): Promise<PodOut> {
  return eventually('the apiserver calls the webhook', async () => {
    const pod = await createPod(NS, undefined, true);
    return envOf(pod).AKASH_LEASED_IP_WEB === undefined ? undefined : pod;
  });
}

describe('leased-IP admission webhook on a real apiserver', () => {
  before(async () => {
    cluster = await startCluster();
    gateway = createHttpsGateway({ server: cluster.server, ca: cluster.ca, token: cluster.token });
    client = new KubeClient(gateway);
    engine = unwrap(
      await createLeaseEngine({
        store: createMemoryStore(),
        provider: PROVIDER,
        pools: [{ name: 'pool-a', addresses: ['192.0.2.1-192.0.2.14'] }],
      }),
    );
    // Lease namespaces labelled as the Go provider labels them.
    for (const [id, ns] of [
      [LEASE, NS],
      [NEIGHBOUR, NEIGHBOUR_NS],
    ] as const) {
      await namespace(ns, { [LABEL.akash]: 'true', 'akash.network/namespace': ns, ...leaseLabels(id) });
      await deployment(ns);
    }
    await namespace(PLAIN_NS, {});
    const { lookup } = engineLookup(engine);
    const slowable: LeasedIpLookup = async (ns, service) => {
      if (gate !== undefined) await gate;
      return lookup(ns, service);
    };
    // The handler timeout is longer than the configuration's timeoutSeconds: "slow" is the apiserver giving up.
    webhook = unwrap(
      await startWebhook({
        client,
        provider: PROVIDER,
        lookup: slowable,
        endpoint: { url: 'https://127.0.0.1:{port}/mutate' },
        certificates: { ipAddresses: ['127.0.0.1'], settleMs: 1_000 },
        timeoutSeconds: 2,
        handlerTimeoutMs: 10_000,
        onReview: (outcome) => outcomes.push(outcome),
      }),
    );
  });

  after(async () => {
    await webhook?.close();
    gateway?.close();
    await cluster?.stop();
  });

  it('a pod created before the address exists has no variables; one created after has them', async () => {
    const early = await createPod(NS);
    unwrap(await engine.deploy(LEASE, manifestGroup('dcloud', { web: [{ port: 80, ip: 'web' }] })));
    // The same owner's other deployment declares the same endpoint: withheld until it is migrated there.
    unwrap(await engine.deploy(NEIGHBOUR, manifestGroup('dcloud', { web: [{ port: 80, ip: 'web' }] })));
    await admitted();
    const late = await createPod(NS);
    assert.deepEqual(envOf(early), {});
    assert.deepEqual(envOf(late), { AKASH_LEASED_IP_WEB: address(), AKASH_LEASED_IPS: `web=${address()}` });
    assert.equal(late.metadata.annotations?.[INJECTED_ANNOTATION], `web=${address()}`);

    const report = unwrap(await checkLeasePods(client, NS, engineLookup(engine).lookup));
    assert.equal(report.current, false);
    const byPod = new Map(report.pods.map((pod) => [pod.pod, pod]));
    assert.equal(byPod.get(early.metadata.name)?.state, 'missing');
    assert.deepEqual(byPod.get(early.metadata.name)?.missing, ['AKASH_LEASED_IP_WEB', 'AKASH_LEASED_IPS']);
    assert.equal(byPod.get(late.metadata.name)?.state, 'current');
  });

  it("keeps a container's own variable and leaves pods outside lease namespaces alone", async () => {
    const own = await createPod(NS, [{ name: 'AKASH_LEASED_IP_WEB', value: '198.51.100.99' }]);
    assert.deepEqual(envOf(own), {
      AKASH_LEASED_IP_WEB: '198.51.100.99',
      AKASH_LEASED_IPS: `web=${address()}`,
    });
    const reviews = outcomes.length;
    const plain = await createPod(PLAIN_NS);
    assert.deepEqual(envOf(plain), {});
    // The namespace selector keeps the apiserver from even asking.
    assert.equal(outcomes.length, reviews);
    assert.equal(plain.metadata.annotations, undefined);
  });

  it("rolls the lease's Deployment once, only when opted in, and no other lease's", async () => {
    const noRoll = unwrap(await rollOnce(client, NS, engineLookup(engine).lookup, { enabled: false }));
    assert.deepEqual(noRoll, { rolled: [], alreadyRolled: [] });
    assert.equal((await templateAnnotations(NS))?.[RESTARTED_AT_ANNOTATION], undefined);

    const first = unwrap(await rollOnce(client, NS, engineLookup(engine).lookup, { enabled: true }));
    assert.deepEqual(first, { rolled: ['deployments/web'], alreadyRolled: [] });
    assert.ok((await templateAnnotations(NS))?.[RESTARTED_AT_ANNOTATION]);
    const workload = (await send('GET', `/apis/apps/v1/namespaces/${NS}/deployments/web`)) as {
      metadata: { annotations?: Record<string, string> };
    };
    assert.ok(workload.metadata.annotations?.[ROLLED_ANNOTATION]);
    assert.equal(await templateAnnotations(NEIGHBOUR_NS), undefined);

    const again = unwrap(await rollOnce(client, NS, engineLookup(engine).lookup, { enabled: true }));
    assert.deepEqual(again, { rolled: [], alreadyRolled: ['deployments/web'] });
  });

  it('a slow webhook does not block pod creation (failurePolicy Ignore)', async () => {
    let release = (): void => {};
    gate = new Promise((resolve) => {
      release = resolve;
    });
    try {
      const pod = await createPod(NS);
      assert.deepEqual(envOf(pod), {});
    } finally {
      gate = undefined;
      release();
    }
    assert.equal(envOf(await createPod(NS)).AKASH_LEASED_IP_WEB, address());
  });

  it('certificate and CA rotation keep admission working', async () => {
    const step = unwrap(await webhook.rotate('ca'));
    assert.deepEqual(step, { bundle: true, certificate: false });
    // The new CA is in the bundle; the old one still signs.
    assert.equal(envOf(await createPod(NS)).AKASH_LEASED_IP_WEB, address());
    await eventually('the new CA signs', async () => {
      const next = unwrap(await webhook.rotate());
      return next.certificate ? true : undefined;
    });
    assert.equal(envOf(await admitted()).AKASH_LEASED_IP_WEB, address());
    assert.equal(envOf(await createPod(NS)).AKASH_LEASED_IP_WEB, address());
    unwrap(await webhook.rotate('certificate'));
    assert.equal(envOf(await createPod(NS)).AKASH_LEASED_IP_WEB, address());
  });

  it("after a migration, the destination's new pods get the address and the source's are reported stale", async () => {
    const moved = address();
    const before = await createPod(NEIGHBOUR_NS);
    assert.deepEqual(envOf(before), {});
    unwrap(
      await engine.migrate({
        owner: TENANT,
        destination: { dseq: NEIGHBOUR.dseq, gseq: 1 },
        endpoints: ['web'],
      }),
    );
    const destination = await createPod(NEIGHBOUR_NS);
    assert.deepEqual(envOf(destination), { AKASH_LEASED_IP_WEB: moved, AKASH_LEASED_IPS: `web=${moved}` });
    assert.deepEqual(envOf(await createPod(NS)), {});
    const source = unwrap(await checkLeasePods(client, NS, engineLookup(engine).lookup));
    assert.equal(source.current, false);
    const stale = source.pods.filter((pod) => pod.state === 'stale');
    assert.ok(stale.length > 0);
    assert.ok(stale.every((pod) => pod.differing.includes('AKASH_LEASED_IP_WEB')));
    assert.equal(source.pods.filter((pod) => pod.state !== 'stale').length, 0);
    const target = unwrap(await checkLeasePods(client, NEIGHBOUR_NS, engineLookup(engine).lookup));
    assert.deepEqual(
      target.pods.map((pod) => [pod.pod, pod.state]),
      [
        [before.metadata.name, 'missing'],
        [destination.metadata.name, 'current'],
      ].sort(),
    );
  });

  it('the apiserver accepts the in-cluster (Service) form; a configuration that is not ours is left alone', async () => {
    const inCluster = {
      provider: PROVIDER,
      name: 'akash-ip-in-cluster',
      endpoint: { service: { namespace: 'akash-services', name: 'akash-ip-operator', port: 8443 } },
      caBundle: 'unused',
    };
    const path = `${CONFIGURATION_PATH}/akash-ip-in-cluster`;
    // A foreign namesake first: never overwritten.
    await send('POST', CONFIGURATION_PATH, { metadata: { name: 'akash-ip-in-cluster' }, webhooks: [] });
    const refused = await applyWebhookConfiguration(client, inCluster);
    assert.equal(refused.ok ? undefined : refused.error.code, 'K8S_REJECTED');
    unwrap(await gateway.request({ method: 'DELETE', path }));
    unwrap(await applyWebhookConfiguration(client, inCluster));
    const stored = (await send('GET', path)) as { webhooks: { clientConfig: { service: unknown } }[] };
    assert.deepEqual(stored.webhooks[0]?.clientConfig.service, {
      namespace: 'akash-services',
      name: 'akash-ip-operator',
      port: 8443,
      path: '/mutate',
    });
    // Gone again before the next pod: no Service answers in this cluster.
    unwrap(await gateway.request({ method: 'DELETE', path }));
  });

  it('the webhook down does not block pod creation', async () => {
    await webhook.close();
    const pod = await createPod(NS);
    assert.deepEqual(envOf(pod), {});
  });
});
