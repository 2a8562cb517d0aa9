/**
 * The operator's output: one LoadBalancer Service per port of an active endpoint, named, labelled and
 * annotated as the Go operator writes it, plus the address our IPAM chose (`metallb.io/loadBalancerIPs`).
 * Also: whose a Service found in the cluster is, and what address it already carries (for adoption).
 */
import {
  type DesiredPort,
  desiredPorts,
  LABEL,
  MANAGED_BY,
  METALLB,
  METALLB_LEGACY,
  type ServiceObject,
  serviceBody,
} from '../k8s/index.js';
import { type LeaseId, type LeaseView, leaseKey } from '../lease/index.js';
import { sharingKeyOf } from './leased-ip.js';
import { canonicalAddress } from './pools.js';

/**
 * `ours`: written by this operator. `go`: the Go operator's (our provider's labels, no managed-by), adopted.
 * `foreign`: any other LoadBalancer, whose addresses we must not hand out. `other`: anything else.
 */
export type ServiceKind = 'ours' | 'go' | 'foreign' | 'other';

export function kindOf(service: ServiceObject, provider: string): ServiceKind {
  const labels = service.metadata.labels ?? {};
  const managedBy = labels[LABEL.managedBy];
  const akash = labels[LABEL.serviceTarget] === 'metal-lb' && labels[LABEL.provider] === provider;
  if (akash && managedBy === MANAGED_BY) return 'ours';
  if (akash && managedBy === undefined) return 'go';
  return service.spec.type === 'LoadBalancer' ? 'foreign' : 'other';
}

/** The addresses MetalLB reports on the Service. */
export function ingressAddresses(service: ServiceObject): string[] {
  return (service.status?.loadBalancer?.ingress ?? []).flatMap((entry) => {
    const address = entry.ip === undefined ? undefined : canonicalAddress(entry.ip);
    return address === undefined ? [] : [address];
  });
}

function requested(service: ServiceObject): string[] {
  const annotations = service.metadata.annotations ?? {};
  const texts = [
    ...(annotations[METALLB.loadBalancerIps] ?? '').split(','),
    ...(annotations[METALLB_LEGACY.loadBalancerIps] ?? '').split(','),
    service.spec.loadBalancerIP ?? '',
  ];
  return texts.flatMap((text) => {
    const address = text.trim() === '' ? undefined : canonicalAddress(text);
    return address === undefined ? [] : [address];
  });
}

/** Every address a Service holds or asks for: what a foreign Service keeps from our pools. */
export function heldAddresses(service: ServiceObject): string[] {
  return [...new Set([...ingressAddresses(service), ...requested(service)])];
}

/** The addresses a Service of ours or Go's stands for (one per family): its pins, else what MetalLB gave it. */
export function pinsOf(service: ServiceObject): string[] {
  const pinned = requested(service);
  return pinned.length > 0 ? pinned : ingressAddresses(service);
}

/** The sharing key a Service carries, under either MetalLB prefix. */
export function sharingKeyAnnotation(service: ServiceObject): string | undefined {
  const annotations = service.metadata.annotations ?? {};
  return annotations[METALLB_LEGACY.allowSharedIp] ?? annotations[METALLB.allowSharedIp];
}

/** The lease a Service's Go labels name, as a lease key. */
export function leaseKeyOfLabels(labels: Readonly<Record<string, string>> | undefined): string | undefined {
  const owner = labels?.[LABEL.owner];
  const dseq = labels?.[LABEL.dseq];
  const gseq = labels?.[LABEL.gseq];
  const oseq = labels?.[LABEL.oseq];
  const provider = labels?.[LABEL.provider];
  if ([owner, dseq, gseq, oseq, provider].some((value) => value === undefined)) return undefined;
  return `${owner}/${dseq}/${gseq}/${oseq}/${provider}`;
}

/** One Service the operator wants, keyed `namespace/name` as the informer keys it. */
export interface WantedService {
  readonly key: string;
  readonly lease: LeaseId;
  readonly leaseKey: string;
  readonly port: DesiredPort;
  /** Go's name, `<service>-ip-<external port>-<proto>`; differs from `port.service` when that is no valid name. */
  readonly goName: string;
  readonly body: ReturnType<typeof serviceBody>;
}

/**
 * The Services of an active lease: one per port of an endpoint that holds an address. The sharing key is
 * the one the objects carry (a hashed endpoint's `h_` form is ours alone), the pool annotation is Go's rule.
 */
export function wantedServices(
  lease: LeaseView,
  poolOf: (address: string) => string | undefined,
): WantedService[] {
  const key = leaseKey(lease.id);
  return desiredPorts(lease).map((desired) => {
    const port: DesiredPort = {
      ...desired,
      sharingKey: sharingKeyOf(lease.id.owner, desired.declaration.endpoint),
    };
    const d = port.declaration;
    const pool = port.addresses[0] === undefined ? undefined : poolOf(port.addresses[0]);
    const body = serviceBody(port, {
      go: true,
      ...(pool === undefined || pool === 'default' ? {} : { addressPool: pool }),
    });
    return {
      key: `${port.namespace}/${port.service}`,
      lease: lease.id,
      leaseKey: key,
      port,
      goName: `${d.service}-ip-${d.externalPort}-${d.protocol}`.toLowerCase(),
      body,
    };
  });
}
