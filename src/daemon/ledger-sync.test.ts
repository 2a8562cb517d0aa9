import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { orderKey } from '../lease/index.js';
import { account, createHarness, type Harness, ipSdl, tokenOf, unwrap } from './testing.js';

const alice = account(0xa11ce);

/** A deployment of `name` with a bid of ours on its one order, its reservation held. */
async function bidOn(h: Harness, name: string) {
  const sdl = ipSdl(name);
  const created = unwrap(
    h.ledger.createDeployment({
      owner: alice.address,
      groups: sdl.groups,
      hash: sdl.manifestVersion,
      deposit: { denom: 'uakt', amount: '5000000' },
    }),
  );
  unwrap(await h.sync.bids.poll());
  const order = created.orders[0]!.id;
  assert.equal(unwrap(h.ledger.listBids({ ...order, provider: h.provider.address }))[0]?.state, 'open');
  return { sdl, order, lease: { ...order, provider: h.provider.address } };
}

describe('catching up with the ledger after time away', () => {
  it('releases the reservation of a lease won and closed while away, and keeps those still wanted', async () => {
    const h = await createHarness();
    try {
      h.fund(alice);
      unwrap(await h.sync.register());
      const waiting = await bidOn(h, 'waiting-ip');
      unwrap(h.ledger.createLease(waiting.lease));
      const open = await bidOn(h, 'open-ip');
      const gone = await bidOn(h, 'gone-ip');
      unwrap(h.ledger.createLease(gone.lease));
      assert.equal(h.engine.inventory().reserved, 3n);

      // away: the lease is won and closed on the ledger before any manifest came, and no event is read
      unwrap(h.ledger.closeLease({ id: gone.lease, actor: alice.address }));
      assert.deepEqual(unwrap(await h.sync.reconcile()), { closed: 0, released: 1 });
      assert.deepEqual(
        h.engine
          .reservations()
          .map((reservation) => reservation.id)
          .sort(),
        [orderKey(open.order), orderKey(waiting.order)].sort(),
      );
      assert.equal(h.engine.inventory().reserved, 2n);
      assert.deepEqual(unwrap(await h.sync.reconcile()), { closed: 0, released: 0 });

      // the lease still waiting for its manifest gets it, and takes its reservation over
      const sent = await h.request('PUT', `/deployment/${waiting.order.dseq}/manifest`, {
        token: tokenOf(alice, h.clock.now),
        body: waiting.sdl.manifest,
      });
      assert.equal(sent.status, 200);
      assert.equal(h.engine.inventory().reserved, 1n);
      assert.equal(h.engine.inventory().inUse, 1n);
    } finally {
      h.close();
    }
  });
});
