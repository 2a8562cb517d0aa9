/**
 * The objects the backend wants in the cluster, built from the lease engine's views: per declaration of
 * an active endpoint one `ProviderLeasedIP` (in the manifest namespace) and one LoadBalancer Service (in
 * the lease's namespace) pinned to the address our IPAM chose; per pool one MetalLB `IPAddressPool`.
 */
import { isDeepStrictEqual } from 'node:util';
import type { PoolSpec } from '../ipam/index.js';
import type { Declaration, LeaseId, LeaseView } from '../lease/index.js';
import {
  AKASH_GROUP,
  ENDPOINT_ANNOTATION,
  IPV6_POLICY_LABEL,
  ipv6PolicyName,
  LABEL,
  LEASED_IP_PLURAL,
  LEASED_IP_VERSION,
  leasedIpName,
  leaseLabels,
  leaseNamespace,
  MANAGED_BY,
  METALLB,
  METALLB_LEGACY,
  serviceNames,
  sharingKey,
} from './names.js';
import type { IpAddressPoolObject, LeasedIpObject, NetworkPolicyObject, ServiceObject } from './schemas.js';

/** One declaration of an active endpoint, with everything its two objects are named and pinned by. */
export interface DesiredPort {
  readonly lease: LeaseId;
  readonly declaration: Declaration;
  /** The endpoint's leased addresses (one, or one per family). */
  readonly addresses: readonly string[];
  readonly sharingKey: string;
  /** The `ProviderLeasedIP` name. */
  readonly resource: string;
  /** The Service name, in {@link namespace}. */
  readonly service: string;
  readonly namespace: string;
}

const LABEL_VALUE = /^([A-Za-z0-9]([-_.A-Za-z0-9]{0,61}[A-Za-z0-9])?)?$/;

/** What the backend writes on every object it owns: the lease labels and the managed-by marker. */
export function ownedLabels(id: LeaseId): Record<string, string> {
  return { ...leaseLabels(id), [LABEL.akash]: 'true', [LABEL.managedBy]: MANAGED_BY };
}

/** The lease's declarations whose endpoint holds addresses; a closed lease has none. */
export function desiredPorts(lease: LeaseView): readonly DesiredPort[] {
  if (lease.state !== 'active') return [];
  const addresses = new Map(
    lease.endpoints
      .filter((endpoint) => endpoint.state === 'active' && endpoint.addresses.length > 0)
      .map((endpoint) => [endpoint.name, endpoint.addresses] as const),
  );
  // Names come from every declaration, so an endpoint turning active never renames another's Service.
  const services = serviceNames(lease.declarations);
  const namespace = leaseNamespace(lease.id);
  const out: DesiredPort[] = [];
  lease.declarations.forEach((declaration, index) => {
    const held = addresses.get(declaration.endpoint);
    if (held === undefined) return;
    out.push({
      lease: lease.id,
      declaration,
      addresses: held,
      sharingKey: sharingKey(lease.id.owner, declaration.endpoint),
      resource: leasedIpName(lease.id.owner, declaration),
      service: services[index]!,
      namespace,
    });
  });
  return out;
}

export function leasedIpPath(namespace: string, name?: string): string {
  const base = `/apis/${AKASH_GROUP}/${LEASED_IP_VERSION}/namespaces/${namespace}/${LEASED_IP_PLURAL}`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}

export function servicePath(namespace: string, name?: string): string {
  const base = `/api/v1/namespaces/${namespace}/services`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}

export function poolPath(namespace: string, name?: string): string {
  const base = `/apis/metallb.io/v1beta1/namespaces/${namespace}/ipaddresspools`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}

/** The `ProviderLeasedIP` spec and labels of a port (Go's fields, plus endpoint and addresses). */
export function leasedIpBody(port: DesiredPort, namespace: string) {
  const { declaration: d, lease } = port;
  const labels: Record<string, string> = {
    ...ownedLabels(lease),
    'external-port': String(d.externalPort),
    proto: d.protocol,
  };
  if (LABEL_VALUE.test(d.service)) labels['service-name'] = d.service;
  return {
    apiVersion: `${AKASH_GROUP}/${LEASED_IP_VERSION}`,
    kind: 'ProviderLeasedIP',
    metadata: { name: port.resource, namespace, labels },
    spec: {
      lease_id: {
        owner: lease.owner,
        dseq: lease.dseq,
        gseq: lease.gseq,
        oseq: lease.oseq,
        provider: lease.provider,
      },
      service_name: d.service,
      port: d.port,
      external_port: d.externalPort,
      protocol: d.protocol,
      sharing_key: port.sharingKey,
      endpoint: d.endpoint,
      address: port.addresses.join(','),
    },
  };
}

/** How a Service is written when it must also read as the Go IP operator's (operator mode). */
export interface ServiceStyle {
  /**
   * Go's forms: the sharing key (and pool) under the `metallb.universe.tf/` prefix and the port named like
   * the Service, so a Service the Go operator made only gains the pin and our label when adopted.
   */
  readonly go?: boolean;
  /** The address-pool annotation, which Go sets when its pool is not `default`. */
  readonly addressPool?: string;
}

/**
 * The LoadBalancer Service of a port: every port of one endpoint carries the same sharing key and the same
 * pinned address, so MetalLB puts them on that one address or on none. No NodePorts: nothing routes by them.
 */
export function serviceBody(port: DesiredPort, style: ServiceStyle = {}) {
  const { declaration: d } = port;
  const families = port.addresses.map((address) => (address.includes(':') ? 'IPv6' : 'IPv4'));
  const labels: Record<string, string> = { ...ownedLabels(port.lease), [LABEL.serviceTarget]: 'metal-lb' };
  const prefix = style.go === true ? METALLB_LEGACY : METALLB;
  const annotations: Record<string, string> = {
    [prefix.allowSharedIp]: port.sharingKey,
    [METALLB.loadBalancerIps]: port.addresses.join(','),
    [ENDPOINT_ANNOTATION]: d.endpoint,
  };
  if (style.addressPool !== undefined) annotations[prefix.addressPool] = style.addressPool;
  const servicePort = { port: d.externalPort, targetPort: d.port, protocol: d.protocol };
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: port.service, namespace: port.namespace, labels, annotations },
    spec: {
      type: 'LoadBalancer',
      ports: [style.go === true ? { name: port.service, ...servicePort } : servicePort],
      selector: { [LABEL.akash]: 'true', [LABEL.manifestService]: d.service },
      allocateLoadBalancerNodePorts: false,
      ipFamilies: families,
      ipFamilyPolicy: families.length > 1 ? 'RequireDualStack' : 'SingleStack',
    },
  };
}

function includes(
  have: Readonly<Record<string, string>> | undefined,
  want: Readonly<Record<string, string>>,
) {
  return Object.entries(want).every(([key, value]) => have?.[key] === value);
}

/** True when the stored object already says what we would write. */
export function leasedIpMatches(have: LeasedIpObject, want: ReturnType<typeof leasedIpBody>): boolean {
  return includes(have.metadata.labels, want.metadata.labels) && isDeepStrictEqual(have.spec, want.spec);
}

/** True when the stored Service routes and pins exactly as we would write it. */
export function serviceMatches(have: ServiceObject, want: ReturnType<typeof serviceBody>): boolean {
  const port = have.spec.ports[0];
  const wanted = want.spec.ports[0]!;
  const selector = have.spec.selector ?? {};
  return (
    includes(have.metadata.labels, want.metadata.labels) &&
    includes(have.metadata.annotations, want.metadata.annotations) &&
    have.spec.type === 'LoadBalancer' &&
    have.spec.ports.length === 1 &&
    port?.port === wanted.port &&
    port.protocol === wanted.protocol &&
    (!('name' in wanted) || port.name === wanted.name) &&
    port.targetPort === wanted.targetPort &&
    Object.keys(selector).length === Object.keys(want.spec.selector).length &&
    includes(selector, want.spec.selector) &&
    have.spec.allocateLoadBalancerNodePorts === false
  );
}

/**
 * The merge patch turning a stored Service into the wanted one; selector keys we do not want are removed.
 * Families cannot change in place: the backend recreates a Service whose families differ.
 */
export function servicePatch(have: ServiceObject, want: ReturnType<typeof serviceBody>) {
  const selector: Record<string, string | null> = { ...want.spec.selector };
  for (const key of Object.keys(have.spec.selector ?? {})) if (!(key in selector)) selector[key] = null;
  return {
    metadata: { labels: want.metadata.labels, annotations: want.metadata.annotations },
    spec: {
      type: want.spec.type,
      ports: want.spec.ports,
      selector,
      allocateLoadBalancerNodePorts: false,
    },
  };
}

/** True when the stored Service's families differ from the wanted ones (only a recreate changes them). */
export function familiesDiffer(have: ServiceObject, want: ReturnType<typeof serviceBody>): boolean {
  const families = have.spec.ipFamilies;
  return families !== undefined && families !== null && !isDeepStrictEqual(families, want.spec.ipFamilies);
}

export function networkPolicyPath(namespace: string, name?: string): string {
  const base = `/apis/networking.k8s.io/v1/namespaces/${namespace}/networkpolicies`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}

/** Every IPv6 policy of ours, cluster-wide: what an informer of them lists and watches. */
export const IPV6_POLICIES = {
  path: '/apis/networking.k8s.io/v1/networkpolicies',
  labelSelector: `${LABEL.managedBy}=${MANAGED_BY},${IPV6_POLICY_LABEL.key}=${IPV6_POLICY_LABEL.value}`,
} as const;

/**
 * Per manifest service of a lease with IPv6 addresses: a NetworkPolicy admitting `::/0` to its pods on the
 * container ports of those endpoints. The Go provider's own `akash-<svc>-ip` policy admits only
 * `0.0.0.0/0`; ours is additive (policies are unions) and selects the pods as Go's does.
 */
export function ipv6PolicyBodies(lease: LeaseView) {
  const ports = new Map<string, Map<string, { port: number; protocol: string }>>();
  for (const desired of desiredPorts(lease)) {
    if (!desired.addresses.some((address) => address.includes(':'))) continue;
    const d = desired.declaration;
    const of = ports.get(d.service) ?? new Map<string, { port: number; protocol: string }>();
    of.set(`${d.port}/${d.protocol}`, { port: d.port, protocol: d.protocol });
    ports.set(d.service, of);
  }
  const namespace = leaseNamespace(lease.id);
  return [...ports.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([service, of]) => {
      return {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: {
          name: ipv6PolicyName(service),
          namespace,
          labels: {
            ...leaseLabels(lease.id),
            [LABEL.managedBy]: MANAGED_BY,
            [IPV6_POLICY_LABEL.key]: IPV6_POLICY_LABEL.value,
          },
        },
        spec: {
          podSelector: { matchLabels: { [LABEL.manifestService]: service } },
          policyTypes: ['Ingress'],
          ingress: [
            {
              from: [{ ipBlock: { cidr: '::/0' } }],
              ports: [...of.values()].sort((a, b) => a.port - b.port || (a.protocol < b.protocol ? -1 : 1)),
            },
          ],
        },
      };
    });
}

export type Ipv6PolicyBody = ReturnType<typeof ipv6PolicyBodies>[number];

/** True when the stored policy already says what we would write. */
export function networkPolicyMatches(have: NetworkPolicyObject, want: Ipv6PolicyBody): boolean {
  return includes(have.metadata.labels, want.metadata.labels) && isDeepStrictEqual(have.spec, want.spec);
}

/**
 * A MetalLB pool mirroring one IPAM pool. `autoAssign` is always false: our IPAM is the one allocator,
 * MetalLB only confirms the pinned addresses and must never hand one out on its own. `exclude` has no
 * MetalLB counterpart and needs none for the same reason.
 */
export function poolBody(pool: PoolSpec, namespace: string) {
  return {
    apiVersion: 'metallb.io/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name: pool.name, namespace, labels: { [LABEL.managedBy]: MANAGED_BY } },
    spec: { addresses: [...pool.addresses], autoAssign: false, avoidBuggyIPs: pool.avoidBuggyIPs ?? false },
  };
}

export function poolMatches(have: IpAddressPoolObject, want: ReturnType<typeof poolBody>): boolean {
  return (
    isDeepStrictEqual(have.spec.addresses, want.spec.addresses) &&
    have.spec.autoAssign === false &&
    (have.spec.avoidBuggyIPs ?? false) === want.spec.avoidBuggyIPs
  );
}
