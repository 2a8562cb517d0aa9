/**
 * Names, keys and labels of the Kubernetes objects that realize IP leases, computed the way the Go
 * provider computes them where a name is visible to operators (sharing key, tenant namespace, CR and
 * Service names), with a hashed fallback wherever the Go form would be an invalid object name.
 */
import { sha224, sha256 } from '@noble/hashes/sha2.js';
import { base32hexnopad } from '@scure/base';
import { type Declaration, type LeaseId, leaseKey } from '../lease/index.js';

/** Group and versions of the Go provider's `ProviderLeasedIP` CRD. */
export const AKASH_GROUP = 'akash.network';
export const LEASED_IP_VERSION = 'v2beta2';
export const LEASED_IP_PLURAL = 'providerleasedips';

/** Labels the Go provider puts on lease objects; kept so its tooling finds ours. */
export const LABEL = {
  akash: 'akash.network',
  owner: 'akash.network/lease.id.owner',
  dseq: 'akash.network/lease.id.dseq',
  gseq: 'akash.network/lease.id.gseq',
  oseq: 'akash.network/lease.id.oseq',
  provider: 'akash.network/lease.id.provider',
  manifestService: 'akash.network/manifest-service',
  serviceTarget: 'akash.network/service-target',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

/** Value of the managed-by label: objects without it are never changed or deleted. */
export const MANAGED_BY = 'akash-ip';

/** MetalLB's current annotation names (the `metallb.universe.tf/` forms are deprecated). */
export const METALLB = {
  allowSharedIp: 'metallb.io/allow-shared-ip',
  loadBalancerIps: 'metallb.io/loadBalancerIPs',
  addressPool: 'metallb.io/address-pool',
} as const;

/** The deprecated annotation prefix the Go IP operator writes; MetalLB still reads it. */
export const METALLB_LEGACY = {
  allowSharedIp: 'metallb.universe.tf/allow-shared-ip',
  loadBalancerIps: 'metallb.universe.tf/loadBalancerIPs',
  addressPool: 'metallb.universe.tf/address-pool',
} as const;

/** Our label on the NetworkPolicies admitting IPv6 to leased ports (operator mode), so they are found again. */
export const IPV6_POLICY_LABEL = { key: 'akash-ip.akash.network/policy', value: 'ipv6-ingress' } as const;

/** Our own annotation: the endpoint a Service realizes (endpoint names may not fit a label value). */
export const ENDPOINT_ANNOTATION = 'akash-ip.akash.network/endpoint';

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PLAIN_ENDPOINT = /^[a-z\d-]+$/;

function hash24(text: string): string {
  return base32hexnopad.encode(sha256(new TextEncoder().encode(text)).subarray(0, 15)).toLowerCase();
}

/**
 * The MetalLB sharing key of an endpoint: `<owner>-ip-<name>`, the name hashed when it holds characters
 * outside `[a-z0-9-]` (Go's `MakeIPSharingKey`). Owner-scoped, as endpoint names are unique per owner.
 */
export function sharingKey(owner: string, endpoint: string): string {
  return `${owner}-ip-${PLAIN_ENDPOINT.test(endpoint) ? endpoint : hash24(endpoint)}`;
}

/**
 * The lease's tenant namespace: base32hex of SHA-224 of the lease ID string (`owner/dseq/gseq/oseq/provider`, Go's
 * `LeaseID.String()`, our lease key), as the Go provider names it.
 */
export function leaseNamespace(id: LeaseId): string {
  return base32hexnopad.encode(sha224(new TextEncoder().encode(leaseKey(id)))).toLowerCase();
}

/** True for a valid Kubernetes object name (DNS subdomain). */
export function isObjectName(name: string): boolean {
  return name.length <= 253 && DNS_SUBDOMAIN.test(name);
}

/**
 * Our IPv6 NetworkPolicy of a manifest service: `akash-ip-<service>-ipv6`, or a hash of the service name
 * when that is no valid object name. No Go name (`akash-<svc>-ip`, `akash-<svc>-np`) is taken.
 */
export function ipv6PolicyName(service: string): string {
  const plain = `akash-ip-${service}-ipv6`;
  return isObjectName(plain) ? plain : `akash-ip-${hash24(service)}-ipv6`;
}

/**
 * The `ProviderLeasedIP` object name: Go's `<sharing key>-<proto>-<external port>`, or, when that is no
 * valid object name (an owner or endpoint too long), a hash of it that keeps the port readable.
 */
export function leasedIpName(owner: string, declaration: Declaration): string {
  const tail = `${declaration.protocol.toLowerCase()}-${declaration.externalPort}`;
  const name = `${sharingKey(owner, declaration.endpoint)}-${tail}`.toLowerCase();
  return isObjectName(name) ? name : `plip-${hash24(name)}-${tail}`;
}

/**
 * The LoadBalancer Service names of one lease, by declaration: Go's `<service>-ip-<external port>-<proto>`
 * when that is a valid Service name and unique in the lease, else a hash of the declaration. (Go's form
 * omits the endpoint, so one service exposing the same port on two endpoints would collide there.)
 */
export function serviceNames(declarations: readonly Declaration[]): readonly string[] {
  const goNames = declarations.map((d) => `${d.service}-ip-${d.externalPort}-${d.protocol}`.toLowerCase());
  const counts = new Map<string, number>();
  for (const name of goNames) counts.set(name, (counts.get(name) ?? 0) + 1);
  return goNames.map((name, index) => {
    if (name.length <= 63 && DNS_LABEL.test(name) && counts.get(name) === 1) return name;
    const d = declarations[index]!;
    const tail = `${d.externalPort}-${d.protocol.toLowerCase()}`;
    return `ip-${hash24(`${d.endpoint}/${d.service}/${tail}`).slice(0, 16)}-${tail}`;
  });
}

/** The Go provider's five lease labels. */
export function leaseLabels(id: LeaseId): Readonly<Record<string, string>> {
  return {
    [LABEL.owner]: id.owner,
    [LABEL.dseq]: id.dseq,
    [LABEL.gseq]: String(id.gseq),
    [LABEL.oseq]: String(id.oseq),
    [LABEL.provider]: id.provider,
  };
}

/** Equality label selector text. */
export function selectorOf(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}
