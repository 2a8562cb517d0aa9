import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeClient } from './client.js';
import { latestWarning } from './events.js';
import { FakeKubeGateway } from './fake-gateway.js';

const EVENTS = '/api/v1/namespaces/tenant/events';

function cluster(): FakeKubeGateway {
  const fake = new FakeKubeGateway();
  fake.add('/api/v1/namespaces', { metadata: { name: 'tenant' } });
  return fake;
}

function warning(name: string, service: string, reason: string, at: string) {
  return {
    metadata: { name, namespace: 'tenant' },
    involvedObject: { kind: 'Service', name: service, namespace: 'tenant' },
    type: 'Warning',
    reason,
    message: `${reason} on ${service}`,
    lastTimestamp: at,
  };
}

describe('latestWarning', () => {
  it("is the Service's newest Warning, MetalLB's deprecated-annotation notice aside", async () => {
    const fake = cluster();
    const client = new KubeClient(fake);
    fake.add(EVENTS, warning('a.1', 'web-ip-80-tcp', 'AllocationFailed', '2026-01-02T03:04:05Z'));
    // MetalLB warns of Go's `metallb.universe.tf/allow-shared-ip` after each attempt: newer, and no reason.
    fake.add(EVENTS, warning('a.2', 'web-ip-80-tcp', 'deprecatedAnnotation', '2026-01-02T03:04:06Z'));
    fake.add(EVENTS, warning('b.1', 'db-ip-5432-tcp', 'AllocationFailed', '2026-01-02T03:04:07Z'));
    fake.add(EVENTS, {
      ...warning('a.0', 'web-ip-80-tcp', 'Scheduled', '2026-01-02T03:04:08Z'),
      type: 'Normal',
    });
    const reason = await latestWarning(client, 'tenant/web-ip-80-tcp');
    assert.deepEqual(reason, { ok: true, value: 'AllocationFailed: AllocationFailed on web-ip-80-tcp' });
  });

  it('is undefined when only the notice was given', async () => {
    const fake = cluster();
    fake.add(EVENTS, warning('a.2', 'web-ip-80-tcp', 'deprecatedAnnotation', '2026-01-02T03:04:06Z'));
    const reason = await latestWarning(new KubeClient(fake), 'tenant/web-ip-80-tcp');
    assert.deepEqual(reason, { ok: true, value: undefined });
  });
});
