import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { orderKey } from '../lease/index.js';
import { account, bidOn, createHarness, tokenOf, unwrap } from './testing.js';

const alice = account(0xa11ce);

describe('catching up with the ledger after time away', () => {
  it('releases the reservation of a lease won and closed while away, and keeps those still wanted', async () => {
    const h = await createHarness();
    try {
      h.fund(alice);
      unwrap(await h.sync.register());
      const waiting = await bidOn(h, alice, 'waiting-ip');
      unwrap(h.ledger.createLease(waiting.lease));
      const open = await bidOn(h, alice, 'open-ip');
      const gone = await bidOn(h, alice, 'gone-ip');
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
