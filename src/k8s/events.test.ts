import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { until } from '../testing/wait.js';
import { ServiceWarnings } from './events.js';
import { FakeKubeGateway } from './fake-gateway.js';

const EVENTS = '/api/v1/namespaces/tenant/events';

function cluster(): FakeKubeGateway {
  const fake = new FakeKubeGateway();
  fake.add('/api/v1/namespaces', { metadata: { name: 'tenant' } });
  return fake;
}

function warning(name: string, service: string, reason: string, at: string, uid?: string) {
  return {
    metadata: { name, namespace: 'tenant' },
    involvedObject: {
      kind: 'Service',
      name: service,
      namespace: 'tenant',
      ...(uid === undefined ? {} : { uid }),
    },
    type: 'Warning',
    source: { component: 'metallb-controller' },
    reason,
    message: `${reason} on ${service}`,
    lastTimestamp: at,
  };
}

/** Waits until the watcher has seen everything the fake holds (a bookmark carries its version). */
async function caughtUp(fake: FakeKubeGateway, warnings: ServiceWarnings): Promise<void> {
  const version = BigInt(fake.resourceVersion());
  let turns = 0;
  await until(() => {
    if (turns++ % 20 === 0) fake.bookmark();
    return BigInt(warnings.stats().resourceVersion ?? '0') >= version;
  }, `the watch to reach resourceVersion ${version}`);
}

/** A started ServiceWarnings that has read everything the fake holds. */
async function watching(fake: FakeKubeGateway): Promise<ServiceWarnings> {
  const warnings = new ServiceWarnings({ gateway: fake });
  warnings.start();
  await caughtUp(fake, warnings);
  return warnings;
}

describe('ServiceWarnings', () => {
  it("keeps every Service's newest Warning from one list + watch, the notices and Normal events left out", async () => {
    const fake = cluster();
    fake.add(EVENTS, warning('a.1', 'web-ip-80-tcp', 'AllocationFailed', '2026-01-02T03:04:05Z'));
    fake.add(EVENTS, warning('a.2', 'web-ip-80-tcp', 'deprecatedAnnotation', '2026-01-02T03:04:06Z'));
    const warnings = await watching(fake);
    assert.equal(
      warnings.latest('tenant/web-ip-80-tcp'),
      'AllocationFailed: AllocationFailed on web-ip-80-tcp',
    );
    assert.equal(warnings.latest('tenant/db-ip-5432-tcp'), undefined);

    fake.add(EVENTS, warning('b.1', 'db-ip-5432-tcp', 'AllocationFailed', '2026-01-02T03:04:07Z'));
    fake.add(EVENTS, warning('a.3', 'web-ip-80-tcp', 'IPConflict', '2026-01-02T03:04:08Z'));
    fake.add(EVENTS, {
      ...warning('a.4', 'web-ip-80-tcp', 'Scheduled', '2026-01-02T03:04:09Z'),
      type: 'Normal',
    });
    await caughtUp(fake, warnings);
    assert.equal(warnings.latest('tenant/web-ip-80-tcp'), 'IPConflict: IPConflict on web-ip-80-tcp');
    assert.equal(
      warnings.latest('tenant/db-ip-5432-tcp'),
      'AllocationFailed: AllocationFailed on db-ip-5432-tcp',
    );

    // An Event gone (expired, deleted) is no longer a reason: the one before it is again.
    fake.remove(`${EVENTS}/a.3`);
    await caughtUp(fake, warnings);
    assert.equal(
      warnings.latest('tenant/web-ip-80-tcp'),
      'AllocationFailed: AllocationFailed on web-ip-80-tcp',
    );
    const reads = fake.requests.map((req) => [req.method, req.query.fieldSelector]);
    assert.deepEqual(reads, [
      [
        'GET',
        'involvedObject.kind=Service,type=Warning,source=metallb-controller,reason!=deprecatedAnnotation',
      ],
      [
        'WATCH',
        'involvedObject.kind=Service,type=Warning,source=metallb-controller,reason!=deprecatedAnnotation',
      ],
    ]);
    await warnings.stop();
  });

  it("reads MetalLB's Warnings only: the apiserver's ClusterIP repair notice on a new Service is no reason", async () => {
    const fake = cluster();
    fake.add(EVENTS, warning('a.1', 'web-ip-80-tcp', 'AllocationFailed', '2026-01-02T03:04:05Z'));
    fake.add(EVENTS, {
      ...warning('a.2', 'web-ip-80-tcp', 'ClusterIPNotAllocated', '2026-01-02T03:04:06Z'),
      source: { component: 'ipallocator-repair-controller' },
    });
    // MetalLB writing through events.k8s.io: the component is in reportingController, source left empty
    fake.add(EVENTS, {
      ...warning('b.1', 'db-ip-5432-tcp', 'AllocationFailed', '2026-01-02T03:04:07Z'),
      source: {},
      reportingController: 'metallb-controller',
    });
    const warnings = await watching(fake);
    assert.equal(
      warnings.latest('tenant/web-ip-80-tcp'),
      'AllocationFailed: AllocationFailed on web-ip-80-tcp',
    );
    assert.equal(
      warnings.latest('tenant/db-ip-5432-tcp'),
      'AllocationFailed: AllocationFailed on db-ip-5432-tcp',
    );
    await warnings.stop();
  });

  it('given the Service uid, ignores Warnings about an earlier Service of the same name', async () => {
    const fake = cluster();
    fake.add(EVENTS, warning('a.1', 'web-ip-80-tcp', 'AllocationFailed', '2026-01-02T03:04:05Z', 'old-uid'));
    fake.add(EVENTS, warning('a.2', 'web-ip-80-tcp', 'IPConflict', '2026-01-02T03:04:04Z', 'new-uid'));
    const warnings = await watching(fake);
    assert.equal(
      warnings.latest('tenant/web-ip-80-tcp', 'new-uid'),
      'IPConflict: IPConflict on web-ip-80-tcp',
    );
    assert.equal(warnings.latest('tenant/web-ip-80-tcp', 'other-uid'), undefined);
    assert.equal(
      warnings.latest('tenant/web-ip-80-tcp'),
      'AllocationFailed: AllocationFailed on web-ip-80-tcp',
      'without a uid, the newest of all',
    );
    await warnings.stop();
  });
});
