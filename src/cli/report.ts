/**
 * How a deployment and its leases print: the data scripts read (`--output json|yaml`), and the human view
 * with one row per IP endpoint and the next command to run when an endpoint is withheld.
 */
import { type AppError, appError } from '../errors/index.js';
import { orderPath } from '../lease/index.js';
import { type EndpointRow, endpointRows, nextSteps } from '../tenant/endpoints.js';
import { type DeploymentState, formatPrice, type LeaseState } from '../tenant/flows.js';
import type { IpEnvStatus } from '../tenant/provider-client.js';
import type { Colors, Column, Report } from './output.js';
import { renderTable, shortAddress } from './output.js';

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
    ...(status?.ip_env === undefined ? {} : { ip_env: status.ip_env }),
    ...(state.error === undefined ? {} : { error: { code: state.error.code, message: state.error.message } }),
  };
}

/**
 * A line when the lease's pods do not all carry its leased addresses (the provider's `ip_env`): pods
 * started before the address (`missing`) or holding a moved one (`stale`) get it when they restart.
 */
export function podsLine(ipEnv: IpEnvStatus | undefined, colors: Colors): string {
  if (ipEnv === undefined || ipEnv.current === true) return '';
  if (ipEnv.current === null) {
    return `  ${colors.yellow('pods')}: the provider cannot tell whether they carry the leased IPs (${ipEnv.code ?? '?'}: ${ipEnv.error ?? ''})\n`;
  }
  const behind = (ipEnv.pods ?? []).filter((pod) => pod.state !== 'current');
  const named = behind.map((pod) => `${pod.pod} ${pod.state}`).join(', ');
  return `  ${colors.yellow('pods')}: ${behind.length} of ${ipEnv.pods?.length ?? 0} do not carry the current leased IPs (${named}); they get them when they restart\n`;
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
        out += `lease ${orderPath(lease.id)}  ${lease.state}  on ${label(lease.id.provider)}  ${formatPrice(lease.price.amount)}\n`;
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
        out += podsLine(leaseState.status?.ip_env, colors);
      }
      for (const step of steps) out += `${colors.cyan('next')}: ${step}\n`;
      return out;
    },
  };
}

/**
 * Why a deployment that `deploy` or `update` leaves is not fully served, for a script to tell by the exit
 * code: a provider that could not tell, or an IP endpoint without an address (withheld, pending, or not yet
 * assigned when the wait ended), each with what to do.
 */
export function unservedReason(
  state: DeploymentState,
  label: (address: string) => string,
): AppError | undefined {
  const failed = state.leases.find((lease) => lease.error !== undefined)?.error;
  if (failed !== undefined) return failed;
  const dseq = state.deployment.id.dseq;
  const steps = new Map(
    nextSteps(state, label).map((step) => [step.slice(step.lastIndexOf(' ') + 1), step] as const),
  );
  const problems: string[] = [];
  for (const { lease, status } of state.leases) {
    for (const [name, endpoint] of Object.entries(status?.ip_endpoints ?? {})) {
      if (endpoint.state === 'active' && endpoint.addresses.length > 0) continue;
      const where = `endpoint "${name}" of lease ${orderPath(lease.id)}`;
      const step = steps.get(name);
      if (endpoint.state === 'withheld') {
        problems.push(
          `${where} is withheld (${endpoint.reason ?? 'no reason given'})${step === undefined ? '' : `: move it with \`${step}\``}`,
        );
      } else if (endpoint.state === 'pending') {
        problems.push(
          `${where} is pending (${endpoint.reason ?? 'no reason given'}): it gets an address when ${label(lease.id.provider)} has one free; ` +
            `watch with \`akash-ip lease-status --dseq ${dseq}\`, or close the deployment and deploy on another provider`,
        );
      } else {
        problems.push(
          `${where} had no address when the wait ended: check again with \`akash-ip lease-status --dseq ${dseq}\` (--timeout waits longer)`,
        );
      }
    }
  }
  if (problems.length === 0) return undefined;
  return appError(
    'ENDPOINT_NOT_LEASED',
    `deployment ${dseq} runs without all its IPs: ${problems.join('; ')} (--allow-pending accepts this with exit 0)`,
  );
}

/** A move of one endpoint as the provider reports it. */
interface Move {
  readonly endpoint: string;
  readonly from: { readonly dseq: string; readonly gseq: number; readonly oseq: number };
  readonly to: { readonly dseq: string; readonly gseq: number; readonly oseq: number };
  readonly addresses: readonly string[];
}

/**
 * A migration's outcome. Go's reply names every requested endpoint in `transferred`; ours adds the `moves`
 * it made and the endpoints that were `unchanged` (already in the destination), so only real moves are
 * called moved.
 */
export function migrationReport(
  reply: { readonly transferred: readonly string[] } & Record<string, unknown>,
  dryRun: boolean,
  dseq: string,
  provider: string,
): Report {
  const reported = Array.isArray(reply.moves);
  const moves = (reported ? reply.moves : []) as readonly Move[];
  const unchanged = (Array.isArray(reply.unchanged) ? reply.unchanged : []) as readonly string[];
  const moved = reported
    ? moves.map((move) => move.endpoint)
    : reply.transferred.filter((name) => !unchanged.includes(name));
  return {
    data: reply,
    human: (colors) => {
      const would = dryRun ? 'would move' : 'moved';
      const head =
        moved.length === 0
          ? `${dryRun ? 'dry run: nothing would move' : 'nothing moved'} on ${provider}\n`
          : `${dryRun ? 'dry run: ' : ''}${would} ${moved.join(', ')} to deployment ${dseq} on ${provider}\n`;
      const table =
        moves.length === 0
          ? ''
          : renderTable(
              moves,
              [
                { header: 'ENDPOINT', value: (move) => move.endpoint },
                { header: 'FROM', value: (move) => orderPath(move.from) },
                { header: 'TO', value: (move) => orderPath(move.to) },
                { header: 'IP', value: (move) => move.addresses.join(', ') },
              ],
              colors,
            );
      const same = unchanged.length === 0 ? '' : `already in deployment ${dseq}: ${unchanged.join(', ')}\n`;
      const next =
        dryRun || moved.length === 0 ? '' : `${colors.cyan('next')}: akash-ip lease-status --dseq ${dseq}\n`;
      return head + table + same + next;
    },
  };
}
