import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { orderKey } from '../lease/index.js';
import {
  BidEngine,
  type BidEngineOptions,
  type BidGate,
  type DecisionRecord,
  decideBid,
  describeDecision,
} from './bid-engine.js';
import { leasedIpCount } from './group.js';
import { Ledger } from './ledger.js';
import { DEFAULT_PRICING } from './pricing.js';
import { groupSpec, hashOf, IP_LEASE, testAccount } from './testing.js';
import type { GroupSpec, Order } from './types.js';

function value<T>(result: Result<T, AppError>): T {
  if (!result.ok) assert.fail(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

/** An IP pool of `size` addresses, or none at all (a provider without IP leasing). */
class PoolGate implements BidGate {
  readonly held = new Map<string, number>();
  readonly released: string[] = [];
  constructor(readonly size: number | undefined) {}
  free(): number {
    return (this.size ?? 0) - [...this.held.values()].reduce((a, b) => a + b, 0);
  }
  reserve(key: string, spec: GroupSpec): Result<{ ips: number }, AppError> {
    const ips = leasedIpCount(spec);
    this.held.delete(key);
    if (ips > 0 && this.size === undefined) return fail(appError('NO_IP_SUPPORT', 'no leased IPs available'));
    if (ips > this.free()) return fail(appError('INSUFFICIENT_IPS', `unable to reserve ${ips}`));
    this.held.set(key, ips);
    return ok({ ips });
  }
  unreserve(key: string): void {
    this.held.delete(key);
    this.released.push(key);
  }
}

const owner = testAccount(11);
const ipProvider = testAccount(12);
const plainProvider = testAccount(13);

const ipGroup = (
  name: string,
  ips: number[] = [1],
  attributes: GroupSpec['requirements']['attributes'] = null,
) => groupSpec({ name, attributes, units: [{ ips }] });

function order(spec: GroupSpec, oseq = 1): Order {
  return {
    id: { owner: owner.address, dseq: '1', gseq: oseq, oseq: 1 },
    state: 'open',
    spec,
    createdHeight: 1,
  };
}

describe('decideBid', () => {
  const profile = { address: ipProvider.address, attributes: [IP_LEASE], pricing: DEFAULT_PRICING };

  it('bids on an order without IPs at the configured price, and reserves nothing for IPs', async () => {
    const gate = new PoolGate(0);
    const decision = await decideBid(order(groupSpec()), profile, gate);
    assert.ok(decision.bid);
    assert.equal(decision.ips, 0);
    assert.equal(decision.price.denom, 'uakt');
    assert.match(decision.price.amount, /^\d+\.\d{18}$/);
  });

  it('an exhausted pool refuses the IP order (INSUFFICIENT_IPS) and still bids on the next order', async () => {
    const gate = new PoolGate(1);
    assert.ok((await decideBid(order(ipGroup('a'), 1), profile, gate)).bid);
    const second = await decideBid(order(ipGroup('b'), 2), profile, gate);
    assert.equal(second.bid ? 'bid' : second.reason.code, 'INSUFFICIENT_IPS');
    assert.ok((await decideBid(order(groupSpec(), 3), profile, gate)).bid);
  });

  it('a provider without IP support never bids on an IP order', async () => {
    const gate = new PoolGate(undefined);
    const plain = { ...profile, attributes: [] };
    const required = await decideBid(order(ipGroup('a', [1], [IP_LEASE])), plain, gate);
    assert.equal(required.bid ? 'bid' : required.reason.code, 'ATTRIBUTE_MISMATCH');
    const unrequired = await decideBid(order(ipGroup('b')), plain, gate);
    assert.equal(unrequired.bid ? 'bid' : unrequired.reason.code, 'NO_IP_SUPPORT');
    assert.ok((await decideBid(order(groupSpec()), plain, gate)).bid);
  });

  it('needs all of a group’s distinct IPs free at once', async () => {
    const gate = new PoolGate(2);
    const three = await decideBid(
      order(groupSpec({ units: [{ ips: [1, 2] }, { count: 3, ips: [2, 3] }] })),
      profile,
      gate,
    );
    assert.equal(three.bid ? 'bid' : three.reason.code, 'INSUFFICIENT_IPS');
    const two = await decideBid(
      order(
        groupSpec({
          units: [
            { count: 3, ips: [1] },
            { count: 3, ips: [1, 2] },
          ],
        }),
      ),
      profile,
      gate,
    );
    assert.ok(two.bid);
    assert.equal(two.ips, 2);
  });

  it('refuses above the order maximum, its own orders, and orders missing the provider’s order attributes', async () => {
    const gate = new PoolGate(5);
    const cheap = await decideBid(order(groupSpec({ units: [{ price: '1' }] })), profile, gate);
    assert.equal(cheap.bid ? 'bid' : cheap.reason.code, 'BID_OVER_ORDER');
    const own = await decideBid(order(groupSpec()), { ...profile, address: owner.address }, gate);
    assert.equal(own.bid ? 'bid' : own.reason.code, 'INVALID_INPUT');
    const picky = await decideBid(
      order(groupSpec()),
      { ...profile, orderAttributes: [{ key: 'tier', value: 'gold' }] },
      gate,
    );
    assert.equal(picky.bid ? 'bid' : picky.reason.code, 'ATTRIBUTE_MISMATCH');
    assert.equal(gate.held.size, 0, 'no refusal holds a reservation');
  });
});

/** A ledger with an owner and two providers: one with `ip-lease: true`, one without. */
function devnet(now?: () => number) {
  const ledger = value(Ledger.open({ path: ':memory:', ...(now === undefined ? {} : { now }) }));
  value(ledger.fundAccount({ address: owner.address, amount: { denom: 'uakt', amount: '100000000' } }));
  for (const account of [ipProvider, plainProvider]) {
    value(ledger.fundAccount({ address: account.address, amount: { denom: 'uakt', amount: '0' } }));
  }
  value(
    ledger.registerProvider({
      address: ipProvider.address,
      hostUri: 'https://127.0.0.1:8443',
      attributes: [IP_LEASE],
    }),
  );
  value(
    ledger.registerProvider({
      address: plainProvider.address,
      hostUri: 'https://127.0.0.1:9443',
      attributes: [],
    }),
  );
  const deploy = (...groups: GroupSpec[]) =>
    value(
      ledger.createDeployment({
        owner: owner.address,
        groups,
        hash: hashOf(1),
        deposit: { denom: 'uakt', amount: '5000000' },
      }),
    );
  return { ledger, deploy };
}

function engine(ledger: Ledger, provider: string, gate: BidGate, options: Partial<BidEngineOptions> = {}) {
  const decisions: DecisionRecord[] = [];
  const bidEngine = new BidEngine({
    ledger,
    provider,
    gate,
    onDecision: (record) => decisions.push(record),
    ...options,
  });
  return { bidEngine, decisions };
}

const outcomes = (decisions: readonly DecisionRecord[]) =>
  decisions.map((d) => `${d.order.gseq}:${d.outcome}${d.code === undefined ? '' : `:${d.code}`}`);

describe('BidEngine', () => {
  it('bids per order: an exhausted pool skips only the IP order; a provider without IPs skips all IP orders', async () => {
    const { ledger, deploy } = devnet();
    deploy(ipGroup('first'), ipGroup('second', [1], [IP_LEASE]), groupSpec({ name: 'plain' }));
    const ipGate = new PoolGate(1);
    const plainGate = new PoolGate(undefined);
    const a = engine(ledger, ipProvider.address, ipGate);
    const b = engine(ledger, plainProvider.address, plainGate);
    value(await a.bidEngine.poll());
    value(await b.bidEngine.poll());
    assert.deepEqual(outcomes(a.decisions), ['1:bid', '2:declined:INSUFFICIENT_IPS', '3:bid']);
    assert.deepEqual(outcomes(b.decisions), [
      '1:declined:NO_IP_SUPPORT',
      '2:declined:ATTRIBUTE_MISMATCH',
      '3:bid',
    ]);
    assert.equal(value(ledger.listBids({ provider: ipProvider.address, state: 'open' })).length, 2);
    assert.equal(value(ledger.listBids({ provider: plainProvider.address, state: 'open' })).length, 1);
    assert.match(describeDecision(a.decisions[1]!), /did not bid on order .*\/2\/1: INSUFFICIENT_IPS/);
  });

  it('reacts to new orders through the event log', async () => {
    const { ledger, deploy } = devnet();
    const a = engine(ledger, ipProvider.address, new PoolGate(4));
    assert.equal(value(await a.bidEngine.poll()), 0);
    deploy(ipGroup('web'));
    assert.ok(value(await a.bidEngine.poll()) > 0);
    assert.deepEqual(outcomes(a.decisions), ['1:bid']);
    assert.equal(value(await a.bidEngine.poll()), 1, 'its own BidCreated');
    assert.equal(value(await a.bidEngine.poll()), 0, 'nothing new, nothing done');
    assert.deepEqual(outcomes(a.decisions), ['1:bid']);
  });

  it('releases the reservation when the lease goes elsewhere or the order closes, keeps it when won', async () => {
    const { ledger, deploy } = devnet();
    const { deployment, orders } = deploy(groupSpec({ name: 'x' }), groupSpec({ name: 'y' }), ipGroup('z'));
    const ipGate = new PoolGate(1);
    const a = engine(ledger, ipProvider.address, ipGate);
    const b = engine(ledger, plainProvider.address, new PoolGate(undefined));
    value(await a.bidEngine.poll());
    value(await b.bidEngine.poll());
    const [x, y, z] = orders.map((o) => o.id);
    value(ledger.createLease({ ...x!, provider: plainProvider.address }));
    value(ledger.createLease({ ...y!, provider: ipProvider.address }));
    value(await a.bidEngine.poll());
    assert.deepEqual(ipGate.released, [orderKey(x!)]);
    assert.ok(ipGate.held.has(orderKey(y!)), 'a won order keeps its reservation for the lease engine');
    assert.equal(ipGate.free(), 0);
    value(ledger.closeDeployment(deployment.id));
    value(await a.bidEngine.poll());
    assert.deepEqual(ipGate.released, [orderKey(x!), orderKey(z!)]);
    assert.deepEqual(a.bidEngine.pendingOrders(), []);
  });

  it('releases the reservation when its bid is withdrawn', async () => {
    const { ledger, deploy } = devnet();
    const [o] = deploy(ipGroup('web')).orders;
    const gate = new PoolGate(1);
    const a = engine(ledger, ipProvider.address, gate);
    value(await a.bidEngine.poll());
    value(ledger.closeBid({ ...o!.id, provider: ipProvider.address }));
    value(await a.bidEngine.poll());
    assert.equal(gate.free(), 1);
  });

  it('isolates a crashing gate to its order', async () => {
    const { ledger, deploy } = devnet();
    deploy(groupSpec({ name: 'a' }), groupSpec({ name: 'boom' }), groupSpec({ name: 'c' }));
    const pool = new PoolGate(0);
    const gate: BidGate = {
      // an asynchronous gate, like the lease engine's, whose promise rejects for one order
      reserve: async (key, spec) => {
        if (spec.name === 'boom') throw new Error('gate bug');
        return pool.reserve(key, spec);
      },
      unreserve: (key) => pool.unreserve(key),
    };
    const a = engine(ledger, ipProvider.address, gate);
    value(await a.bidEngine.poll());
    assert.deepEqual(outcomes(a.decisions), ['1:bid', '2:failed:INTERNAL', '3:bid']);
  });

  it('after a restart re-reserves its open bids, and withdraws a bid it can no longer honour', async () => {
    const { ledger, deploy } = devnet();
    const [first, second] = deploy(ipGroup('a'), ipGroup('b', [1, 2])).orders;
    value(await engine(ledger, ipProvider.address, new PoolGate(3)).bidEngine.poll());
    const smaller = new PoolGate(1);
    const restarted = engine(ledger, ipProvider.address, smaller);
    value(await restarted.bidEngine.poll());
    assert.deepEqual(restarted.bidEngine.pendingOrders(), [orderKey(first!.id)]);
    assert.equal(value(ledger.getBid({ ...second!.id, provider: ipProvider.address })).state, 'closed');
    assert.deepEqual(outcomes(restarted.decisions), ['2:failed:INSUFFICIENT_IPS']);
  });

  it('records a refused bid as failed and releases its reservation', async () => {
    const { ledger, deploy } = devnet();
    deploy(groupSpec());
    const gate = new PoolGate(0);
    const refusing = {
      status: () => ledger.status(),
      eventsSince: (after: number, limit?: number) => ledger.eventsSince(after, limit),
      getOrder: ledger.getOrder.bind(ledger),
      listOrders: ledger.listOrders.bind(ledger),
      listBids: ledger.listBids.bind(ledger),
      getProvider: ledger.getProvider.bind(ledger),
      closeBid: ledger.closeBid.bind(ledger),
      createBid: async () => fail(appError('UNAVAILABLE', 'ledger down')),
    };
    const decisions: DecisionRecord[] = [];
    const bidEngine = new BidEngine({
      ledger: refusing,
      provider: ipProvider.address,
      gate,
      onDecision: (d) => decisions.push(d),
    });
    value(await bidEngine.poll());
    assert.deepEqual(outcomes(decisions), ['1:failed:UNAVAILABLE']);
    assert.equal(gate.held.size, 0);
    value(await bidEngine.poll());
    assert.deepEqual(
      outcomes(decisions),
      ['1:failed:UNAVAILABLE', '1:failed:UNAVAILABLE'],
      'retried on the next poll',
    );
  });

  it('runs until aborted, without spinning', async () => {
    const { ledger, deploy } = devnet();
    deploy(groupSpec());
    const controller = new AbortController();
    let polls = 0;
    const counting = {
      status: () => ledger.status(),
      eventsSince: (after: number, limit?: number) => {
        polls++;
        return ledger.eventsSince(after, limit);
      },
      getOrder: ledger.getOrder.bind(ledger),
      listOrders: ledger.listOrders.bind(ledger),
      listBids: ledger.listBids.bind(ledger),
      getProvider: ledger.getProvider.bind(ledger),
      closeBid: ledger.closeBid.bind(ledger),
      createBid: ledger.createBid.bind(ledger),
    };
    let bidEngine!: BidEngine;
    const first = new Promise<DecisionRecord>((resolve) => {
      bidEngine = new BidEngine({
        ledger: counting,
        provider: ipProvider.address,
        gate: new PoolGate(0),
        pollIntervalMs: 60_000,
        onDecision: resolve,
      });
    });
    const running = bidEngine.run(controller.signal);
    assert.equal((await first).outcome, 'bid');
    controller.abort();
    await running;
    assert.equal(polls, 1, 'one poll, then a wait of pollIntervalMs');
  });

  it('reports a poll failure when the provider is not registered', async () => {
    const { ledger } = devnet();
    const errors: AppError[] = [];
    const controller = new AbortController();
    const bidEngine = new BidEngine({
      ledger,
      provider: testAccount(99).address,
      gate: new PoolGate(0),
      pollIntervalMs: 1,
      onError: (error) => {
        errors.push(error);
        if (errors.length === 3) controller.abort();
      },
    });
    await bidEngine.run(controller.signal);
    assert.deepEqual(
      errors.map((e) => e.code),
      ['PROVIDER_NOT_FOUND', 'PROVIDER_NOT_FOUND', 'PROVIDER_NOT_FOUND'],
    );
  });

  it('withdraws a bid nobody accepts within the bid timeout, its IPs going to the order that waited for them', async () => {
    let now = 1_000_000;
    const market = devnet(() => now);
    const { ledger } = market;
    const deploy = (name: string) => market.deploy(ipGroup(name)).orders[0]!.id;
    const gate = new PoolGate(1);
    const errors: AppError[] = [];
    const { bidEngine: bids, decisions } = engine(ledger, ipProvider.address, gate, {
      bidTimeoutMs: 60_000,
      now: () => now,
      onError: (error) => errors.push(error),
    });
    const ignored = deploy('ignored');
    value(await bids.poll());
    assert.equal(gate.free(), 0);
    const waiting = deploy('waiting');
    value(await bids.poll());
    assert.deepEqual(outcomes(decisions), ['1:bid', '1:declined:INSUFFICIENT_IPS']);

    now += 59_999;
    value(await bids.poll());
    assert.equal(value(ledger.getBid({ ...ignored, provider: ipProvider.address })).state, 'open', 'not yet');
    now += 1;
    value(await bids.poll());
    assert.equal(value(ledger.getBid({ ...ignored, provider: ipProvider.address })).state, 'closed');
    assert.deepEqual(gate.released, [orderKey(ignored)]);
    assert.equal(gate.free(), 1);
    assert.equal(decisions.at(-1)?.outcome, 'expired');
    assert.match(
      describeDecision(decisions.at(-1)!),
      /withdrew its bid on order .*: no lease within 60000 ms/,
    );
    // the order turned down for want of an address is decided again, and gets it
    value(await bids.poll());
    assert.equal(value(ledger.getBid({ ...waiting, provider: ipProvider.address })).state, 'open');
    assert.equal(gate.free(), 0);
    // the expired order stays open on chain, as on Akash; this provider does not bid on it again
    assert.equal(value(ledger.getOrder(ignored)).state, 'open');
    assert.deepEqual(outcomes(decisions), ['1:bid', '1:declined:INSUFFICIENT_IPS', '1:expired', '1:bid']);
    assert.equal(decisions.at(-1)?.order.dseq, waiting.dseq);
    assert.deepEqual(errors, []);
  });

  it('never withdraws a bid the tenant accepted meanwhile: the lease keeps the reservation', async () => {
    let now = 1_000_000;
    const { ledger, deploy } = devnet(() => now);
    const order = deploy(ipGroup('won')).orders[0]!.id;
    const gate = new PoolGate(1);
    const { bidEngine: bids } = engine(ledger, ipProvider.address, gate, {
      bidTimeoutMs: 60_000,
      now: () => now,
    });
    value(await bids.poll());
    // accepted after the provider's last look at the events, just before its bid would expire
    now += 60_000;
    const lease = value(ledger.createLease({ ...order, provider: ipProvider.address }));
    value(await bids.poll());
    assert.equal(value(ledger.getLease(lease.id)).state, 'active');
    assert.deepEqual(gate.released, []);
    assert.equal(gate.free(), 0);
    // and the withdrawal itself refuses to touch a bid that is no longer open
    const refused = ledger.closeBid({ ...order, provider: ipProvider.address }, { ifOpen: true });
    assert.equal(refused.ok ? 'closed' : refused.error.code, 'BID_NOT_OPEN');
    assert.equal(value(ledger.getLease(lease.id)).state, 'active');
  });
});
