import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DEC_ONE, formatDec, parseDec } from './dec.js';
import { groupMaxPrice, leasedIpCount, validateGroupSpec } from './group.js';
import { DEFAULT_PRICING, type PricingConfig, quoteGroup } from './pricing.js';
import { groupSpec } from './testing.js';

/** Prices only IPs: cpu, memory, storage and endpoints cost nothing. */
const ipOnly: PricingConfig = {
  ...DEFAULT_PRICING,
  usdPerMonth: { cpu: 0, memory: 0, storage: { ephemeral: 0 }, endpoint: 0, ip: 5 },
};

describe('fixed-point decimals', () => {
  it('round-trips 18-place decimals', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), (value) => {
        const parsed = parseDec(formatDec(value));
        assert.ok(parsed.ok);
        assert.equal(parsed.value, value);
      }),
    );
  });

  it('rejects negatives, exponents and more than 18 places', () => {
    for (const text of ['-1', '1e3', '0.0000000000000000001', '', '01', '1.']) {
      assert.equal(parseDec(text).ok, false, text);
    }
    assert.deepEqual(parseDec('2.5'), { ok: true, value: (5n * DEC_ONE) / 2n });
  });
});

describe('group facts', () => {
  it('counts distinct leased IPs, not replicas or services', () => {
    // One endpoint (seq 1) shared by two services of 3 replicas each.
    const spec = groupSpec({
      units: [
        { count: 3, ips: [1] },
        { count: 3, ips: [1] },
      ],
    });
    assert.equal(leasedIpCount(spec), 1);
    assert.equal(leasedIpCount(groupSpec({ units: [{ ips: [1, 2] }, { ips: [2, 3] }] })), 3);
    assert.equal(leasedIpCount(groupSpec()), 0);
  });

  it('the max price is Σ unit price × count', () => {
    const spec = groupSpec({
      units: [
        { count: 3, price: '10' },
        { count: 2, price: '7' },
      ],
    });
    assert.deepEqual(groupMaxPrice(spec), { ok: true, value: 44n * DEC_ONE });
  });

  it('validates names, counts, ids and prices', () => {
    assert.equal(validateGroupSpec(groupSpec()).ok, true);
    assert.equal(validateGroupSpec({ ...groupSpec(), name: '' }).ok, false);
    assert.equal(validateGroupSpec(groupSpec({ units: [{ count: 0 }] })).ok, false);
    assert.equal(validateGroupSpec(groupSpec({ units: [{ id: 1 }, { id: 1 }] })).ok, false);
    assert.equal(validateGroupSpec(groupSpec({ units: [{ price: '0' }] })).ok, false);
  });
});

describe('pricing', () => {
  it('one IP at US$5/month, AKT = US$1, 6.098 s blocks, 30 days = 5e6 × 6.098 / 2 592 000 uakt/block', () => {
    const quote = quoteGroup(groupSpec({ units: [{ ips: [1] }] }), ipOnly);
    assert.ok(quote.ok);
    // 30 490 000 / 2 592 000 = 11.763117283950617283950…, rounded up at 18 places
    assert.equal(quote.value.price.amount, '11.763117283950617284');
    assert.equal(quote.value.price.denom, 'uakt');
    assert.equal(quote.value.ips, 1);
  });

  it('charges a shared endpoint across 2 services × 3 replicas as one IP', () => {
    const shared = quoteGroup(
      groupSpec({
        units: [
          { count: 3, ips: [1] },
          { count: 3, ips: [1] },
        ],
      }),
      ipOnly,
    );
    const single = quoteGroup(groupSpec({ units: [{ ips: [1] }] }), ipOnly);
    assert.ok(shared.ok && single.ok);
    assert.equal(shared.value.ips, 1);
    assert.equal(shared.value.price.amount, single.value.price.amount);
  });

  it('charges each address: a dual-stack endpoint twice, an IPv6-only one once', () => {
    const quote = (attributes?: { key: string; value: string }[]) => {
      const priced = quoteGroup(
        groupSpec({ units: [{ ips: [1] }], ...(attributes ? { attributes } : {}) }),
        ipOnly,
      );
      assert.ok(priced.ok);
      return priced.value;
    };
    const v4 = quote();
    const dual = quote([{ key: 'ip-lease-ipv6', value: 'true' }]);
    const v6 = quote([{ key: 'ip-lease-ipv6-only', value: 'true' }]);
    assert.deepEqual([v4.addresses, dual.addresses, v6.addresses], [1, 2, 1]);
    assert.equal(dual.ips, 1);
    assert.equal(dual.price.amount, '23.526234567901234568');
    assert.equal(v6.price.amount, v4.price.amount);
  });

  it('scales linearly with distinct IPs and inversely with the AKT price', () => {
    const one = quoteGroup(groupSpec({ units: [{ ips: [1] }] }), { ...ipOnly, aktUsd: 2 });
    const four = quoteGroup(groupSpec({ units: [{ ips: [1, 2] }, { ips: [3, 4] }] }), {
      ...ipOnly,
      aktUsd: 0.5,
    });
    assert.ok(one.ok && four.ok);
    const a = parseDec(one.value.price.amount);
    const b = parseDec(four.value.price.amount);
    assert.ok(a.ok && b.ok);
    // 4 IPs at a quarter of the AKT price = 16 × one IP, within the rounding of the last place
    assert.ok(b.value - 16n * a.value <= 16n && b.value - 16n * a.value >= -16n);
  });

  it('prices cpu, memory, storage by class, and non-IP endpoints', () => {
    const config: PricingConfig = {
      aktUsd: 1,
      blockSeconds: 6,
      monthDays: 30,
      usdPerMonth: { cpu: 2, memory: 1, storage: { ephemeral: 0.5, beta2: 1 }, endpoint: 1, ip: 0 },
    };
    const spec = groupSpec({
      units: [
        {
          count: 2,
          millicpu: 1000,
          memory: 2 ** 30,
          storage: [
            { size: 2 ** 30 },
            {
              size: 2 * 2 ** 30,
              attributes: [
                { key: 'persistent', value: 'true' },
                { key: 'class', value: 'beta2' },
              ],
            },
          ],
          randomPorts: 1,
          ips: [1],
        },
      ],
    });
    const quote = quoteGroup(spec, config);
    assert.ok(quote.ok);
    // usd/month: cpu 2×2 + memory 2×1 + ephemeral 2×0.5 + beta2 4×1 + 2 endpoints × 1 = 13
    // uakt/block = 13 × 1e6 × 6 / 2 592 000 = 30.0925925…
    assert.equal(quote.value.price.amount, '30.092592592592592593');
    assert.equal(quote.value.endpoints, 2);
    assert.deepEqual(quote.value.storageBytes, { ephemeral: 2n * 2n ** 30n, beta2: 4n * 2n ** 30n });
  });

  it('refuses unknown storage classes, zero totals and bad configs', () => {
    const beta3 = groupSpec({
      units: [
        {
          storage: [
            {
              size: 1,
              attributes: [
                { key: 'persistent', value: 'true' },
                { key: 'class', value: 'gamma' },
              ],
            },
          ],
        },
      ],
    });
    assert.equal(quoteGroup(beta3).ok, false);
    const zero = quoteGroup(groupSpec(), ipOnly);
    assert.equal(zero.ok ? '' : zero.error.code, 'PRICING_INVALID');
    assert.equal(quoteGroup(groupSpec(), { ...DEFAULT_PRICING, aktUsd: 0 }).ok, false);
    assert.equal(quoteGroup(groupSpec(), { ...DEFAULT_PRICING, blockSeconds: Number.NaN }).ok, false);
  });

  it('accepts tiny and huge config numbers exactly', () => {
    const quote = quoteGroup(groupSpec({ units: [{ ips: [1] }] }), {
      ...ipOnly,
      aktUsd: 1e-7,
      usdPerMonth: { ...ipOnly.usdPerMonth, ip: 1e21 },
    });
    assert.ok(quote.ok);
  });
});
