import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { memoryLogger } from '../daemon/index.js';
import { FakeKubeGateway, leaseNamespace } from '../k8s/index.js';
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

describe('runOperator', () => {
  it('serves the API on its port, leases from the cluster, and restarts from its SQLite state with zero writes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'operator-'));
    const config = parseOperatorConfig(
      { provider: PROVIDER, restAddress: '127.0.0.1', restPort: '0', state: join(dir, 'state.db') },
      { AP_KUBECONFIG: '/unused: the gateway is injected' },
    );
    if (!config.ok) assert.fail(config.error.message);
    const fake = fakeCluster();
    const lease = leaseOf(ALICE, 5);
    fake.add('/api/v1/namespaces', {
      metadata: { name: leaseNamespace(lease) },
    });
    fake.add(LEASED_IPS, goLeasedIp(lease, web));

    const first = await runOperator(config.value, { logger: memoryLogger(), gateway: fake });
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
    const second = await runOperator(config.value, { logger: memoryLogger(), gateway: fake });
    if (!second.ok) assert.fail(second.error.message);
    await second.value.operator.synced();
    await second.value.operator.idle();
    assert.deepEqual(await status(second.value.url), entries);
    assert.equal(fake.writes(), 0);
    await second.value.stop();
  });
});
