/**
 * Bid pricing: monthly USD targets per resource, turned into uakt per block.
 *
 * For a group G the price per block is
 *
 * ```
 *   price(G) = F × ( cpuUsd      × Σ_units millicpu × count / 1000
 *                  + memoryUsd   × Σ_units bytes × count / 2^30
 *                  + Σ_class storageUsd[class] × Σ_volumes bytes × count / 2^30
 *                  + endpointUsd × Σ_units (endpoints of the unit that are not LEASED_IP)
 *                  + ipUsd       × (distinct LEASED_IP sequence numbers in G) × addresses per endpoint )
 *
 *   F = 10^6 uakt/AKT ÷ (aktUsd × blocksPerMonth),   blocksPerMonth = monthDays × 86 400 s ÷ blockSeconds
 * ```
 *
 * rounded UP to 18 decimal places (a provider never under-charges by rounding). Leased IPs are counted
 * once per address, not per replica or per service that shares it — the fix for the Go pricing
 * script's per-replica count (finding F16). Endpoints, like in Go's scale pricing, are counted per
 * unit, not per replica; unlike Go, a LEASED_IP entry is not also charged as an endpoint.
 * An endpoint holds one address, or two when the placement asks for dual-stack (`ip-lease-ipv6`, see
 * src/lease/family.ts), and each is charged.
 * A volume's class is its `class` attribute when `persistent` is true, otherwise `ephemeral`.
 */
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { addressesPerEndpoint, requestedFamily } from '../lease/index.js';
import { ceilDiv, DEC_ONE, formatDec } from './dec.js';
import { leasedIpCount } from './group.js';
import { type Attribute, DENOM, type DecCoin, ENDPOINT_KIND, type GroupSpec } from './types.js';

/** Default AKT price in USD: a round placeholder; set the real rate from a price feed. */
export const DEFAULT_AKT_USD = 1;
/** Average Akash mainnet block time in seconds. */
export const DEFAULT_BLOCK_SECONDS = 6.098;
/** A billing month. */
export const DEFAULT_MONTH_DAYS = 30;
/** Target price of one leased IP: US$5 per month. */
export const DEFAULT_IP_USD_PER_MONTH = 5;

/** Monthly USD targets and the exchange facts that turn them into uakt per block. All configurable. */
export interface PricingConfig {
  /** USD per AKT. */
  readonly aktUsd: number;
  /** Seconds per block. */
  readonly blockSeconds: number;
  /** Days in the month the USD targets refer to. */
  readonly monthDays: number;
  readonly usdPerMonth: {
    /** Per vCPU (1000 millicpu). */
    readonly cpu: number;
    /** Per GiB of memory. */
    readonly memory: number;
    /** Per GiB, by storage class; `ephemeral` prices non-persistent volumes. */
    readonly storage: Readonly<Record<string, number>>;
    /** Per non-IP endpoint (shared HTTP or random port). */
    readonly endpoint: number;
    /** Per distinct leased IP address. */
    readonly ip: number;
  };
}

/** Our defaults: US$5 per IP-month, and modest compute targets typical of community providers. */
export const DEFAULT_PRICING: PricingConfig = Object.freeze({
  aktUsd: DEFAULT_AKT_USD,
  blockSeconds: DEFAULT_BLOCK_SECONDS,
  monthDays: DEFAULT_MONTH_DAYS,
  usdPerMonth: Object.freeze({
    cpu: 1.6,
    memory: 0.8,
    storage: Object.freeze({ ephemeral: 0.02, beta1: 0.01, beta2: 0.03, beta3: 0.04 }),
    endpoint: 0.05,
    ip: DEFAULT_IP_USD_PER_MONTH,
  }),
});

/** A priced group: the bid price and the quantities it was computed from. */
export interface PriceQuote {
  readonly price: DecCoin;
  /** IP endpoints: distinct LEASED_IP sequence numbers. */
  readonly ips: number;
  /** Addresses those endpoints hold, each charged: twice `ips` for dual-stack endpoints. */
  readonly addresses: number;
  readonly millicpu: bigint;
  readonly memoryBytes: bigint;
  readonly storageBytes: Readonly<Record<string, bigint>>;
  readonly endpoints: number;
}

interface Ratio {
  readonly n: bigint;
  readonly d: bigint;
}

const GIB = 2n ** 30n;
const SECONDS_PER_DAY = 86_400n;
const UAKT_PER_AKT = 1_000_000n;

/** Exact value of a finite, non-negative JS number (its shortest decimal form). */
function ratio(value: number, what: string): Result<Ratio, AppError> {
  if (!Number.isFinite(value) || value < 0) {
    return fail(appError('PRICING_INVALID', `${what} must be a finite number ≥ 0, got ${value}`));
  }
  const [mantissa = '0', exponentText = '0'] = String(value).split('e');
  const [whole = '0', fraction = ''] = mantissa.split('.');
  const exponent = Number(exponentText) - fraction.length;
  const digits = BigInt(whole + fraction);
  return ok(
    exponent >= 0
      ? { n: digits * 10n ** BigInt(exponent), d: 1n }
      : { n: digits, d: 10n ** BigInt(-exponent) },
  );
}

function add(a: Ratio, b: Ratio): Ratio {
  return { n: a.n * b.d + b.n * a.d, d: a.d * b.d };
}

function scale(a: Ratio, quantity: bigint, divisor = 1n): Ratio {
  return { n: a.n * quantity, d: a.d * divisor };
}

function storageClass(attributes: readonly Attribute[] | undefined): string {
  const find = (key: string) => attributes?.find((attribute) => attribute.key === key)?.value;
  return find('persistent') === 'true' ? (find('class') ?? 'ephemeral') : 'ephemeral';
}

/**
 * Prices a group with `config` (see the module comment for the formula). Fails with PRICING_INVALID
 * for a bad config, a storage class without a price, or a total of zero (the chain rejects zero bids).
 */
export function quoteGroup(
  spec: GroupSpec,
  config: PricingConfig = DEFAULT_PRICING,
): Result<PriceQuote, AppError> {
  const usd = config.usdPerMonth;
  const inputs = {
    cpu: usd.cpu,
    memory: usd.memory,
    endpoint: usd.endpoint,
    ip: usd.ip,
    akt: config.aktUsd,
    block: config.blockSeconds,
    days: config.monthDays,
  };
  const r = {} as Record<keyof typeof inputs, Ratio>;
  for (const key of Object.keys(inputs) as (keyof typeof inputs)[]) {
    const value = ratio(inputs[key], `pricing "${key}"`);
    if (!value.ok) return value;
    r[key] = value.value;
  }
  if (r.akt.n === 0n || r.block.n === 0n || r.days.n === 0n) {
    return fail(appError('PRICING_INVALID', 'AKT price, block time and month length must be above zero'));
  }

  let millicpu = 0n;
  let memoryBytes = 0n;
  let endpoints = 0;
  const storageBytes: Record<string, bigint> = {};
  for (const unit of spec.resources) {
    const count = BigInt(unit.count);
    millicpu += BigInt(unit.resource.cpu.units.val) * count;
    memoryBytes += BigInt(unit.resource.memory.size.val) * count;
    for (const volume of unit.resource.storage) {
      const cls = storageClass(volume.attributes);
      storageBytes[cls] = (storageBytes[cls] ?? 0n) + BigInt(volume.size.val) * count;
    }
    endpoints += unit.resource.endpoints.filter((e) => e.kind !== ENDPOINT_KIND.LEASED_IP).length;
  }
  const ips = leasedIpCount(spec);
  const addresses = ips * addressesPerEndpoint(requestedFamily(spec.requirements.attributes) ?? 'v4');

  let usdTotal: Ratio = { n: 0n, d: 1n };
  usdTotal = add(usdTotal, scale(r.cpu, millicpu, 1000n));
  usdTotal = add(usdTotal, scale(r.memory, memoryBytes, GIB));
  for (const [cls, bytes] of Object.entries(storageBytes)) {
    const price = usd.storage[cls];
    if (price === undefined)
      return fail(appError('PRICING_INVALID', `no price configured for storage class "${cls}"`));
    const rate = ratio(price, `storage price of ${cls}`);
    if (!rate.ok) return rate;
    usdTotal = add(usdTotal, scale(rate.value, bytes, GIB));
  }
  usdTotal = add(usdTotal, scale(r.endpoint, BigInt(endpoints)));
  usdTotal = add(usdTotal, scale(r.ip, BigInt(addresses)));

  // uakt/block = usd × 10^6 × blockSeconds ÷ (aktUsd × monthDays × 86400)
  const numerator = usdTotal.n * UAKT_PER_AKT * r.block.n * r.akt.d * r.days.d;
  const denominator = usdTotal.d * r.block.d * r.akt.n * r.days.n * SECONDS_PER_DAY;
  const fixed = ceilDiv(numerator * DEC_ONE, denominator);
  if (fixed === 0n) return fail(appError('PRICING_INVALID', `group "${spec.name}" prices to zero`));
  return ok({
    price: { denom: DENOM, amount: formatDec(fixed) },
    ips,
    addresses,
    millicpu,
    memoryBytes,
    storageBytes,
    endpoints,
  });
}
