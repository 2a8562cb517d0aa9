/**
 * The gateway's answers that need no lease: `GET /version` (the shape of Go's `versionInfo`) and `GET /validate`,
 * the bid pre-check (chain-sdk `BidScreeningResponse`): would this provider bid on a group, and why not — the
 * placement, pricing and validity checks of the bid engine, then the IP gate's answer without reserving anything.
 */
import { arch, platform } from 'node:process';
import type { Family } from '../ipam/index.js';
import { familiesOf, type LeasedIpInventory, requestedFamily } from '../lease/index.js';
import { type BidderProfile, evaluateOrder, leasedIpCount } from '../market/index.js';
import type { DecCoin, GroupSpec } from '../sdl/index.js';

/** This build's version, as `akash-ip --version` prints it. */
export const AKASH_IP_VERSION = '0.1.0';

/** `GET /version`: Go's `{akash: version.Info, kube}`; `kube` is null as this daemon runs no cluster of its own. */
export function versionInfo(): unknown {
  return {
    akash: {
      name: 'akash-ip',
      server_name: 'akash-ip',
      version: AKASH_IP_VERSION,
      commit: '',
      build_tags: '',
      go: `node ${process.version} ${platform}/${arch}`,
      build_deps: [],
      cosmos_sdk_version: '',
    },
    kube: null,
  };
}

/** `GET /validate`'s answer; `ips` (ours) gives the counts behind an IP refusal. */
export interface BidScreening {
  readonly passed: boolean;
  readonly reasons?: readonly string[];
  readonly price?: DecCoin;
  readonly ips?: { readonly requested: number; readonly available: string };
}

/**
 * Screens `spec` as the bid engine would decide an order of it (the caller as owner), holding nothing.
 * `inventory` answers per family (default: the family of endpoints whose group asks for none); each family the
 * group's endpoints need (see src/lease/family.ts) must have the addresses free.
 */
export function screenGroup(
  spec: GroupSpec,
  owner: string,
  profile: BidderProfile,
  inventory: (family?: Family) => LeasedIpInventory,
): BidScreening {
  const reasons: string[] = [];
  const order = {
    id: { owner, dseq: '1', gseq: 1, oseq: 1 },
    state: 'open' as const,
    spec,
    createdHeight: 0,
  };
  const price = evaluateOrder(order, profile);
  if (!price.ok) reasons.push(`${price.error.code}: ${price.error.message}`);
  const requested = leasedIpCount(spec);
  const family = requestedFamily(spec.requirements.attributes) ?? inventory().family;
  // the family with the fewest free addresses decides (a dual endpoint needs one of each)
  const counts = familiesOf(family)
    .map((one) => inventory(one))
    .sort((a, b) => (a.available === b.available ? 0 : a.available < b.available ? -1 : 1));
  const least = counts[0]!;
  const ips = { requested, available: String(least.available) };
  const named = (count: LeasedIpInventory) =>
    family === 'v4' ? '' : ` ${count.family === 'v4' ? 'IPv4' : 'IPv6'}`;
  const missing = counts.find((count) => count.capacity === 0n);
  const short = BigInt(requested) > least.available ? least : undefined;
  if (requested > 0 && missing !== undefined) {
    reasons.push(
      `NO_IP_SUPPORT: this provider has no${named(missing)} IP pool; it cannot lease IP endpoints`,
    );
  } else if (requested > 0 && short !== undefined) {
    reasons.push(
      `INSUFFICIENT_IPS: the group needs ${requested}${named(short)} leased IP(s), ${short.available} available`,
    );
  }
  if (reasons.length > 0) return { passed: false, reasons, ...(requested > 0 ? { ips } : {}) };
  return { passed: true, ...(price.ok ? { price: price.value } : {}), ...(requested > 0 ? { ips } : {}) };
}
