import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { appError } from '../errors/index.js';
import type { Bid, Order } from '../market/index.js';
import type { LeaseStatus } from './provider-client.js';
import {
  biddingSettled,
  chooseBid,
  compareBids,
  formatPrice,
  noBidCode,
  noBidMessage,
  type OrderBids,
  statusSettled,
} from './tenant.js';

const OWNER = 'akash1owner';
const P1 = 'akash1provider1';
const P2 = 'akash1provider2';
const P3 = 'akash1provider3';
const label = (address: string) => address.replace('akash1', '');

function bid(provider: string, amount: string, createdAt = 0, state: Bid['state'] = 'open'): Bid {
  return {
    id: { owner: OWNER, dseq: '7', gseq: 1, oseq: 1, provider },
    state,
    price: { denom: 'uakt', amount },
    createdHeight: 1,
    createdAt,
  };
}

const order = { id: { owner: OWNER, dseq: '7', gseq: 1, oseq: 1 }, state: 'open' } as unknown as Order;

function bids(over: Partial<OrderBids>): OrderBids {
  return { order, bids: [], refusals: [], waiting: [], ...over };
}

describe('choosing a bid', () => {
  it('takes the cheapest open bid, comparing decimals exactly', () => {
    const list = [bid(P1, '14.75'), bid(P2, '12.398325617283950618'), bid(P3, '12.3983256172839506179')];
    assert.equal(chooseBid(list, { pick: 'cheapest' })?.id.provider, P3);
  });

  it('breaks price ties by arrival, then by provider address', () => {
    assert.equal(chooseBid([bid(P2, '1', 5), bid(P1, '1.0', 9)], { pick: 'cheapest' })?.id.provider, P2);
    assert.equal(chooseBid([bid(P2, '1', 5), bid(P1, '1', 5)], { pick: 'cheapest' })?.id.provider, P1);
  });

  it('ignores bids that are not open, and takes only the named provider when one is chosen', () => {
    const list = [bid(P1, '1', 0, 'lost'), bid(P2, '5')];
    assert.equal(chooseBid(list, { pick: 'cheapest' })?.id.provider, P2);
    assert.equal(chooseBid(list, { provider: P1 }), undefined);
    assert.equal(chooseBid(list, { provider: P2 })?.id.provider, P2);
    assert.equal(chooseBid([], { pick: 'cheapest' }), undefined);
  });

  it('picks a bid no other open bid undercuts (property)', () => {
    const amount = fc
      .tuple(fc.nat({ max: 10_000 }), fc.nat({ max: 999_999 }))
      .map(([whole, fraction]) => `${whole}.${String(fraction).padStart(6, '0')}`);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(amount, fc.nat({ max: 5 })), { minLength: 1, maxLength: 8 }),
        (entries) => {
          const list = entries.map(([price, at], index) => bid(`akash1p${index}`, price, at));
          const chosen = chooseBid(list, { pick: 'cheapest' });
          assert.ok(chosen !== undefined);
          for (const other of list) assert.ok(compareBids(chosen, other) <= 0);
          const scaled = (b: Bid) => Math.round(Number(b.price.amount) * 1e6);
          assert.equal(scaled(chosen), Math.min(...list.map(scaled)));
        },
      ),
    );
  });
});

describe('when bidding is settled', () => {
  const refusal = { provider: P2, error: appError('INSUFFICIENT_IPS', 'p2 has no free IPs') };

  it('waits for every candidate when picking the cheapest', () => {
    assert.equal(biddingSettled(bids({ bids: [bid(P1, '1')], waiting: [P2] }), { pick: 'cheapest' }), false);
    assert.equal(
      biddingSettled(bids({ bids: [bid(P1, '1')], refusals: [refusal] }), { pick: 'cheapest' }),
      true,
    );
  });

  it('waits only for the chosen provider’s bid or refusal', () => {
    assert.equal(biddingSettled(bids({ bids: [bid(P1, '1')], waiting: [P2] }), { provider: P1 }), true);
    assert.equal(biddingSettled(bids({ refusals: [refusal], waiting: [P1] }), { provider: P2 }), true);
    assert.equal(biddingSettled(bids({ bids: [bid(P1, '1')], waiting: [P2] }), { provider: P2 }), false);
  });
});

describe('explaining an order without bids', () => {
  const full = {
    provider: P2,
    error: appError('INSUFFICIENT_IPS', 'p2 has no free IPs (1 needed, 0 of 4 free)'),
  };
  const mismatch = {
    provider: P3,
    error: appError('ATTRIBUTE_MISMATCH', 'p3 lacks attributes (ip-lease=true)'),
  };

  it('names the chosen provider’s reason and the providers that did bid', () => {
    const state = bids({ bids: [bid(P1, '1')], refusals: [full] });
    assert.equal(
      noBidMessage(state, { provider: P2 }, label, 30),
      'no bid from the chosen provider on order 7/1/1: provider provider2: p2 has no free IPs (1 needed, 0 of 4 free) (INSUFFICIENT_IPS); provider1 did bid: try --pick cheapest',
    );
    assert.equal(noBidCode(state, { provider: P2 }), 'INSUFFICIENT_IPS');
  });

  it('says so when the chosen provider stays silent', () => {
    const state = bids({ waiting: [P2] });
    assert.match(
      noBidMessage(state, { provider: P2 }, label, 30),
      /provider provider2 did not bid within 30s/,
    );
    assert.equal(noBidCode(state, { provider: P2 }), 'UNAVAILABLE');
  });

  it('lists every provider’s reason when nobody bid', () => {
    const state = bids({ refusals: [full, mismatch], waiting: [P1] });
    const message = noBidMessage(state, { pick: 'cheapest' }, label, 30);
    assert.match(message, /^no provider bid on order 7\/1\/1: /);
    assert.match(message, /provider provider2: p2 has no free IPs .* \(INSUFFICIENT_IPS\)/);
    assert.match(message, /provider provider3: .*\(ATTRIBUTE_MISMATCH\)/);
    assert.match(message, /provider provider1: no answer in 30s/);
    assert.equal(noBidCode(state, { pick: 'cheapest' }), 'UNAVAILABLE');
    assert.equal(noBidCode(bids({ refusals: [full] }), { pick: 'cheapest' }), 'INSUFFICIENT_IPS');
    assert.equal(noBidCode(bids({ refusals: [full, mismatch] }), { pick: 'cheapest' }), 'UNAVAILABLE');
  });
});

describe('when a lease-status is settled', () => {
  const status = (endpoints: LeaseStatus['ip_endpoints'], ips: LeaseStatus['ips'] = {}): LeaseStatus => ({
    ips,
    ...(endpoints === undefined ? {} : { ip_endpoints: endpoints }),
  });

  it('needs every IP endpoint leased, or not leased with a reason', () => {
    assert.equal(statusSettled(status({ web: { state: 'active', addresses: ['192.0.2.1'] } }), true), true);
    assert.equal(statusSettled(status({ web: { state: 'active', addresses: [] } }), true), false);
    assert.equal(statusSettled(status({ web: { state: 'pending', addresses: [] } }), true), false);
    assert.equal(
      statusSettled(status({ web: { state: 'withheld', addresses: [], reason: 'held by 5' } }), true),
      true,
    );
    assert.equal(statusSettled(status({}), true), false);
  });

  it('falls back to `ips` without the endpoint field, and is settled at once without IPs', () => {
    const entry = { Port: 80, ExternalPort: 80, Protocol: 'TCP', IP: '192.0.2.1' };
    assert.equal(statusSettled(status(undefined, { web: [entry] }), true), true);
    assert.equal(statusSettled(status(undefined, null), true), false);
    assert.equal(statusSettled(status(undefined, null), false), true);
  });
});

describe('formatPrice', () => {
  it('keeps at most four decimals for people', () => {
    assert.equal(formatPrice('12.398325617283950618'), '12.3983 uakt/block');
    assert.equal(formatPrice('14.000000000000000000'), '14 uakt/block');
    assert.equal(formatPrice('1000'), '1000 uakt/block');
    assert.equal(formatPrice('0.000000000000000001'), '<0.0001 uakt/block');
    assert.equal(formatPrice('0.5'), '0.5 uakt/block');
  });
});
