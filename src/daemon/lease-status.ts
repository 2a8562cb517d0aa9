/**
 * Akash's lease-status document (chain-sdk `LeaseStatus`): the manifest's services, reported as running
 * (this provider simulates workloads), no forwarded ports, Go's byte-compatible `ips`, and the
 * `ip_endpoints` field that tells pending and withheld endpoints apart with a reason.
 */
import type { AppError, Result } from '../errors/index.js';
import type { LeaseIpStatus, LeaseView } from '../lease/index.js';
import type { ManifestGroup } from '../sdl/index.js';
import { ipEnvStatus, type LeasePodsReport } from '../webhook/index.js';

/** One service, with chain-sdk `ServiceStatus` field names. */
export interface ServiceStatus {
  readonly name: string;
  readonly available: number;
  readonly total: number;
  readonly uris: readonly string[];
  readonly observed_generation: number;
  readonly replicas: number;
  readonly updated_replicas: number;
  readonly ready_replicas: number;
  readonly available_replicas: number;
}

/** One entry of the provider-internal `/ip-lease-status` answer (Go's untagged `LeaseIPStatus`). */
export interface IpLeaseStatusEntry {
  readonly Port: number;
  readonly ExternalPort: number;
  readonly ServiceName: string;
  readonly IP: string;
  readonly Protocol: string;
}

/** The IP part of a lease the engine does not know: it declared no IP endpoint. */
export const NO_IPS: LeaseIpStatus = Object.freeze({ ips: null, ip_endpoints: Object.freeze({}) });

type ManifestService = ManifestGroup['services'][number];

/** Every replica counts as ready; `uris` lists the hosts of global HTTP exposes. */
function statusOf(service: ManifestService): ServiceStatus {
  const uris = new Set<string>();
  for (const expose of service.expose) {
    if (expose.global && expose.ip === '') for (const host of expose.hosts ?? []) uris.add(host);
  }
  const count = service.count;
  return {
    name: service.name,
    available: count,
    total: count,
    uris: [...uris],
    observed_generation: 1,
    replicas: count,
    updated_replicas: count,
    ready_replicas: count,
    available_replicas: count,
  };
}

function serviceStatuses(group: ManifestGroup): Record<string, ServiceStatus> {
  return Object.fromEntries(group.services.map((service) => [service.name, statusOf(service)]));
}

/** One service's status (the service-status route), or undefined when the group has no such service. */
export function serviceStatusOf(group: ManifestGroup, name: string): ServiceStatus | undefined {
  const service = group.services.find((candidate) => candidate.name === name);
  return service === undefined ? undefined : statusOf(service);
}

/** The lease-status JSON text. */
export function leaseStatusJson(group: ManifestGroup, ip: LeaseIpStatus): string {
  return JSON.stringify({
    services: serviceStatuses(group),
    forwarded_ports: {},
    ips: ip.ips,
    ip_endpoints: ip.ip_endpoints,
  });
}

/**
 * The lease-status JSON with `ip_env` (the admission webhook configured: whether the lease's running pods
 * carry its current addresses, see src/webhook) added as its last field: Go's decoder ignores a field it does not
 * know, and every byte before it stays as Akash's clients read it.
 */
export function withIpEnv(json: string, pods: Result<LeasePodsReport, AppError>): string {
  return `${json.slice(0, -1)},"ip_env":${JSON.stringify(ipEnvStatus(pods))}}`;
}

/** The IP operator's per-lease answer: one entry per port of every active endpoint. */
export function ipLeaseStatus(lease: LeaseView): IpLeaseStatusEntry[] {
  const addresses = new Map(lease.endpoints.map((endpoint) => [endpoint.name, endpoint.addresses]));
  const out: IpLeaseStatusEntry[] = [];
  for (const declaration of lease.declarations) {
    for (const ip of addresses.get(declaration.endpoint) ?? []) {
      out.push({
        Port: declaration.port,
        ExternalPort: declaration.externalPort,
        ServiceName: declaration.service,
        IP: ip,
        Protocol: declaration.protocol,
      });
    }
  }
  return out;
}
