/**
 * The operator's pools: the MetalLB `IPAddressPool` objects named by `--metal-lb-pool`, read (never
 * written) and turned into the engine's pool specs. Addresses of those pools held by LoadBalancer Services
 * we do not manage are excluded, so they are never handed out twice, and counted as in use.
 */

import {
  contains,
  type Family,
  formatAddress,
  type PoolPlan,
  type PoolSpec,
  parseAddress,
  parsePoolSpec,
  parsePools,
  size,
} from '../ipam/index.js';
import type { IpAddressPoolObject } from '../k8s/index.js';

export function poolCollection(namespace: string): string {
  return `/apis/metallb.io/v1beta1/namespaces/${namespace}/ipaddresspools`;
}

/** One named pool as the operator sees it. */
export interface PoolState {
  readonly name: string;
  /** Its addresses as MetalLB counts them (avoidBuggyIPs applied), before our exclusions. */
  readonly size: bigint;
  /** {@link size} by family. */
  readonly sizes: Readonly<Record<Family, bigint>>;
  readonly addresses: readonly string[];
  /** Addresses of this pool held by Services we do not manage. */
  readonly foreign: readonly string[];
  /** Why the pool is not leased from: missing, unreadable, overlapping another. */
  readonly problem?: string;
}

export interface PoolPicture {
  /** What the engine leases from (named pools that exist and parse), with foreign holders excluded. */
  readonly specs: readonly PoolSpec[];
  readonly pools: readonly PoolState[];
  /** Pool size over every usable pool: `/usage`'s Available. */
  readonly size: bigint;
  /** Foreign-held addresses inside usable pools. */
  readonly foreign: number;
  /** The usable pool holding `address`, if any (for the address-pool annotation). */
  poolOf(address: string): string | undefined;
}

/** A count as a JSON number: exact up to 2^53 - 1, capped there (a huge IPv6 pool). */
export function jsonCount(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}

/** The canonical text of an address, or undefined when it is none. */
export function canonicalAddress(text: string): string | undefined {
  const parsed = parseAddress(text.trim());
  return parsed.ok ? formatAddress(parsed.value.family, parsed.value.value) : undefined;
}

const NONE: Readonly<Record<Family, bigint>> = Object.freeze({ v4: 0n, v6: 0n });

/** A named pool nothing can be leased from, with why. */
function unusable(name: string, addresses: readonly string[], problem: string): PoolState {
  return { name, size: 0n, sizes: NONE, addresses, foreign: [], problem };
}

function holds(plan: PoolPlan, address: string): boolean {
  const parsed = parseAddress(address);
  if (!parsed.ok) return false;
  const family: Family = parsed.value.family;
  return contains(family === 'v4' ? plan.v4 : plan.v6, parsed.value.value);
}

/**
 * The named pools as found in the cluster. `objects` is every pool of the MetalLB namespace by name;
 * `foreign` the canonical addresses held by Services we do not manage.
 */
export function picturePools(
  names: readonly string[],
  objects: ReadonlyMap<string, IpAddressPoolObject>,
  foreign: ReadonlySet<string>,
): PoolPicture {
  const pools: PoolState[] = [];
  const usable: PoolSpec[] = [];
  const plans: PoolPlan[] = [];
  let total = 0n;
  let foreignCount = 0;
  for (const name of names) {
    const object = objects.get(name);
    if (object === undefined) {
      pools.push(
        unusable(
          name,
          [],
          `MetalLB IPAddressPool "${name}" does not exist: no address can be leased from it`,
        ),
      );
      continue;
    }
    const base: PoolSpec = {
      name,
      addresses: object.spec.addresses,
      avoidBuggyIPs: object.spec.avoidBuggyIPs ?? false,
    };
    const plan = parsePoolSpec(base);
    if (!plan.ok) {
      pools.push(unusable(name, object.spec.addresses, plan.error.message));
      continue;
    }
    const overlap = parsePools([...usable, base]);
    if (!overlap.ok) {
      pools.push(unusable(name, object.spec.addresses, overlap.error.message));
      continue;
    }
    const held = [...foreign].filter((address) => holds(plan.value, address)).sort();
    const sizes = { v4: size(plan.value.v4), v6: size(plan.value.v6) };
    const poolSize = sizes.v4 + sizes.v6;
    total += poolSize;
    foreignCount += held.length;
    // Named on purpose: the operator leases from these pools whatever MetalLB's autoAssign says.
    usable.push(held.length === 0 ? base : { ...base, exclude: held });
    plans.push(plan.value);
    pools.push({ name, size: poolSize, sizes, addresses: object.spec.addresses, foreign: held });
  }
  return {
    specs: usable,
    pools,
    size: total,
    foreign: foreignCount,
    poolOf: (address) => plans.find((plan) => holds(plan, address))?.name,
  };
}
