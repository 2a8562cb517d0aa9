/**
 * Mixed orders (IPv4, IPv6-only, dual-stack) against providers of each kind, end to end through the bid
 * decision: Akash's attribute matching on the attributes each provider derives from its pools, pricing, and
 * the real lease engine's per-family bid gate.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ok, type Result } from '../errors/index.js';
import type { PoolSpec } from '../ipam/index.js';
import { createLeaseEngine, ipLeaseAttributes, type LeaseEngine, offeredFamilies } from '../lease/index.js';
import { createMemoryStore } from '../store/index.js';
import { type BidGate, decideBid } from './bid-engine.js';
import { DEFAULT_PRICING } from './pricing.js';
import { groupSpec, testAccount } from './testing.js';
import type { Attribute, Order } from './types.js';

function value<T>(result: Result<T>): T {
  if (!result.ok) assert.fail(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

const owner = testAccount(21);
const DUAL: Attribute = { key: 'ip-lease-ipv6', value: 'true' };
const V6_ONLY: Attribute = { key: 'ip-lease-ipv6-only', value: 'true' };

/** The daemon's gate, over a real engine. */
function gateOf(engine: LeaseEngine): BidGate {
  return {
    async reserve(key, spec) {
      const [who = '', dseq = '', gseq = '', oseq = ''] = key.split('/');
      const held = await engine.reserve({ owner: who, dseq, gseq: Number(gseq), oseq: Number(oseq) }, spec);
      return held.ok ? ok({ ips: held.value.count }) : held;
    },
    async unreserve() {},
  };
}

async function provider(seed: number, pools: readonly PoolSpec[]) {
  const engine = value(
    await createLeaseEngine({ store: createMemoryStore(), provider: testAccount(seed).address, pools }),
  );
  const profile = {
    address: testAccount(seed).address,
    attributes: ipLeaseAttributes(offeredFamilies(pools)),
    pricing: DEFAULT_PRICING,
  };
  return { engine, profile, gate: gateOf(engine) };
}

let dseq = 0;
function order(attributes: readonly Attribute[], ips = 1): Order {
  dseq += 1;
  return {
    id: { owner: owner.address, dseq: String(dseq), gseq: 1, oseq: 1 },
    state: 'open',
    spec: groupSpec({
      attributes: [...attributes],
      units: [{ ips: Array.from({ length: ips }, (_, i) => i + 1) }],
    }),
    createdHeight: 1,
  };
}

describe('dual-stack orders on providers of each kind', () => {
  it('each order reaches only the providers that can serve its family', async () => {
    const providers = {
      'v4-only': await provider(31, [{ name: 'a', addresses: ['192.0.2.0/29'] }]),
      'v6-only': await provider(32, [{ name: 'b', addresses: ['2001:db8:6::/125'] }]),
      'dual-stack': await provider(33, [{ name: 'c', addresses: ['203.0.113.0/29', '2001:db8::/125'] }]),
    };
    const orders = { v4: [], 'v6-only': [V6_ONLY], dual: [DUAL] };
    const outcome: string[] = [];
    for (const [family, attributes] of Object.entries(orders)) {
      for (const [kind, { profile, gate }] of Object.entries(providers)) {
        const decision = await decideBid(order(attributes), profile, gate);
        outcome.push(`${family} on ${kind}: ${decision.bid ? 'bid' : decision.reason.code}`);
      }
    }
    assert.deepEqual(outcome, [
      // an IPv4 order that requires nothing reaches every provider; the gate refuses where there is no IPv4
      'v4 on v4-only: bid',
      'v4 on v6-only: NO_IP_SUPPORT',
      'v4 on dual-stack: bid',
      // IPv6 orders never reach a provider that does not advertise IPv6: Akash's matching filters them out
      'v6-only on v4-only: ATTRIBUTE_MISMATCH',
      'v6-only on v6-only: bid',
      'v6-only on dual-stack: bid',
      'dual on v4-only: ATTRIBUTE_MISMATCH',
      'dual on v6-only: ATTRIBUTE_MISMATCH',
      'dual on dual-stack: bid',
    ]);
  });

  it('a dual-stack provider out of IPv6 refuses IPv6 and dual orders naming the family, and still bids on IPv4', async () => {
    const { profile, gate, engine } = await provider(34, [
      { name: 'c', addresses: ['203.0.113.0/29', '2001:db8::/127'] },
    ]);
    const first = await decideBid(order([DUAL], 2), profile, gate);
    assert.ok(first.bid);
    for (const attributes of [[DUAL], [V6_ONLY]]) {
      const refused = await decideBid(order(attributes), profile, gate);
      assert.ok(!refused.bid);
      assert.equal(refused.reason.code, 'INSUFFICIENT_IPS');
      assert.equal(refused.reason.details?.family, 'v6');
    }
    const v4 = await decideBid(order([], 3), profile, gate);
    assert.ok(v4.bid);
    assert.deepEqual(
      engine.capacities().map((row) => `${row.family} reserved ${row.reserved} of ${row.capacity}`),
      ['v4 reserved 5 of 8', 'v6 reserved 2 of 2'],
    );
  });
});
