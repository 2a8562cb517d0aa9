/**
 * What a deployment's IP endpoints look like to any face: one row per endpoint with its addresses, ports and
 * note, and the commands that would resolve the withheld ones. The CLI prints them as tables, the console as rows.
 */
import type { DeploymentState, LeaseState } from './flows.js';
import type { EndpointStatus, LeasedIp } from './provider-client.js';

/** One IP endpoint of a lease, flattened for tables. */
export interface EndpointRow {
  readonly name: string;
  readonly state: string;
  readonly addresses: readonly string[];
  readonly ports: readonly string[];
  readonly note: string;
}

/** The IP endpoints of a lease with their ports (`web 80→80/TCP`) and notes. */
export function endpointRows(state: LeaseState): EndpointRow[] {
  const status = state.status;
  if (status === undefined) return [];
  const byAddress = new Map<string, string[]>();
  for (const [service, entries] of Object.entries(status.ips ?? {})) {
    for (const entry of entries as readonly LeasedIp[]) {
      const list = byAddress.get(entry.IP) ?? [];
      list.push(`${service} ${entry.ExternalPort}→${entry.Port}/${entry.Protocol}`);
      byAddress.set(entry.IP, list);
    }
  }
  const endpoints = Object.entries(status.ip_endpoints ?? {});
  if (endpoints.length === 0) {
    return [...byAddress].map(([address, ports]) => ({
      name: '',
      state: 'active',
      addresses: [address],
      ports,
      note: '',
    }));
  }
  return endpoints.map(([name, endpoint]: [string, EndpointStatus]) => ({
    name,
    state: endpoint.state,
    addresses: endpoint.addresses,
    ports: endpoint.addresses.flatMap((address) => byAddress.get(address) ?? []),
    note: endpoint.reason ?? '',
  }));
}

/** The commands that would resolve withheld endpoints: migrate each to this deployment. */
export function nextSteps(state: DeploymentState, label: (address: string) => string): string[] {
  const steps: string[] = [];
  for (const leaseState of state.leases) {
    const withheld = Object.entries(leaseState.status?.ip_endpoints ?? {}).filter(
      ([, endpoint]) => endpoint.state === 'withheld' && endpoint.held_by !== undefined,
    );
    for (const [name, endpoint] of withheld) {
      const { lease } = leaseState;
      const gseq = lease.id.gseq === 1 ? '' : ` --gseq ${lease.id.gseq}`;
      steps.push(
        `akash-ip migrate-endpoints --dseq ${lease.id.dseq}${gseq} --provider ${label(lease.id.provider)} --source-dseq ${endpoint.held_by?.dseq} ${name}`,
      );
    }
  }
  return steps;
}
