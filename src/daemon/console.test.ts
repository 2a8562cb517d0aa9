import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterSummary } from './cluster-sync.js';
import { daemonProviderSource } from './console.js';
import { Readiness } from './readiness.js';
import { account, bidOn, createHarness, tokenOf, unwrap } from './testing.js';

const alice = account(0xa11ce);

describe("the daemon's console source", () => {
  it('shows its own pools, holders, audit and bid decisions from the engine', async () => {
    const h = await createHarness({ pools: ['198.51.100.0/30'] });
    try {
      h.fund(alice);
      const source = daemonProviderSource({
        provider: h.provider.address,
        url: 'https://127.0.0.1:8443',
        readiness: h.readiness,
        service: () => h.service,
        cluster: () => undefined,
        decisions: () => h.sync.bids.recentDecisions(),
      });
      unwrap(await h.sync.register());
      const bid = await bidOn(h, alice, 'edge');
      const [provider] = unwrap(await source.providers());
      assert.deepEqual(provider, {
        address: h.provider.address,
        label: h.provider.address,
        url: 'https://127.0.0.1:8443',
        pools: [
          {
            name: 'default',
            family: 'v4',
            capacity: '4',
            allocated: '0',
            reserved: '1',
            quarantined: '0',
            available: '3',
          },
        ],
      });
      const [decision] = unwrap(await source.decisions(h.provider.address));
      assert.equal(decision?.order, `${bid.dseq}/1/1`);
      assert.equal(decision?.outcome, 'bid');
      assert.match(decision?.price?.perBlock ?? '', /uakt\/block$/);

      // the lease won and its manifest sent: the address is allocated, and the audit trail says to whom
      unwrap(h.ledger.createLease(bid.lease));
      const sent = await h.request('PUT', `/deployment/${bid.dseq}/manifest`, {
        token: tokenOf(alice, h.clock.now),
        body: bid.sdl.manifest,
      });
      assert.equal(sent.status, 200, await sent.text());
      const [filled] = unwrap(await source.providers());
      assert.equal(filled?.pools[0]?.allocated, '1');
      const audit = unwrap(await source.audit(h.provider.address));
      const allocated = audit.find((event) => event.action === 'allocate');
      assert.equal(allocated?.owner, alice.address);
      assert.match(allocated?.address ?? '', /^198\.51\.100\.[0-3]$/);
    } finally {
      h.close();
    }
  });

  it('answers for its own provider alone, with its cluster sync, and NOT_READY while rebuilding', async () => {
    const h = await createHarness();
    try {
      const rebuilding = new Readiness();
      const deps = {
        provider: h.provider.address,
        url: 'https://127.0.0.1:8443',
        service: () => h.service,
        cluster: () => undefined,
        decisions: () => [],
      };
      const summary: ClusterSummary = {
        synced: true,
        pending: 0,
        unrealised: [],
        drift: { checks: 1, repaired: { created: 0, updated: 1, deleted: 0 } },
      };
      const synced = daemonProviderSource({
        ...deps,
        readiness: h.readiness,
        cluster: () => ({ summary: () => summary }),
      });
      const [withCluster] = unwrap(await synced.providers());
      assert.deepEqual(
        withCluster?.kubernetes,
        summary,
        'the Kubernetes sync state, when that backend is on',
      );

      const other = account(0xb0b).address;
      const source = daemonProviderSource({ ...deps, readiness: h.readiness });
      const audit = await source.audit(other);
      assert.equal(audit.ok ? 'ok' : audit.error.code, 'NOT_FOUND');
      const decisions = await source.decisions(other);
      assert.equal(decisions.ok ? 'ok' : decisions.error.code, 'NOT_FOUND');
      const early = await daemonProviderSource({ ...deps, readiness: rebuilding }).providers();
      assert.equal(early.ok ? 'ok' : early.error.code, 'NOT_READY');
    } finally {
      h.close();
    }
  });

  it('is not on the gateway that tenants reach, even for a loopback caller with a JWT', async () => {
    const h = await createHarness();
    try {
      h.fund(alice);
      for (const path of ['/', '/api/session', '/api/providers']) {
        const response = await h.request('GET', path, { token: tokenOf(alice, h.clock.now) });
        assert.equal(response.status, 404, path);
      }
    } finally {
      h.close();
    }
  });
});
