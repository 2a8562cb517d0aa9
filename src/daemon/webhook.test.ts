import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { appError, fail, ok } from '../errors/index.js';
import { FakeKubeGateway } from '../k8s/index.js';
import { createLeaseEngine } from '../lease/index.js';
import { leaseOf, PROVIDER } from '../lease/testing.js';
import { createMemoryStore } from '../store/index.js';
import { CONFIGURATION_PATH } from '../webhook/index.js';
import { memoryLogger } from './logger.js';
import { unwrap } from './testing.js';
import { confirmedPorts, daemonWebhook } from './webhook.js';

describe('the daemon webhook', () => {
  it('serves at the configured URL, the bound port put in, on the connection it opens', async () => {
    const gateway = new FakeKubeGateway();
    const engine = unwrap(
      await createLeaseEngine({ store: createMemoryStore(), provider: PROVIDER, pools: [] }),
    );
    const webhook = daemonWebhook({
      settings: {
        listen: { host: '127.0.0.1', port: 0 },
        url: 'https://127.0.0.1:{port}/mutate',
        ipAddresses: ['127.0.0.1'],
        dnsNames: [],
        timeoutSeconds: 5,
        rollOnFirstAddress: false,
      },
      connect: () => Promise.resolve(ok(gateway)),
      provider: PROVIDER,
      engine,
      logger: memoryLogger(),
      registry: new Registry(),
    });
    unwrap(await webhook.start());
    try {
      const [configuration] = gateway.objects(CONFIGURATION_PATH) as {
        webhooks: { clientConfig: { url: string }; timeoutSeconds: number }[];
      }[];
      const hook = configuration?.webhooks[0];
      assert.match(hook?.clientConfig.url ?? '', /^https:\/\/127\.0\.0\.1:\d+\/mutate$/);
      assert.doesNotMatch(hook?.clientConfig.url ?? '', /:0\//);
      assert.equal(hook?.timeoutSeconds, 5);
    } finally {
      await webhook.close();
    }
  });

  it("reads MetalLB's confirmation from the cluster's view of the lease: any port confirmed", async () => {
    const id = leaseOf('akash1tenant', 1);
    const of = (ports: boolean[]) =>
      confirmedPorts(() => Promise.resolve(ok({ ports: ports.map((confirmed) => ({ confirmed })) })));
    assert.deepEqual(await of([false, true])(id), ok(true));
    assert.deepEqual(await of([false])(id), ok(false));
    const down = confirmedPorts(() => Promise.resolve(fail(appError('NOT_READY', 'not synced'))));
    assert.equal((await down(id)).ok, false);
  });
});
