import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { memoryLogger } from '../daemon/index.js';
import { FakeKubeGateway, LABEL, leaseLabels, leaseNamespace, sharingKey } from '../k8s/index.js';
import { leaseKey } from '../lease/index.js';
import { CONFIGURATION_PATH, type LeasePodsReport, ROLLED_ANNOTATION } from '../webhook/index.js';
import { patchOf, podReview, post } from '../webhook/testing.js';
import { parseOperatorConfig } from './config.js';
import { LEASED_IPS, POOLS, until, untilValue } from './harness.js';
import { runOperator } from './run.js';
import { ALICE, goLeasedIp, leaseOf, metallbAssign, metallbPool, PROVIDER } from './testing.js';

const web = { endpoint: 'web', service: 'web', port: 8080, externalPort: 80 } as const;

function fakeCluster(): FakeKubeGateway {
  const fake = new FakeKubeGateway();
  for (const name of ['lease', 'metallb-system']) fake.add('/api/v1/namespaces', { metadata: { name } });
  fake.add(POOLS, metallbPool('default', ['192.0.2.0/29']));
  return fake;
}

/** The operator's flags on loopback with an injected gateway (no kubeconfig is read), parsed as the CLI parses them. */
function configOf(flags: Readonly<Record<string, string>>) {
  const config = parseOperatorConfig(
    { provider: PROVIDER, restAddress: '127.0.0.1', restPort: '0', ...flags },
    { AP_KUBECONFIG: '/unused: the gateway is injected' },
  );
  if (!config.ok) assert.fail(config.error.message);
  return config.value;
}

/** Starts the operator with the webhook served at a loopback URL, on `fake`. */
async function runWithWebhook(fake: FakeKubeGateway, flags: Readonly<Record<string, string>> = {}) {
  const config = configOf({ webhookPort: '0', webhookUrl: 'https://127.0.0.1:{port}/mutate', ...flags });
  const running = await runOperator(config, { logger: memoryLogger(), gateway: fake });
  if (!running.ok) assert.fail(running.error.message);
  return running.value;
}

describe('runOperator', () => {
  it('serves the API on its port, leases from the cluster, and restarts from its SQLite state with zero writes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'operator-'));
    const config = configOf({ state: join(dir, 'state.db') });
    const fake = fakeCluster();
    const lease = leaseOf(ALICE, 5);
    fake.add('/api/v1/namespaces', {
      metadata: { name: leaseNamespace(lease) },
    });
    fake.add(LEASED_IPS, goLeasedIp(lease, web));

    const first = await runOperator(config, { logger: memoryLogger(), gateway: fake });
    if (!first.ok) assert.fail(first.error.message);
    await first.value.operator.synced();
    await until(() => metallbAssign(fake) > 0, 'a Service to confirm');
    const status = async (url: string) => {
      const answer = await fetch(`${url}/ip-lease-status/${ALICE}/5/1/1`);
      return answer.status === 200 ? ((await answer.json()) as { IP: string }[]) : undefined;
    };
    const entries = await untilValue(() => status(first.value.url), 'the port confirmed');
    assert.equal(entries.length, 1);
    assert.equal(await (await fetch(`${first.value.url}/health`)).text(), 'OK');
    const metrics = await (await fetch(`${first.value.url}/metrics`)).text();
    assert.match(metrics, /akash_ip_operator_synced 1/);
    await first.value.stop();

    fake.resetCounts();
    const second = await runOperator(config, { logger: memoryLogger(), gateway: fake });
    if (!second.ok) assert.fail(second.error.message);
    await second.value.operator.synced();
    await second.value.operator.idle();
    assert.deepEqual(await status(second.value.url), entries);
    assert.equal(fake.writes(), 0);
    await second.value.stop();
  });

  it('--ip-family dual on IPv4-only pools: resolves `refused` with NO_IP_SUPPORT and never opens /health', async () => {
    const running = await runOperator(configOf({ ipFamily: 'dual' }), {
      logger: memoryLogger(),
      gateway: fakeCluster(),
    });
    if (!running.ok) assert.fail(running.error.message);
    const refused = await running.value.refused;
    assert.equal(refused.code, 'NO_IP_SUPPORT');
    assert.match(refused.message, /--ip-family dual needs a pool holding both IPv4 and IPv6/);
    assert.equal((await fetch(`${running.value.url}/health`)).status, 503);
    await running.value.stop();
  });

  it('with --webhook-port, injects the variables (a hashed name by its hash), reports the early pod and rolls once, opted in', async () => {
    const fake = fakeCluster();
    const running = {
      value: await runWithWebhook(fake, {
        webhookConfigurationName: 'test-leased-ips',
        rollOnFirstAddress: 'true',
      }),
    };
    try {
      await running.value.operator.synced();
      const [configuration] = await untilValue(async () => {
        const found = fake.objects(CONFIGURATION_PATH) as {
          metadata: { name: string };
          webhooks: { clientConfig: { url: string; caBundle: string } }[];
        }[];
        return found.length > 0 ? found : undefined;
      }, 'the MutatingWebhookConfiguration');
      assert.equal(configuration?.metadata.name, 'test-leased-ips');
      const client = configuration?.webhooks[0]?.clientConfig;
      const port = Number(/:(\d+)\/mutate$/.exec(client?.url ?? '')?.[1]);
      const ca = Buffer.from(client?.caBundle ?? '', 'base64').toString('utf8');

      // The workload first, as the Go provider does: a Deployment and a pod admitted before any address.
      const lease = leaseOf(ALICE, 9);
      const ns = leaseNamespace(lease);
      const labels = { [LABEL.akash]: 'true', [LABEL.manifestService]: 'web' };
      fake.add('/api/v1/namespaces', { metadata: { name: ns, labels: leaseLabels(lease) } });
      fake.add(`/apis/apps/v1/namespaces/${ns}/deployments`, {
        metadata: { name: 'web', labels },
        spec: { template: { metadata: { labels } } },
      });
      fake.add(`/api/v1/namespaces/${ns}/pods`, {
        metadata: { name: 'web-early', labels },
        spec: { containers: [{ name: 'app' }] },
      });
      fake.add(LEASED_IPS, goLeasedIp(lease, web));
      const hashed = { endpoint: 'me_you', service: 'web', port: 9000, externalPort: 9000 } as const;
      fake.add(LEASED_IPS, goLeasedIp(lease, hashed));
      const hash = sharingKey(ALICE, 'me_you').slice(`${ALICE}-ip-`.length);

      const rolled = () => {
        const [deployment] = fake.objects(`/apis/apps/v1/namespaces/${ns}/deployments`);
        const metadata = deployment?.metadata as { annotations?: Record<string, string> } | undefined;
        return metadata?.annotations?.[ROLLED_ANNOTATION] !== undefined;
      };
      await until(() => running.value.operator.state().length === 1, 'the lease deployed');
      assert.equal(rolled(), false, 'rolled before MetalLB confirmed');
      await until(() => metallbAssign(fake) > 0, 'the Services to confirm');
      await until(rolled, 'the Deployment rolled');

      const answer = await post(port, ca, JSON.stringify(podReview(ns, { labels })));
      const env = (patchOf(answer.body) ?? []).flatMap((op) => {
        const value = (op as { value?: unknown }).value;
        return Array.isArray(value)
          ? (value as { name: string; value: string }[])
          : [value as { name: string; value: string }];
      });
      const names = new Map(env.map((entry) => [entry.name, entry.value]));
      const [web4, hashed4] = [
        names.get('AKASH_LEASED_IP_WEB'),
        names.get(`AKASH_LEASED_IP_${hash.toUpperCase()}`),
      ];
      assert.match(web4 ?? '', /^192\.0\.2\.\d+$/);
      assert.match(hashed4 ?? '', /^192\.0\.2\.\d+$/);
      assert.equal(names.get('AKASH_LEASED_IPS'), [`${hash}=${hashed4}`, `web=${web4}`].sort().join(','));

      const state = (await (await fetch(`${running.value.url}/state`)).json()) as {
        ip_env: Record<string, LeasePodsReport>;
      };
      const report = state.ip_env[leaseKey(lease)];
      assert.equal(report?.current, false);
      assert.deepEqual(
        report?.pods.map((pod) => [pod.pod, pod.state]),
        [['web-early', 'missing']],
      );
    } finally {
      await running.value.stop();
    }
  });

  it('--ip-family dual with the webhook: a pod gets the IPv4 address and the IPv6 one under its own name', async () => {
    const fake = new FakeKubeGateway();
    for (const name of ['lease', 'metallb-system']) fake.add('/api/v1/namespaces', { metadata: { name } });
    fake.add(POOLS, metallbPool('default', ['192.0.2.0/29', '2001:db8::/125']));
    const running = { value: await runWithWebhook(fake, { ipFamily: 'dual' }) };
    try {
      await running.value.operator.synced();
      await until(() => running.value.admission()?.webhook.serving === true, 'the webhook serving');
      const [configuration] = fake.objects(CONFIGURATION_PATH) as {
        webhooks: { clientConfig: { url: string; caBundle: string } }[];
      }[];
      const client = configuration?.webhooks[0]?.clientConfig;
      const port = Number(/:(\d+)\/mutate$/.exec(client?.url ?? '')?.[1]);
      const ca = Buffer.from(client?.caBundle ?? '', 'base64').toString('utf8');
      const lease = leaseOf(ALICE, 11);
      const ns = leaseNamespace(lease);
      fake.add('/api/v1/namespaces', { metadata: { name: ns, labels: leaseLabels(lease) } });
      fake.add(LEASED_IPS, goLeasedIp(lease, web));
      await until(() => metallbAssign(fake) > 0, 'the Service to confirm');
      await until(
        () => running.value.operator.confirmedPorts(lease).length === 2,
        'both addresses confirmed',
      );
      const labels = { [LABEL.akash]: 'true', [LABEL.manifestService]: 'web' };
      const answer = await post(port, ca, JSON.stringify(podReview(ns, { labels })));
      const env = (patchOf(answer.body) ?? []).flatMap((op) => {
        const value = (op as { value?: unknown }).value;
        return Array.isArray(value) ? (value as { name: string; value: string }[]) : [];
      });
      const names = new Map(env.map((entry) => [entry.name, entry.value]));
      assert.equal(names.get('AKASH_LEASED_IP_WEB'), '192.0.2.0');
      assert.equal(names.get('AKASH_LEASED_IP6_WEB'), '2001:db8::');
    } finally {
      await running.value.stop();
    }
  });

  it('without --roll-on-first-address, a first address rolls nothing and lists no workload', async () => {
    const fake = fakeCluster();
    const running = { value: await runWithWebhook(fake) };
    try {
      await running.value.operator.synced();
      await until(() => running.value.admission()?.webhook.serving === true, 'the webhook serving');
      const lease = leaseOf(ALICE, 10);
      fake.add('/api/v1/namespaces', {
        metadata: { name: leaseNamespace(lease), labels: leaseLabels(lease) },
      });
      fake.add(LEASED_IPS, goLeasedIp(lease, web));
      await until(() => metallbAssign(fake) > 0, 'the Service to confirm');
      await until(() => running.value.operator.confirmedPorts(lease).length === 1, 'the port confirmed');
      await running.value.operator.idle();
      await running.value.admission()?.idle();
      assert.equal(fake.count({ path: '/apis/apps/v1' }), 0);
    } finally {
      await running.value.stop();
    }
  });

  it('syncs an empty cluster: lists with nothing in them still end in the first pass', async () => {
    const config = configOf({});
    const running = await runOperator(config, {
      logger: memoryLogger(),
      gateway: new FakeKubeGateway(),
    });
    if (!running.ok) assert.fail(running.error.message);
    try {
      await running.value.operator.synced();
      assert.equal((await fetch(`${running.value.url}/health`)).status, 200);
    } finally {
      await running.value.stop();
    }
  });
});
