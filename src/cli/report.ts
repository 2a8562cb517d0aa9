/**
 * How a deployment and its leases print: the data scripts read (`--output json|yaml`), and the human view
 * with one row per IP endpoint and the next command to run when an endpoint is withheld.
 */
import type { Colors, Column, Report } from './output.js';
import { renderTable, shortAddress } from './output.js';
import type { EndpointStatus, LeasedIp } from './provider-client.js';
import { type DeploymentState, formatPrice, type LeaseState, leaseText } from './tenant.js';

/** One IP endpoint of a lease, flattened for tables. */
interface EndpointRow {
  readonly name: string;
  readonly state: string;
  readonly addresses: readonly string[];
  readonly ports: readonly string[];
  readonly note: string;
}

function endpointRows(state: LeaseState): EndpointRow[] {
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

/** The JSON form of one lease: the ledger's facts plus the provider's lease-status. */
function leaseData(state: LeaseState, label: (address: string) => string) {
  const { lease, status } = state;
  return {
    id: lease.id,
    provider: label(lease.id.provider),
    state: lease.state,
    price: lease.price,
    closedReason: lease.closedReason,
    services: status?.services ?? null,
    ips: status?.ips ?? null,
    endpoints: status?.ip_endpoints ?? {},
    ...(state.error === undefined ? {} : { error: { code: state.error.code, message: state.error.message } }),
  };
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

const endpointColumns = (colors: Colors): Column<EndpointRow>[] => [
  { header: 'ENDPOINT', value: (row) => row.name },
  {
    header: 'STATE',
    value: (row) =>
      row.state === 'active'
        ? colors.green(row.state)
        : row.state === 'withheld'
          ? colors.yellow(row.state)
          : colors.red(row.state),
  },
  { header: 'IP', value: (row) => (row.addresses.length === 0 ? '-' : row.addresses.join(', ')) },
  { header: 'PORTS', value: (row) => row.ports.join(', ') },
  { header: 'NOTE', value: (row) => row.note },
];

/** The report of a deployment and its leases. */
export function deploymentReport(state: DeploymentState, label: (address: string) => string): Report {
  const { deployment } = state;
  const steps = nextSteps(state, label);
  return {
    data: {
      dseq: deployment.id.dseq,
      owner: deployment.id.owner,
      state: deployment.state,
      hash: deployment.hash,
      leases: state.leases.map((lease) => leaseData(lease, label)),
      ...(steps.length === 0 ? {} : { next: steps }),
    },
    human: (colors) => {
      let out = `${colors.bold(`deployment ${deployment.id.dseq}`)}  ${deployment.state}  owner ${shortAddress(deployment.id.owner)}  version ${deployment.hash.slice(0, 12)}…\n`;
      if (state.leases.length === 0) out += '  no lease: no bid was accepted\n';
      for (const leaseState of state.leases) {
        const { lease } = leaseState;
        out += `lease ${leaseText(lease)}  ${lease.state}  on ${label(lease.id.provider)}  ${formatPrice(lease.price.amount)}\n`;
        if (leaseState.error !== undefined) {
          out += `  ${colors.red('status unavailable')}: ${leaseState.error.code}: ${leaseState.error.message}\n`;
          continue;
        }
        const rows = endpointRows(leaseState);
        if (rows.length === 0) {
          if (lease.state === 'active') out += '  no IP endpoints\n';
          continue;
        }
        out += renderTable(rows, endpointColumns(colors), colors)
          .split('\n')
          .map((line) => (line === '' ? line : `  ${line}`))
          .join('\n');
      }
      for (const step of steps) out += `${colors.cyan('next')}: ${step}\n`;
      return out;
    },
  };
}
