/**
 * Which address families an IP endpoint gets, from the placement attributes a tenant requires. The one
 * home of the rule: the bid gate, the deploy path, pricing and the provider's advertised attributes all
 * read it here.
 *
 * Akash carries a group's required attributes on chain and matches them against the provider's own, so a
 * tenant asks for IPv6 with no change to the SDL language, and only providers that offer it match:
 * - nothing asked: the provider's default family (IPv4, as every Akash provider leases today);
 * - `ip-lease-ipv6: "true"`: a dual-stack endpoint, one IPv4 and one IPv6 address;
 * - `ip-lease-ipv6-only: "true"`: one IPv6 address (it wins over `ip-lease-ipv6`).
 * Each is a yes/no capability a provider can advertise next to the others; a single `family` attribute
 * would not do, as a provider holds one value per key and one that offers all three could name only one.
 */
import type { Family, FamilyRequest, PoolSpec } from '../ipam/index.js';
import { parsePools } from '../ipam/index.js';
import type { Attribute } from '../sdl/index.js';

/** Attribute keys of IP leasing; none collides with one Akash providers use (`feat-endpoint-ip`, ...). */
export const IP_LEASE_ATTRIBUTE = {
  /** IP endpoints of the provider's default family (IPv4), as Akash's docs name it (optional for tenants there). */
  ipv4: 'ip-lease',
  /** Dual-stack endpoints: an IPv4 and an IPv6 address each. */
  dualStack: 'ip-lease-ipv6',
  /** IPv6-only endpoints. */
  ipv6Only: 'ip-lease-ipv6-only',
} as const;

const YES = 'true';

function requires(attributes: readonly Attribute[], key: string): boolean {
  return attributes.some((attribute) => attribute.key === key && attribute.value === YES);
}

/** The family a group's required attributes ask for; undefined when they ask for none. */
export function requestedFamily(
  attributes: readonly Attribute[] | null | undefined,
): FamilyRequest | undefined {
  const list = attributes ?? [];
  if (requires(list, IP_LEASE_ATTRIBUTE.ipv6Only)) return 'v6';
  if (requires(list, IP_LEASE_ATTRIBUTE.dualStack)) return 'dual';
  return undefined;
}

/** The address families of one endpoint of that request, IPv4 first. */
export function familiesOf(family: FamilyRequest): readonly Family[] {
  return family === 'dual' ? ['v4', 'v6'] : [family];
}

/** The family of an address in canonical text form. */
export function addressFamily(address: string): Family {
  return address.includes(':') ? 'v6' : 'v4';
}

/** What a set of held addresses amounts to; undefined for none. */
export function familyOfAddresses(addresses: readonly string[]): FamilyRequest | undefined {
  const v4 = addresses.some((address) => addressFamily(address) === 'v4');
  const v6 = addresses.some((address) => addressFamily(address) === 'v6');
  return v4 && v6 ? 'dual' : v6 ? 'v6' : v4 ? 'v4' : undefined;
}

/** Addresses one endpoint of that request holds (a dual endpoint two). */
export function addressesPerEndpoint(family: FamilyRequest): number {
  return family === 'dual' ? 2 : 1;
}

/** What the provider's pools can serve: a dual endpoint needs one auto-assign pool holding both families. */
export interface FamilyOffer {
  readonly v4: boolean;
  readonly v6: boolean;
  readonly dual: boolean;
}

/**
 * The families the pools an endpoint may draw from offer: the auto-assign ones, or only `pool` when every
 * address comes from that one. Nothing for pools that do not parse.
 */
export function offeredFamilies(pools: readonly PoolSpec[], pool?: string): FamilyOffer {
  const offer = { v4: false, v6: false, dual: false };
  const drawn = pools.filter((spec) => (pool === undefined ? spec.autoAssign !== false : spec.name === pool));
  const plans = parsePools(drawn);
  if (!plans.ok) return offer;
  for (const plan of plans.value) {
    const v4 = plan.v4.length > 0;
    const v6 = plan.v6.length > 0;
    offer.v4 ||= v4;
    offer.v6 ||= v6;
    offer.dual ||= v4 && v6;
  }
  return offer;
}

/**
 * The family an advertised `"true"` attribute of ours promises; undefined for any other attribute.
 * `ip-lease` promises the family of endpoints whose group asks for none: `fallback`, IPv4 by default.
 */
export function familyOfAttribute(attribute: Attribute, fallback: Family = 'v4'): FamilyRequest | undefined {
  if (attribute.value !== YES) return undefined;
  if (attribute.key === IP_LEASE_ATTRIBUTE.ipv4) return fallback;
  if (attribute.key === IP_LEASE_ATTRIBUTE.dualStack) return 'dual';
  if (attribute.key === IP_LEASE_ATTRIBUTE.ipv6Only) return 'v6';
  return undefined;
}

/** The attributes a provider with that offer advertises by default, so Akash's matching finds it. */
export function ipLeaseAttributes(offer: FamilyOffer, fallback: Family = 'v4'): readonly Attribute[] {
  return [
    ...(offer[fallback] ? [{ key: IP_LEASE_ATTRIBUTE.ipv4, value: YES }] : []),
    ...(offer.dual ? [{ key: IP_LEASE_ATTRIBUTE.dualStack, value: YES }] : []),
    ...(offer.v6 ? [{ key: IP_LEASE_ATTRIBUTE.ipv6Only, value: YES }] : []),
  ];
}
