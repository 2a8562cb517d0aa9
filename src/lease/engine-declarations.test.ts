import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Result } from '../errors/index.js';
import { createMemoryStore } from '../store/index.js';
import { createLeaseEngine, type DeclarationInput } from './index.js';
import { leaseOf, PROVIDER } from './testing.js';

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) assert.fail(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

const ALICE = 'akash1alice';

async function setup(pools = [{ name: 'default', addresses: ['203.0.113.0/30'] }]) {
  const clock = { now: 1_000_000 };
  const engine = unwrap(
    await createLeaseEngine({
      store: createMemoryStore(),
      provider: PROVIDER,
      pools,
      quarantineMs: 60_000,
      now: () => clock.now,
    }),
  );
  return { engine, clock };
}

const port = (
  endpoint: string,
  externalPort: number,
  protocol = 'TCP',
  service = 'web',
): DeclarationInput => ({
  endpoint,
  service,
  port: 8000 + externalPort,
  externalPort,
  protocol,
});

describe('deployDeclarations', () => {
  it('deploys declarations with no manifest, in canonical order, under the group named', async () => {
    const { engine } = await setup();
    const lease = leaseOf(ALICE, 1);
    const deployed = unwrap(
      await engine.deployDeclarations(lease, [port('web', 443), port('web', 80, 'UDP'), port('web', 80)], {
        group: 'operator',
      }),
    );
    assert.equal(deployed.lease?.group, 'operator');
    assert.deepEqual(
      deployed.lease?.declarations.map((d) => `${d.externalPort}/${d.protocol}`),
      ['80/TCP', '80/UDP', '443/TCP'],
    );
    assert.equal(deployed.lease?.endpoints[0]?.state, 'active');
  });

  it('checks declarations as a manifest would be checked', async () => {
    const { engine } = await setup();
    const lease = leaseOf(ALICE, 1);
    const twice = await engine.deployDeclarations(lease, [port('web', 80), port('web', 80, 'TCP', 'api')]);
    assert.equal(twice.ok, false);
    assert.match(twice.ok ? '' : twice.error.message, /port 80\/TCP is used by both "web" and "api"/);
    const badName = await engine.deployDeclarations(lease, [port('Web', 80)]);
    assert.equal(badName.ok ? '' : badName.error.code, 'INVALID_INPUT');
    const badProtocol = await engine.deployDeclarations(lease, [port('web', 80, 'SCTP')]);
    assert.match(badProtocol.ok ? '' : badProtocol.error.message, /protocol SCTP/);
    assert.equal(engine.lease(lease), undefined);
  });
});

describe('deploy pins', () => {
  it('adopts the pinned address for a new endpoint and falls back to any address when it cannot be had', async () => {
    const { engine } = await setup();
    const pinned = unwrap(
      await engine.deployDeclarations(leaseOf(ALICE, 1), [port('web', 80)], {
        pins: { web: ['203.0.113.2'] },
      }),
    );
    assert.deepEqual(pinned.lease?.endpoints[0]?.addresses, ['203.0.113.2']);
    const taken = unwrap(
      await engine.deployDeclarations(leaseOf('akash1bob', 2), [port('api', 80)], {
        pins: { api: ['203.0.113.2'] },
      }),
    );
    const other = taken.lease?.endpoints[0]?.addresses ?? [];
    assert.equal(other.length, 1);
    assert.notEqual(other[0], '203.0.113.2');
    const outside = unwrap(
      await engine.deployDeclarations(leaseOf('akash1carol', 3), [port('db', 80)], {
        pins: { db: ['198.51.100.9'] },
      }),
    );
    assert.equal(outside.lease?.endpoints[0]?.state, 'active');
  });

  it('leaves an endpoint that already holds an address where it is', async () => {
    const { engine } = await setup();
    const lease = leaseOf(ALICE, 1);
    const first = unwrap(await engine.deployDeclarations(lease, [port('web', 80)]));
    const held = first.lease?.endpoints[0]?.addresses[0];
    const again = unwrap(
      await engine.deployDeclarations(lease, [port('web', 80), port('web', 443)], {
        pins: { web: ['203.0.113.3'] },
      }),
    );
    assert.deepEqual(again.lease?.endpoints[0]?.addresses, [held]);
  });
});

describe('setPools', () => {
  it('grows, shrinks and reports orphans, keeping every held address', async () => {
    const { engine } = await setup([{ name: 'default', addresses: ['203.0.113.0/31'] }]);
    const a = unwrap(await engine.deployDeclarations(leaseOf(ALICE, 1), [port('alpha', 80)]));
    const b = unwrap(await engine.deployDeclarations(leaseOf(ALICE, 2), [port('beta', 80)]));
    const c = unwrap(await engine.deployDeclarations(leaseOf(ALICE, 3), [port('gamma', 80)]));
    assert.equal(c.lease?.endpoints[0]?.state, 'pending');
    assert.equal(engine.inventory().capacity, 2n);

    const grown = unwrap(
      await engine.setPools([{ name: 'default', addresses: ['203.0.113.0/31', '198.51.100.0/31'] }]),
    );
    assert.deepEqual(grown.orphaned, []);
    assert.equal(engine.inventory().capacity, 4n);
    unwrap(await engine.maintain());
    assert.equal(engine.lease(leaseOf(ALICE, 3))?.endpoints[0]?.state, 'active');

    const held = new Set([a, b].map((r) => r.lease?.endpoints[0]?.addresses[0]));
    const shrunk = unwrap(await engine.setPools([{ name: 'default', addresses: ['198.51.100.0/31'] }]));
    assert.deepEqual(new Set(shrunk.orphaned.flatMap((o) => o.addresses)), held);
    assert.deepEqual(
      shrunk.orphaned.map((o) => o.endpoint).sort(),
      ['alpha', 'beta'],
      'orphans are named by lease endpoint',
    );
    assert.deepEqual(engine.lease(leaseOf(ALICE, 1))?.endpoints[0]?.addresses, [...held].slice(0, 1));
    assert.equal(engine.capacities().find((entry) => entry.family === 'v4')?.capacity, 2n);
    assert.deepEqual(await engine.check(), []);
  });

  it('turns a provider with no pool into one that leases, and refuses a bad pool without changing anything', async () => {
    const { engine } = await setup([]);
    const refused = await engine.deployDeclarations(leaseOf(ALICE, 1), [port('web', 80)]);
    assert.equal(refused.ok ? '' : refused.error.code, 'NO_IP_SUPPORT');
    const bad = await engine.setPools([{ name: 'x', addresses: ['not-an-address'] }]);
    assert.equal(bad.ok, false);
    unwrap(await engine.setPools([{ name: 'default', addresses: ['203.0.113.0/30'] }]));
    const deployed = unwrap(await engine.deployDeclarations(leaseOf(ALICE, 1), [port('web', 80)]));
    assert.equal(deployed.lease?.endpoints[0]?.state, 'active');
  });
});

describe('migration by overwrite', () => {
  it('moves an endpoint named by a new lease with its address; ports left on the old lease are withheld there', async () => {
    const { engine } = await setup();
    const from = leaseOf(ALICE, 1);
    const to = leaseOf(ALICE, 2);
    const first = unwrap(await engine.deployDeclarations(from, [port('web', 80), port('web', 443)]));
    const address = first.lease?.endpoints[0]?.addresses[0];
    const withheld = unwrap(await engine.deployDeclarations(to, [port('web', 80)]));
    assert.equal(withheld.lease?.endpoints[0]?.state, 'withheld');
    unwrap(
      await engine.migrate({
        owner: ALICE,
        destination: { dseq: to.dseq, gseq: to.gseq },
        endpoints: ['web'],
        source: { dseq: from.dseq },
      }),
    );
    assert.deepEqual(engine.lease(to)?.endpoints[0]?.addresses, [address]);
    const left = unwrap(await engine.deployDeclarations(from, [port('web', 443)]));
    assert.equal(left.lease?.endpoints[0]?.state, 'withheld');
    assert.deepEqual(await engine.check(), []);
  });
});

describe('reopen', () => {
  it('deploys a closed lease again only when asked, and its endpoint reclaims its quarantined address', async () => {
    const { engine } = await setup();
    const lease = leaseOf(ALICE, 1);
    const first = unwrap(await engine.deployDeclarations(lease, [port('web', 80)]));
    unwrap(await engine.close(lease));
    const refused = await engine.deployDeclarations(lease, [port('web', 80)]);
    assert.equal(refused.ok ? '' : refused.error.code, 'LEASE_CLOSED');
    const reopened = unwrap(await engine.deployDeclarations(lease, [port('web', 80)], { reopen: true }));
    assert.equal(reopened.lease?.state, 'active');
    assert.equal(reopened.lease?.closedAt, undefined);
    assert.equal(reopened.lease?.createdAt, first.lease?.createdAt);
    assert.deepEqual(reopened.lease?.endpoints[0]?.addresses, first.lease?.endpoints[0]?.addresses);
    assert.equal(engine.inventory().quarantined, 0n);
  });
});
