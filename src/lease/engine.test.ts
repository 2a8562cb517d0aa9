import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AppError, Result } from '../errors/index.js';
import type { PoolSpec } from '../ipam/index.js';
import { createMemoryStore } from '../store/index.js';
import {
  createLeaseEngine,
  type LeaseEngine,
  type LeaseEngineOptions,
  type LeaseStore,
  type StoreChange,
} from './index.js';
import { groupSpecOf, groupSpecWithIps, leaseOf, manifestGroup, PROVIDER } from './testing.js';

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) assert.fail(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

function failure<T>(result: Result<T>): AppError {
  if (result.ok) assert.fail(`expected a failure, got ${JSON.stringify(result.value)}`);
  return result.error;
}

/** Counts commits and can be told to refuse the next one. */
class SpyStore implements LeaseStore {
  commits = 0;
  failNext = false;
  constructor(readonly inner: LeaseStore) {}
  load() {
    return this.inner.load();
  }
  async commit(change: StoreChange): Promise<Result<void>> {
    if (this.failNext) {
      this.failNext = false;
      return { ok: false, error: { code: 'UNAVAILABLE', message: 'disk unplugged' } };
    }
    this.commits += 1;
    return this.inner.commit(change);
  }
  queryAudit(query: Parameters<LeaseStore['queryAudit']>[0]) {
    return this.inner.queryAudit(query);
  }
  documents(namespace: string) {
    return this.inner.documents(namespace);
  }
  close() {
    return this.inner.close();
  }
}

const POOL: PoolSpec = { name: 'default', addresses: ['203.0.113.0/28'] };
const ALICE = 'akash1alice';
const BOB = 'akash1bob';

async function setup(overrides: Partial<LeaseEngineOptions> = {}) {
  const clock = { now: 1_000_000 };
  const store = new SpyStore(createMemoryStore());
  const options: LeaseEngineOptions = {
    store,
    provider: PROVIDER,
    pools: [POOL],
    quarantineMs: 60_000,
    now: () => clock.now,
    ...overrides,
  };
  const engine = unwrap(await createLeaseEngine(options));
  const restart = async (): Promise<LeaseEngine> => unwrap(await createLeaseEngine(options));
  return { engine, store, clock, restart };
}

const web = (ports: { port: number; as?: number; proto?: 'TCP' | 'UDP' }[] = [{ port: 3000, as: 80 }]) =>
  manifestGroup('dcloud', { web: ports.map((p) => ({ ...p, ip: 'web' })) });

function ipsOf(engine: LeaseEngine, lease: ReturnType<typeof leaseOf>) {
  return unwrap(engine.status(lease)).ips;
}

describe('deploy', () => {
  it('gives one address per endpoint and binds every port of it on that address', async () => {
    const { engine } = await setup();
    const lease = leaseOf(ALICE, 10);
    const deployed = unwrap(
      await engine.deploy(
        lease,
        web([
          { port: 3000, as: 80 },
          { port: 3443, as: 443 },
        ]),
      ),
    );
    const endpoint = deployed.lease?.endpoints[0];
    assert.equal(endpoint?.state, 'active');
    assert.deepEqual(endpoint?.addresses, ['203.0.113.0']);
    assert.deepEqual(
      deployed.events.map((event) => `${event.action} ${event.address ?? ''} ${event.port ?? ''}`),
      ['allocate 203.0.113.0 ', 'bind 203.0.113.0 80', 'bind 203.0.113.0 443'],
    );
    assert.deepEqual(await engine.check(), []);
    assert.equal(engine.inventory().inUse, 1n);
  });

  it('shares one address between services using one endpoint, and gives each endpoint its own', async () => {
    const { engine } = await setup();
    const lease = leaseOf(ALICE, 10);
    const group = manifestGroup('dcloud', {
      web: [{ port: 80, ip: 'meow' }],
      anotherweb: [{ port: 80, as: 81, ip: 'meow' }],
      db: [{ port: 5432, ip: 'kittens' }],
    });
    unwrap(await engine.deploy(lease, group));
    assert.equal(
      JSON.stringify(ipsOf(engine, lease)),
      JSON.stringify({
        anotherweb: [{ Port: 80, ExternalPort: 81, Protocol: 'TCP', IP: '203.0.113.1' }],
        db: [{ Port: 5432, ExternalPort: 5432, Protocol: 'TCP', IP: '203.0.113.0' }],
        web: [{ Port: 80, ExternalPort: 80, Protocol: 'TCP', IP: '203.0.113.1' }],
      }),
    );
    assert.equal(engine.inventory().inUse, 2n);
  });

  it('binds TCP and UDP on the same port of one address', async () => {
    const { engine } = await setup();
    const lease = leaseOf(ALICE, 10);
    unwrap(
      await engine.deploy(
        lease,
        web([
          { port: 53, proto: 'TCP' },
          { port: 53, proto: 'UDP' },
        ]),
      ),
    );
    assert.deepEqual(ipsOf(engine, lease)?.web, [
      { Port: 53, ExternalPort: 53, Protocol: 'TCP', IP: '203.0.113.0' },
      { Port: 53, ExternalPort: 53, Protocol: 'UDP', IP: '203.0.113.0' },
    ]);
    const updated = unwrap(await engine.deploy(lease, web([{ port: 53, proto: 'TCP' }])));
    assert.deepEqual(
      updated.events.map((event) => `${event.action} ${event.port}/${event.protocol}`),
      ['unbind 53/UDP'],
    );
    assert.deepEqual(await engine.check(), []);
  });

  it('leases IPv6 addresses when the provider is configured for them', async () => {
    const { engine } = await setup({ pools: [{ name: 'v6', addresses: ['2001:db8::/120'] }], family: 'v6' });
    const lease = leaseOf(ALICE, 10);
    unwrap(await engine.deploy(lease, web()));
    assert.equal(ipsOf(engine, lease)?.web?.[0]?.IP, '2001:db8::');
    assert.deepEqual(unwrap(engine.env(lease)), {
      web: { AKASH_LEASED_IP_WEB: '2001:db8::', AKASH_LEASED_IP6_WEB: '2001:db8::' },
    });
    const inventory = engine.inventory();
    assert.deepEqual([inventory.family, inventory.capacity, inventory.inUse], ['v6', 256n, 1n]);
  });

  it('writes nothing when the same manifest is deployed again', async () => {
    const { engine, store } = await setup();
    const lease = leaseOf(ALICE, 10);
    unwrap(await engine.deploy(lease, web()));
    const commits = store.commits;
    const again = unwrap(await engine.deploy(lease, web()));
    assert.equal(store.commits, commits);
    assert.deepEqual(again.events, []);
  });

  it('records nothing for a lease without IP endpoints', async () => {
    const { engine, store } = await setup();
    const lease = leaseOf(ALICE, 10);
    const deployed = unwrap(
      await engine.deploy(lease, manifestGroup('dcloud', { web: [{ port: 80, global: true }] })),
    );
    assert.equal(deployed.lease, undefined);
    assert.equal(store.commits, 0);
    assert.equal(failure(engine.status(lease)).code, 'LEASE_NOT_FOUND');
  });

  it('refuses bad input: another provider, a bad dseq, a port used twice on one endpoint', async () => {
    const { engine } = await setup();
    assert.equal(
      failure(await engine.deploy({ ...leaseOf(ALICE, 1), provider: 'akash1other' }, web())).code,
      'INVALID_INPUT',
    );
    assert.equal(failure(await engine.deploy(leaseOf(ALICE, 'x1'), web())).code, 'INVALID_INPUT');
    const twice = manifestGroup('dcloud', { a: [{ port: 80, ip: 'web' }], b: [{ port: 80, ip: 'web' }] });
    const error = failure(await engine.deploy(leaseOf(ALICE, 1), twice));
    assert.equal(error.code, 'INVALID_INPUT');
    assert.match(error.message, /port 80\/TCP is used by both "a" and "b"/);
  });

  it('checks the manifest against the group spec when given', async () => {
    const { engine } = await setup();
    const group = web();
    unwrap(await engine.deploy(leaseOf(ALICE, 1), group, { groupSpec: groupSpecOf(group) }));
    const error = failure(
      await engine.deploy(leaseOf(ALICE, 2), group, { groupSpec: groupSpecWithIps([1, 2]) }),
    );
    assert.equal(error.code, 'MANIFEST_MISMATCH');
  });

  it('refuses IP endpoints on a provider without pools', async () => {
    const { engine } = await setup({ pools: [] });
    assert.equal(failure(await engine.deploy(leaseOf(ALICE, 1), web())).code, 'NO_IP_SUPPORT');
  });

  it('leaves an endpoint pending with a reason when the pool is empty, and retries it in maintain', async () => {
    const { engine, clock } = await setup({ pools: [{ name: 'default', addresses: ['203.0.113.7/32'] }] });
    const first = leaseOf(ALICE, 1);
    const second = leaseOf(BOB, 2);
    unwrap(await engine.deploy(first, web()));
    unwrap(await engine.deploy(second, web()));
    const status = unwrap(engine.status(second));
    assert.deepEqual(status.ips, {});
    assert.equal(status.ip_endpoints.web?.state, 'pending');
    assert.match(status.ip_endpoints.web?.reason ?? '', /no free address/);
    unwrap(await engine.close(first));
    unwrap(await engine.maintain());
    assert.equal(unwrap(engine.status(second)).ip_endpoints.web?.state, 'pending', 'quarantine holds it');
    clock.now += 60_000;
    const maintained = unwrap(await engine.maintain());
    assert.equal(maintained.retried, 1);
    assert.equal(maintained.pruned, 1);
    assert.deepEqual(ipsOf(engine, second), {
      web: [{ Port: 3000, ExternalPort: 80, Protocol: 'TCP', IP: '203.0.113.7' }],
    });
    assert.deepEqual(await engine.check(), []);
  });
});

describe('update', () => {
  it('keeps the address and binds an added port', async () => {
    const { engine } = await setup();
    const lease = leaseOf(ALICE, 10);
    unwrap(await engine.deploy(lease, web()));
    const updated = unwrap(
      await engine.deploy(
        lease,
        web([
          { port: 3000, as: 80 },
          { port: 3443, as: 443 },
        ]),
      ),
    );
    assert.deepEqual(
      updated.events.map((event) => `${event.action} ${event.port}`),
      ['bind 443'],
    );
    assert.deepEqual(updated.lease?.endpoints[0]?.addresses, ['203.0.113.0']);
  });

  it('unbinds a removed port so it does not stay open (Go F2)', async () => {
    const { engine } = await setup();
    const lease = leaseOf(ALICE, 10);
    unwrap(
      await engine.deploy(
        lease,
        web([
          { port: 3000, as: 80 },
          { port: 3443, as: 443 },
        ]),
      ),
    );
    const updated = unwrap(await engine.deploy(lease, web([{ port: 3000, as: 80 }])));
    assert.deepEqual(
      updated.events.map((event) => `${event.action} ${event.port}`),
      ['unbind 443'],
    );
    assert.deepEqual(await engine.check(), []);
  });

  for (const [what, before, after, expected] of [
    [
      'the external port',
      { port: 3000, as: 80 },
      { port: 3000, as: 8080 },
      ['unbind 80/TCP', 'bind 8080/TCP'],
    ],
    [
      'the protocol',
      { port: 53, proto: 'TCP' },
      { port: 53, proto: 'UDP' },
      ['unbind 53/TCP', 'bind 53/UDP'],
    ],
    ['the target port', { port: 3000, as: 80 }, { port: 4000, as: 80 }, ['unbind 80/TCP', 'bind 80/TCP']],
  ] as const) {
    it(`unbinds and rebinds when ${what} changes (Go F2, F3)`, async () => {
      const { engine } = await setup();
      const lease = leaseOf(ALICE, 10);
      unwrap(await engine.deploy(lease, web([before])));
      const updated = unwrap(await engine.deploy(lease, web([after])));
      assert.deepEqual(
        updated.events.map((event) => `${event.action} ${event.port}/${event.protocol}`),
        expected,
      );
      const entry = ipsOf(engine, lease)?.web?.[0];
      assert.equal(entry?.Port, after.port);
      assert.equal(entry?.IP, '203.0.113.0');
      assert.deepEqual(await engine.check(), []);
    });
  }

  it('moves a port to another service of the same endpoint', async () => {
    const { engine } = await setup();
    const lease = leaseOf(ALICE, 10);
    unwrap(await engine.deploy(lease, manifestGroup('dcloud', { web: [{ port: 80, ip: 'web' }] })));
    unwrap(await engine.deploy(lease, manifestGroup('dcloud', { api: [{ port: 80, ip: 'web' }] })));
    assert.deepEqual(ipsOf(engine, lease), {
      api: [{ Port: 80, ExternalPort: 80, Protocol: 'TCP', IP: '203.0.113.0' }],
    });
  });

  it('releases a removed endpoint into quarantine and keeps the others', async () => {
    const { engine } = await setup();
    const lease = leaseOf(ALICE, 10);
    const both = manifestGroup('dcloud', { web: [{ port: 80, ip: 'web' }], db: [{ port: 5432, ip: 'db' }] });
    unwrap(await engine.deploy(lease, both));
    const updated = unwrap(
      await engine.deploy(lease, manifestGroup('dcloud', { web: [{ port: 80, ip: 'web' }] })),
    );
    assert.deepEqual(
      updated.events.map((event) => `${event.action} ${event.endpoint} ${event.address}`),
      ['release db 203.0.113.0'],
    );
    assert.equal(engine.inventory().quarantined, 1n);
    assert.deepEqual(ipsOf(engine, lease)?.web?.[0]?.IP, '203.0.113.1');
    const readded = unwrap(await engine.deploy(lease, both));
    assert.deepEqual(
      readded.lease?.endpoints.find((endpoint) => endpoint.name === 'db')?.addresses,
      ['203.0.113.0'],
      'the same endpoint reclaims its quarantined address',
    );
    assert.deepEqual(await engine.check(), []);
  });

  it("never touches another tenant's declarations (Go F1)", async () => {
    const { engine } = await setup();
    const alice = leaseOf(ALICE, 10);
    const bob = leaseOf(BOB, 11);
    const both = manifestGroup('dcloud', { web: [{ port: 80, ip: 'web' }], db: [{ port: 5432, ip: 'db' }] });
    unwrap(await engine.deploy(alice, both));
    unwrap(await engine.deploy(bob, both));
    const before = JSON.stringify(engine.status(bob));
    const updated = unwrap(
      await engine.deploy(alice, manifestGroup('dcloud', { web: [{ port: 80, ip: 'web' }] })),
    );
    assert.ok(updated.events.every((event) => event.owner === ALICE));
    assert.equal(JSON.stringify(engine.status(bob)), before);
  });
});

describe('close', () => {
  it('releases everything into quarantine, and is idempotent', async () => {
    const { engine, store } = await setup();
    const lease = leaseOf(ALICE, 10);
    unwrap(await engine.deploy(lease, web()));
    const closed = unwrap(await engine.close(lease));
    assert.deepEqual(closed.released, ['203.0.113.0']);
    assert.equal(closed.alreadyClosed, false);
    assert.equal(engine.inventory().inUse, 0n);
    assert.equal(engine.inventory().quarantined, 1n);
    const commits = store.commits;
    const again = unwrap(await engine.close(lease));
    assert.equal(again.alreadyClosed, true);
    assert.equal(store.commits, commits);
    assert.equal(unwrap(await engine.close(leaseOf(ALICE, 99))).lease, undefined);
    assert.equal(failure(engine.status(lease)).code, 'LEASE_CLOSED');
    assert.equal(failure(await engine.deploy(lease, web())).code, 'LEASE_CLOSED');
    assert.deepEqual(await engine.check(), []);
  });

  it('keeps the address away from other owners during the quarantine', async () => {
    const { engine, clock } = await setup({ pools: [{ name: 'default', addresses: ['203.0.113.7/32'] }] });
    unwrap(await engine.deploy(leaseOf(ALICE, 1), web()));
    unwrap(await engine.close(leaseOf(ALICE, 1)));
    unwrap(await engine.deploy(leaseOf(BOB, 2), web()));
    assert.equal(unwrap(engine.status(leaseOf(BOB, 2))).ip_endpoints.web?.state, 'pending');
    clock.now += 60_001;
    unwrap(await engine.maintain());
    assert.equal(unwrap(engine.status(leaseOf(BOB, 2))).ip_endpoints.web?.state, 'active');
  });
});

describe('endpoint-name collision (Akash support#108)', () => {
  it('withholds the second deployment of an owner with a reason naming the holder', async () => {
    const { engine } = await setup();
    const first = leaseOf(ALICE, 10);
    const second = leaseOf(ALICE, 11);
    unwrap(await engine.deploy(first, web()));
    const deployed = unwrap(await engine.deploy(second, web()));
    assert.equal(deployed.events[0]?.action, 'withhold');
    assert.match(deployed.events[0]?.detail ?? '', /held by deployment 10 \(group 1\)/);
    const status = unwrap(engine.status(second));
    assert.deepEqual(status.ips, {});
    assert.equal(status.ip_endpoints.web?.state, 'withheld');
    assert.deepEqual(status.ip_endpoints.web?.held_by, { dseq: '10', gseq: 1, oseq: 1 });
    assert.match(status.ip_endpoints.web?.reason ?? '', /held by deployment 10/);
  });

  it('lets different owners use the same name', async () => {
    const { engine } = await setup();
    unwrap(await engine.deploy(leaseOf(ALICE, 10), web()));
    unwrap(await engine.deploy(leaseOf(BOB, 11), web()));
    assert.equal(ipsOf(engine, leaseOf(ALICE, 10))?.web?.[0]?.IP, '203.0.113.0');
    assert.equal(ipsOf(engine, leaseOf(BOB, 11))?.web?.[0]?.IP, '203.0.113.1');
  });

  it('hands the name and its address to the waiting deployment when the holder closes', async () => {
    const { engine } = await setup();
    const first = leaseOf(ALICE, 10);
    const second = leaseOf(ALICE, 11);
    unwrap(await engine.deploy(first, web()));
    unwrap(await engine.deploy(second, web([{ port: 8080 }])));
    const closed = unwrap(await engine.close(first));
    assert.deepEqual(
      closed.events.map((event) => `${event.action} ${event.lease.split('/')[1]} ${event.address ?? ''}`),
      ['release 10 203.0.113.0', 'close 10 ', 'allocate 11 203.0.113.0', 'bind 11 203.0.113.0'],
    );
    assert.deepEqual(ipsOf(engine, second), {
      web: [{ Port: 8080, ExternalPort: 8080, Protocol: 'TCP', IP: '203.0.113.0' }],
    });
    assert.equal(engine.inventory().quarantined, 0n);
    assert.deepEqual(await engine.check(), []);
  });
});

describe('migration', () => {
  const both = manifestGroup('dcloud', { web: [{ port: 80, ip: 'web' }], db: [{ port: 5432, ip: 'db' }] });

  async function twoDeployments() {
    const context = await setup();
    const source = leaseOf(ALICE, 10);
    const destination = leaseOf(ALICE, 20);
    unwrap(await context.engine.deploy(source, both));
    unwrap(await context.engine.deploy(destination, both));
    return { ...context, source, destination };
  }

  it('moves only the named endpoints and keeps their address (Go K-S1 moved all)', async () => {
    const { engine, source, destination } = await twoDeployments();
    const webAddress = ipsOf(engine, source)?.web?.[0]?.IP;
    const result = unwrap(
      await engine.migrate({ owner: ALICE, destination: { dseq: '20', gseq: 1 }, endpoints: ['web'] }),
    );
    assert.deepEqual(
      result.moves.map((move) => [move.endpoint, move.from.dseq, move.to.dseq, move.addresses]),
      [['web', '10', '20', [webAddress]]],
    );
    const after = unwrap(engine.status(destination));
    assert.equal(after.ip_endpoints.web?.state, 'active');
    assert.equal(after.ips?.web?.[0]?.IP, webAddress);
    assert.equal(after.ip_endpoints.db?.state, 'withheld');
    const left = unwrap(engine.status(source));
    assert.equal(left.ip_endpoints.web?.state, 'withheld');
    assert.deepEqual(left.ip_endpoints.web?.held_by, { dseq: '20', gseq: 1, oseq: 1 });
    assert.equal(left.ip_endpoints.db?.state, 'active');
    assert.deepEqual(await engine.check(), []);
  });

  it('leaves the address with the destination when the source closes', async () => {
    const { engine, source, destination } = await twoDeployments();
    const webAddress = ipsOf(engine, source)?.web?.[0]?.IP;
    unwrap(await engine.migrate({ owner: ALICE, destination: { dseq: '20', gseq: 1 }, endpoints: ['web'] }));
    const closed = unwrap(await engine.close(source));
    assert.ok(!closed.released.includes(webAddress ?? ''));
    assert.equal(ipsOf(engine, destination)?.web?.[0]?.IP, webAddress);
    assert.equal(unwrap(engine.status(destination)).ip_endpoints.db?.state, 'active', 'db was handed over');
  });

  it('rebinds to the destination ports', async () => {
    const { engine } = await setup();
    unwrap(await engine.deploy(leaseOf(ALICE, 10), web([{ port: 3000, as: 80 }])));
    unwrap(await engine.deploy(leaseOf(ALICE, 20), web([{ port: 3000, as: 8080 }])));
    const result = unwrap(
      await engine.migrate({ owner: ALICE, destination: { dseq: '20', gseq: 1 }, endpoints: ['web'] }),
    );
    assert.deepEqual(result.moves[0]?.unbind, [{ port: 80, protocol: 'TCP' }]);
    assert.deepEqual(result.moves[0]?.bind, [{ port: 8080, protocol: 'TCP' }]);
    assert.deepEqual(
      result.events.map((event) => `${event.action} ${event.port ?? ''}`),
      ['migrate ', 'unbind 80', 'bind 8080'],
    );
    assert.deepEqual(await engine.check(), []);
  });

  it('returns the plan on a dry run and changes nothing', async () => {
    const { engine, store, source } = await twoDeployments();
    const commits = store.commits;
    const before = JSON.stringify(engine.status(source));
    const plan = unwrap(
      await engine.migrate({
        owner: ALICE,
        destination: { dseq: '20', gseq: 1 },
        endpoints: ['web'],
        dryRun: true,
      }),
    );
    assert.equal(plan.dryRun, true);
    assert.equal(plan.moves.length, 1);
    assert.equal(store.commits, commits);
    assert.equal(JSON.stringify(engine.status(source)), before);
    assert.deepEqual(await engine.check(), []);
  });

  it('is all or nothing: a failed write leaves every endpoint where it was', async () => {
    const { engine, store, source, destination } = await twoDeployments();
    const before = [JSON.stringify(engine.status(source)), JSON.stringify(engine.status(destination))];
    store.failNext = true;
    const error = failure(
      await engine.migrate({ owner: ALICE, destination: { dseq: '20', gseq: 1 }, endpoints: ['web', 'db'] }),
    );
    assert.equal(error.code, 'UNAVAILABLE');
    assert.deepEqual(
      [JSON.stringify(engine.status(source)), JSON.stringify(engine.status(destination))],
      before,
    );
    assert.deepEqual(await engine.check(), []);
    unwrap(
      await engine.migrate({ owner: ALICE, destination: { dseq: '20', gseq: 1 }, endpoints: ['web', 'db'] }),
    );
    assert.equal(unwrap(engine.status(destination)).ip_endpoints.db?.state, 'active');
  });

  it('refuses another owner (FORBIDDEN), an inactive destination, an undeclared endpoint and a wrong source', async () => {
    const { engine } = await twoDeployments();
    unwrap(await engine.deploy(leaseOf(BOB, 30), both));
    const request = { owner: ALICE, destination: { dseq: '20', gseq: 1 }, endpoints: ['web'] };
    assert.equal(
      failure(await engine.migrate({ ...request, destination: { dseq: '30', gseq: 1 } })).code,
      'FORBIDDEN',
      "the destination is Bob's",
    );
    assert.equal(
      failure(await engine.migrate({ ...request, source: { dseq: '30' } })).code,
      'FORBIDDEN',
      "the source is Bob's",
    );
    assert.equal(
      failure(await engine.migrate({ ...request, source: { dseq: '20' } })).code,
      'MIGRATION_INVALID',
      'web is held by 10, not 20',
    );
    assert.equal(
      failure(await engine.migrate({ ...request, endpoints: ['api'] })).code,
      'ENDPOINT_NOT_FOUND',
    );
    assert.equal(failure(await engine.migrate({ ...request, endpoints: [] })).code, 'MIGRATION_INVALID');
    assert.equal(
      failure(await engine.migrate({ ...request, destination: { dseq: '21', gseq: 1 } })).code,
      'LEASE_NOT_FOUND',
    );
    unwrap(await engine.close(leaseOf(ALICE, 20)));
    assert.equal(failure(await engine.migrate(request)).code, 'MIGRATION_INVALID', 'closed destination');
    unwrap(await engine.migrate({ ...request, destination: { dseq: '10', gseq: 1 } }));
  });

  it('records every migration in the audit trail', async () => {
    const { engine } = await twoDeployments();
    unwrap(await engine.migrate({ owner: ALICE, destination: { dseq: '20', gseq: 1 }, endpoints: ['web'] }));
    const events = unwrap(await engine.audit({ owner: ALICE })).filter((event) => event.action === 'migrate');
    assert.equal(events.length, 1);
    assert.equal(events[0]?.lease, `${ALICE}/20/1/1/${PROVIDER}`);
    assert.equal(events[0]?.detail, `from ${ALICE}/10/1/1/${PROVIDER}`);
  });
});

describe('bid gate', () => {
  const order = (dseq: number) => ({ owner: ALICE, dseq: String(dseq), gseq: 1, oseq: 1 });

  it('counts distinct LEASED_IP sequence numbers, not ports', async () => {
    const { engine } = await setup();
    const reserved = unwrap(await engine.reserve(order(1), groupSpecWithIps([1, 1, 2, 2, 2])));
    assert.equal(reserved.count, 2);
    assert.equal(engine.inventory().reserved, 2n);
  });

  it('lists the reservations it holds, across a restart', async () => {
    const { engine, clock, restart } = await setup();
    unwrap(await engine.reserve(order(1), groupSpecWithIps([1, 2])));
    clock.now += 5;
    unwrap(await engine.reserve(order(2), groupSpecWithIps([1])));
    unwrap(await engine.unreserve(order(1)));
    const held = [{ id: `${ALICE}/2/1/1`, owner: ALICE, count: 1, family: 'v4', at: 1_000_005 }];
    assert.deepEqual(engine.reservations(), held);
    assert.deepEqual((await restart()).reservations(), held);
  });

  it("matches Go's numbers: pool 10, 4 in use, 2 reserved leave 4; 3 fit, 5 do not", async () => {
    const { engine } = await setup({ pools: [{ name: 'default', addresses: ['203.0.113.0-203.0.113.9'] }] });
    for (let dseq = 1; dseq <= 4; dseq++)
      unwrap(await engine.deploy(leaseOf(`akash1owner${dseq}`, dseq), web()));
    unwrap(await engine.reserve(order(100), groupSpecWithIps([1, 2])));
    const inventory = engine.inventory();
    assert.deepEqual(
      [inventory.capacity, inventory.allocatable, inventory.allocated, inventory.available],
      [10n, 10n, 6n, 4n],
    );
    const error = failure(await engine.reserve(order(101), groupSpecWithIps([1, 2, 3, 4, 5])));
    assert.equal(error.code, 'INSUFFICIENT_IPS');
    assert.equal(error.message, 'insufficient number of IPs: unable to reserve 5');
    unwrap(await engine.reserve(order(102), groupSpecWithIps([1, 2, 3])));
    unwrap(await engine.unreserve(order(102)));
    assert.equal(engine.inventory().available, 4n);
  });

  it('fails with NO_IP_SUPPORT without a pool, and passes orders that need no IP', async () => {
    const { engine } = await setup({ pools: [] });
    assert.equal(failure(await engine.reserve(order(1), groupSpecWithIps([1]))).code, 'NO_IP_SUPPORT');
    assert.equal(unwrap(await engine.reserve(order(1), groupSpecWithIps([]))).count, 0);
  });

  it('is confirmed by the deploy: a multi-port endpoint counts one address, not one per port (Go F7)', async () => {
    const { engine } = await setup();
    const group = web([
      { port: 3000, as: 80 },
      { port: 3443, as: 443 },
    ]);
    unwrap(await engine.reserve(order(1), groupSpecOf(group)));
    assert.equal(engine.inventory().allocated, 1n);
    const deployed = unwrap(await engine.deploy(leaseOf(ALICE, 1), group));
    assert.equal(deployed.events[0]?.action, 'unreserve');
    const inventory = engine.inventory();
    assert.deepEqual([inventory.inUse, inventory.reserved, inventory.allocated], [1n, 0n, 1n]);
    assert.deepEqual(await engine.check(), []);
  });

  it('ends with the order: unreserve is idempotent and close drops a leftover reservation', async () => {
    const { engine } = await setup();
    unwrap(await engine.reserve(order(1), groupSpecWithIps([1])));
    unwrap(await engine.unreserve(order(1)));
    unwrap(await engine.unreserve(order(1)));
    unwrap(await engine.reserve(order(2), groupSpecWithIps([1])));
    unwrap(await engine.close(leaseOf(ALICE, 2)));
    assert.equal(engine.inventory().reserved, 0n);
  });
});

describe('status, environment and audit', () => {
  it("prints ips exactly as Akash's lease-status does", async () => {
    const { engine } = await setup({ pools: [{ name: 'default', addresses: ['203.0.113.7/32'] }] });
    const lease = leaseOf(ALICE, 10);
    unwrap(await engine.deploy(lease, manifestGroup('dcloud', { web: [{ port: 3000, as: 80, ip: 'web' }] })));
    assert.equal(
      JSON.stringify(unwrap(engine.status(lease))),
      '{"ips":{"web":[{"Port":3000,"ExternalPort":80,"Protocol":"TCP","IP":"203.0.113.7"}]},' +
        '"ip_endpoints":{"web":{"state":"active","family":"v4","addresses":["203.0.113.7"],"ipv4":"203.0.113.7"}}}',
    );
  });

  it('gives each service the variables of its active endpoints', async () => {
    const { engine } = await setup();
    const lease = leaseOf(ALICE, 10);
    unwrap(
      await engine.deploy(leaseOf(ALICE, 9), manifestGroup('dcloud', { x: [{ port: 1, ip: 'taken' }] })),
    );
    const group = manifestGroup('dcloud', {
      web: [
        { port: 80, ip: 'meow72-memes' },
        { port: 81, ip: 'meow72_memes' },
      ],
      db: [
        { port: 5432, ip: 'db' },
        { port: 5433, ip: 'taken' },
      ],
    });
    unwrap(await engine.deploy(lease, group));
    assert.deepEqual(unwrap(engine.env(lease)), {
      db: { AKASH_LEASED_IP_DB: '203.0.113.1' },
      web: { AKASH_LEASED_IP_MEOW72_MEMES: '203.0.113.2', AKASH_LEASED_IP_MEOW72_MEMES_2: '203.0.113.3' },
    });
  });

  it('answers audit queries per address and per owner', async () => {
    const { engine } = await setup();
    unwrap(await engine.deploy(leaseOf(ALICE, 1), web()));
    unwrap(await engine.close(leaseOf(ALICE, 1)));
    unwrap(await engine.deploy(leaseOf(BOB, 2), web()));
    const byAddress = unwrap(await engine.audit({ address: '203.0.113.0' }));
    assert.deepEqual(
      byAddress.map((event) => `${event.actor} ${event.action} ${event.owner}`),
      ['provider allocate akash1alice', 'provider bind akash1alice', 'provider release akash1alice'],
    );
    const bob = unwrap(await engine.audit({ owner: BOB }));
    assert.deepEqual(
      bob.map((event) => `${event.action} ${event.address}`),
      ['allocate 203.0.113.1', 'bind 203.0.113.1'],
    );
    assert.ok(bob.every((event) => event.at === 1_000_000 && event.id > 0));
    const tenant = unwrap(await engine.deploy(leaseOf(BOB, 3), web(), { actor: 'tenant:akash1bob' }));
    assert.equal(tenant.events[0]?.actor, 'tenant:akash1bob');
  });
});

describe('durability', () => {
  it('restarts into the same state without writing anything', async () => {
    const { engine, store, restart } = await setup();
    unwrap(await engine.deploy(leaseOf(ALICE, 10), web()));
    unwrap(await engine.deploy(leaseOf(ALICE, 11), web()));
    unwrap(await engine.deploy(leaseOf(BOB, 12), web()));
    unwrap(await engine.close(leaseOf(BOB, 12)));
    unwrap(await engine.reserve({ owner: BOB, dseq: '13', gseq: 1, oseq: 1 }, groupSpecWithIps([1])));
    const commits = store.commits;
    const again = await restart();
    assert.equal(store.commits, commits);
    for (const lease of [leaseOf(ALICE, 10), leaseOf(ALICE, 11)]) {
      assert.deepEqual(again.status(lease), engine.status(lease));
      assert.deepEqual(again.lease(lease), engine.lease(lease));
    }
    assert.deepEqual(again.inventory(), engine.inventory());
    assert.deepEqual(await again.check(), []);
  });

  it('keeps memory in step with the store when a write fails', async () => {
    const { engine, store } = await setup();
    const lease = leaseOf(ALICE, 10);
    unwrap(await engine.deploy(lease, web()));
    const before = [JSON.stringify(engine.status(lease)), engine.inventory()];
    store.failNext = true;
    assert.equal(failure(await engine.close(lease)).code, 'UNAVAILABLE');
    assert.deepEqual([JSON.stringify(engine.status(lease)), engine.inventory()], before);
    assert.deepEqual(await engine.check(), []);
    store.failNext = true;
    assert.equal(failure(await engine.deploy(leaseOf(ALICE, 11), web([{ port: 1 }]))).code, 'UNAVAILABLE');
    assert.equal(engine.lease(leaseOf(ALICE, 11)), undefined);
    unwrap(await engine.close(lease));
    assert.deepEqual(await engine.check(), []);
  });

  it('serialises concurrent mutations', async () => {
    const { engine } = await setup();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, index) => engine.deploy(leaseOf(ALICE, index + 1), web())),
    );
    assert.equal(results.filter((result) => result.ok).length, 8);
    const active = engine.leases({ owner: ALICE }).filter((lease) => lease.endpoints[0]?.state === 'active');
    assert.equal(active.length, 1, 'one holder of the name, the rest withheld');
    assert.deepEqual(await engine.check(), []);
  });
});
