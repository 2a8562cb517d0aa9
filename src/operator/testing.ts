/**
 * Test fixtures for the operator: real bech32 accounts (derived from fixed keys, so they are stable) and
 * the `ProviderLeasedIP` objects exactly as the Go provider's `DeclareIP` writes them.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { addressOf, publicKeyOf } from '../identity/index.js';
import { type FakeKubeGateway, leaseNamespace, sharingKey } from '../k8s/index.js';
import type { LeaseId } from '../lease/index.js';

/** A stable account address for `name`. */
export function accountOf(name: string): string {
  return addressOf(publicKeyOf(sha256(new TextEncoder().encode(`akash-ip operator test ${name}`))));
}

export const PROVIDER = accountOf('provider');
export const OTHER_PROVIDER = accountOf('other provider');
export const ALICE = accountOf('alice');
export const BOB = accountOf('bob');

export function leaseOf(owner: string, dseq: number, gseq = 1, oseq = 1, provider = PROVIDER): LeaseId {
  return { owner, dseq: String(dseq), gseq, oseq, provider };
}

/** One port as the Go provider declares it (`DeclareIP`'s arguments). */
export interface GoDeclaration {
  readonly endpoint: string;
  readonly service: string;
  readonly port: number;
  readonly externalPort: number;
  readonly protocol?: 'TCP' | 'UDP';
}

/** The object name `DeclareIP` gives: lowercase `<sharing key>-<PROTO>-<external port>`. */
export function goObjectName(owner: string, declaration: GoDeclaration): string {
  const protocol = declaration.protocol ?? 'TCP';
  return `${sharingKey(owner, declaration.endpoint)}-${protocol}-${declaration.externalPort}`.toLowerCase();
}

/** The `ProviderLeasedIP` body `DeclareIP` writes (labels, name, snake-case spec). */
export function goLeasedIp(lease: LeaseId, declaration: GoDeclaration, namespace = 'lease') {
  const protocol = declaration.protocol ?? 'TCP';
  return {
    apiVersion: 'akash.network/v2beta2',
    kind: 'ProviderLeasedIP',
    metadata: {
      name: goObjectName(lease.owner, declaration),
      namespace,
      labels: {
        'akash.network': 'true',
        'service-name': declaration.service,
        'external-port': String(declaration.externalPort),
        proto: protocol,
        'akash.network/lease.id.owner': lease.owner,
        'akash.network/lease.id.dseq': lease.dseq,
        'akash.network/lease.id.gseq': String(lease.gseq),
        'akash.network/lease.id.oseq': String(lease.oseq),
        'akash.network/lease.id.provider': lease.provider,
      },
    },
    spec: {
      lease_id: { ...lease },
      service_name: declaration.service,
      port: declaration.port,
      external_port: declaration.externalPort,
      sharing_key: sharingKey(lease.owner, declaration.endpoint),
      protocol,
    },
  };
}

/** The LoadBalancer Service the Go operator's `CreateIPPassthrough` writes (MetalLB sets its status). */
export function goService(lease: LeaseId, declaration: GoDeclaration) {
  const protocol = declaration.protocol ?? 'TCP';
  const name = `${declaration.service}-ip-${declaration.externalPort}-${protocol}`.toLowerCase();
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: leaseNamespace(lease),
      labels: {
        'akash.network/lease.id.owner': lease.owner,
        'akash.network/lease.id.dseq': lease.dseq,
        'akash.network/lease.id.gseq': String(lease.gseq),
        'akash.network/lease.id.oseq': String(lease.oseq),
        'akash.network/lease.id.provider': lease.provider,
        'akash.network': 'true',
        'akash.network/service-target': 'metal-lb',
      },
      annotations: { 'metallb.universe.tf/allow-shared-ip': sharingKey(lease.owner, declaration.endpoint) },
    },
    spec: {
      type: 'LoadBalancer',
      ports: [{ name, protocol, port: declaration.externalPort, targetPort: declaration.port }],
      selector: { 'akash.network': 'true', 'akash.network/manifest-service': declaration.service },
    },
  };
}

/** A MetalLB `IPAddressPool` object. */
export function metallbPool(name: string, addresses: readonly string[], namespace = 'metallb-system') {
  return {
    apiVersion: 'metallb.io/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name, namespace },
    spec: { addresses: [...addresses] },
  };
}

interface ServiceLike {
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly annotations?: Record<string, string>;
  };
  readonly spec: { readonly type?: string };
  readonly status?: { readonly loadBalancer?: { readonly ingress?: readonly { readonly ip?: string }[] } };
}

/**
 * What MetalLB's controller does, once: every LoadBalancer Service asking for addresses
 * (`metallb.io/loadBalancerIPs`) whose status does not show them gets them. Returns how many it set.
 */
export function metallbAssign(fake: FakeKubeGateway): number {
  let assigned = 0;
  for (const raw of fake.objects('/api/v1/services')) {
    const service = raw as unknown as ServiceLike;
    if (service.spec.type !== 'LoadBalancer') continue;
    const wanted = service.metadata.annotations?.['metallb.io/loadBalancerIPs'];
    if (wanted === undefined) continue;
    const ips = wanted.split(',');
    const have = (service.status?.loadBalancer?.ingress ?? []).map((entry) => entry.ip);
    if (JSON.stringify(have) === JSON.stringify(ips)) continue;
    const path = `/api/v1/namespaces/${service.metadata.namespace}/services/${service.metadata.name}`;
    fake.setStatus(path, { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } });
    assigned += 1;
  }
  return assigned;
}
