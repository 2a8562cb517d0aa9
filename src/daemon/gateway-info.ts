/**
 * The gateway's answers that need no lease: `GET /version` (the shape of Go's `versionInfo`) and `GET /validate`,
 * the bid pre-check (chain-sdk `BidScreeningResponse`): would this provider bid on a group, and why not — the
 * placement, pricing and validity checks of the bid engine, then the IP gate's answer without reserving anything.
 */
import { arch, platform } from 'node:process';
import type { LeasedIpInventory } from '../lease/index.js';
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

/** Screens `spec` as the bid engine would decide an order of it (the caller as owner), holding nothing. */
export function screenGroup(
  spec: GroupSpec,
  owner: string,
  profile: BidderProfile,
  inventory: LeasedIpInventory,
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
  const ips = { requested, available: String(inventory.available) };
  if (requested > 0 && inventory.capacity === 0n) {
    reasons.push('NO_IP_SUPPORT: this provider has no IP pool; it cannot lease IP endpoints');
  } else if (BigInt(requested) > inventory.available) {
    reasons.push(
      `INSUFFICIENT_IPS: the group needs ${requested} leased IP(s), ${inventory.available} available`,
    );
  }
  if (reasons.length > 0) return { passed: false, reasons, ...(requested > 0 ? { ips } : {}) };
  return { passed: true, ...(price.ok ? { price: price.value } : {}), ...(requested > 0 ? { ips } : {}) };
}
