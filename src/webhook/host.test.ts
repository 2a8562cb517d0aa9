import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { ok } from '../errors/index.js';
import { FakeKubeGateway, LABEL, leaseLabels, leaseNamespace } from '../k8s/index.js';
import { createLeaseEngine, type LeaseEngine, type LeaseId } from '../lease/index.js';
import { leaseOf, manifestGroup, PROVIDER } from '../lease/testing.js';
import { createMemoryStore } from '../store/index.js';
import { type ConfirmationOf, LeaseWebhook, type WebhookLogger } from './host.js';
import { CONFIGURATION_PATH } from './install.js';
import { ROLLED_ANNOTATION } from './pods.js';
import { unwrap } from './testing.js';

const TENANT = 'akash1tenant';
const WEB = { [LABEL.akash]: 'true', [LABEL.manifestService]: 'web' };

function memoryLogger(): WebhookLogger & { lines: { msg: string; fields: unknown }[] } {
  const lines: { msg: string; fields: unknown }[] = [];
  return { lines, log: (_level, msg, fields = {}) => lines.push({ msg, fields }) };
}

async function engineWithPool(): Promise<LeaseEngine> {
  return unwrap(
    await createLeaseEngine({
      store: createMemoryStore(),
      provider: PROVIDER,
      pools: [{ name: 'pool-a', addresses: ['192.0.2.1-192.0.2.14'] }],
    }),
  );
}

const deployWeb = async (engine: LeaseEngine, id: LeaseId) =>
  unwrap(await engine.deploy(id, manifestGroup('dcloud', { web: [{ port: 80, ip: `ip-${id.dseq}` }] })));

/** A lease namespace holding a Deployment of `web` and one pod of it admitted without variables. */
function tenantNamespace(gateway: FakeKubeGateway, id: LeaseId): string {
  const ns = leaseNamespace(id);
  gateway.add('/api/v1/namespaces', { metadata: { name: ns, labels: leaseLabels(id) } });
  gateway.add(`/apis/apps/v1/namespaces/${ns}/deployments`, {
    metadata: { name: 'web', labels: WEB },
    spec: { template: { metadata: { labels: WEB } } },
  });
  gateway.add(`/api/v1/namespaces/${ns}/pods`, {
    metadata: { name: 'web-early', labels: WEB },
    spec: { containers: [{ name: 'app' }] },
  });
  return ns;
}

function rolled(gateway: FakeKubeGateway, ns: string): boolean {
  const [deployment] = gateway.objects(`/apis/apps/v1/namespaces/${ns}/deployments`);
  const metadata = deployment?.metadata as { annotations?: Record<string, string> } | undefined;
  return metadata?.annotations?.[ROLLED_ANNOTATION] !== undefined;
}

function webhookOver(gateway: FakeKubeGateway, engine: LeaseEngine, rollOnFirstAddress: boolean, port = 0) {
  const logs = memoryLogger();
  const webhook = new LeaseWebhook({
    gateway: () => Promise.resolve(ok(gateway)),
    provider: PROVIDER,
    engine,
    logger: logs,
    registry: new Registry(),
    rollOnFirstAddress,
    serve: {
      listen: { host: '127.0.0.1', port },
      endpoint: { url: 'https://127.0.0.1:{port}/mutate' },
      certificates: { ipAddresses: ['127.0.0.1'] },
      timeoutSeconds: 3,
    },
  });
  return { webhook, logs };
}

describe('the webhook host (daemon and operator)', () => {
  it("rolls a lease once its first address is confirmed, never one addressed before the start, nor an update's", async () => {
    const engine = await engineWithPool();
    const gateway = new FakeKubeGateway();
    const before = leaseOf(TENANT, 1);
    const fresh = leaseOf(TENANT, 2);
    await deployWeb(engine, before);
    const beforeNs = tenantNamespace(gateway, before);
    const freshNs = tenantNamespace(gateway, fresh);
    const { webhook, logs } = webhookOver(gateway, engine, true);
    unwrap(await webhook.start());
    try {
      assert.equal(webhook.serving, true);
      assert.equal(gateway.objects(CONFIGURATION_PATH).length, 1);
      await deployWeb(engine, fresh);
      // An update of the lease addressed before the start commits too: it is not its first address.
      await deployWeb(engine, before);
      webhook.committed([fresh, before]);

      let confirmed = false;
      const asked: string[] = [];
      const status: ConfirmationOf = (id) => {
        asked.push(id.dseq);
        return Promise.resolve(ok(confirmed));
      };
      await webhook.tick(status);
      assert.deepEqual(asked, ['2']);
      assert.equal(rolled(gateway, freshNs), false, 'rolled before MetalLB confirmed');

      confirmed = true;
      await webhook.tick(status);
      assert.equal(rolled(gateway, freshNs), true);
      assert.equal(rolled(gateway, beforeNs), false);
      assert.deepEqual(
        logs.lines
          .filter((line) => line.msg === 'workloads rolled for their first leased address')
          .map((l) => l.fields),
        [{ lease: `${TENANT}/2/1/1/${PROVIDER}`, rolled: ['deployments/web'], alreadyRolled: [] }],
      );
      await webhook.tick(status);
      assert.deepEqual(asked, ['2', '2'], 'a rolled lease is not looked at again');

      const report = unwrap(await webhook.pods(fresh));
      assert.deepEqual(
        report.pods.map((pod) => [pod.pod, pod.state]),
        [['web-early', 'missing']],
      );
    } finally {
      await webhook.close();
    }
  });

  it('without the opt-in, a first address rolls nothing and asks the cluster nothing', async () => {
    const engine = await engineWithPool();
    const gateway = new FakeKubeGateway();
    const id = leaseOf(TENANT, 3);
    const ns = tenantNamespace(gateway, id);
    const { webhook } = webhookOver(gateway, engine, false);
    unwrap(await webhook.start());
    try {
      await deployWeb(engine, id);
      webhook.committed([id]);
      await webhook.tick(() => assert.fail('the cluster was asked for a confirmation'));
      assert.equal(rolled(gateway, ns), false);
      assert.equal(gateway.count({ path: '/apis/apps/v1' }), 0);
    } finally {
      await webhook.close();
    }
  });

  it('a start that cannot listen is logged and tried again on the tick; pods are NOT_READY until connected', async () => {
    const engine = await engineWithPool();
    const gateway = new FakeKubeGateway();
    const taken = createServer();
    await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
    const address = taken.address();
    assert.ok(typeof address === 'object' && address !== null);
    const { webhook, logs } = webhookOver(gateway, engine, false, address.port);
    try {
      const early = await webhook.pods(leaseOf(TENANT, 4));
      assert.equal(early.ok ? '' : early.error.code, 'NOT_READY');
      const refused = await webhook.start();
      assert.equal(refused.ok, false);
      assert.equal(refused.ok ? '' : refused.error.code, 'UNAVAILABLE');
      assert.equal(webhook.serving, false);
      assert.equal(logs.lines.at(-1)?.msg, 'admission webhook not started; tried again on the next tick');
      await new Promise<void>((done) => taken.close(() => done()));
      await webhook.tick(() => assert.fail('nothing awaits a confirmation'));
      assert.equal(webhook.serving, true);
      assert.equal(unwrap(await webhook.pods(leaseOf(TENANT, 4))).current, true);
    } finally {
      await webhook.close();
    }
  });
});
