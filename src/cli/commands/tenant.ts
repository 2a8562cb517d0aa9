import { type Command, Option } from '@commander-js/extra-typings';
import { type AppError, appError, fail, ok, type Result } from '../../errors/index.js';
import type { Bid, Lease, LeaseState as LedgerLeaseState } from '../../market/index.js';
import type { Sdl } from '../../sdl/index.js';
import type { BidChoice, DeploymentState, LeaseState, Release } from '../../tenant/flows.js';
import type { Session } from '../../tenant/session.js';
import type { CliIo } from '../io.js';
import { type OutputFormat, outputOption, progressOn, type Report, renderTable } from '../output.js';
import {
  addGatewayOptions,
  gatewayFlagsOf,
  parseDseq,
  parseSeq,
  secondsOption,
  uaktOption,
  withGateway,
  withSession,
} from './common.js';
import { load as loadSdl } from './sdl.js';

/** The tenant flows and their reports, loaded when a command runs: `--help` and the SDL commands skip them. */
async function flows() {
  const [tenant, report, { orderPath }] = await Promise.all([
    import('../../tenant/flows.js'),
    import('../report.js'),
    import('../../lease/index.js'),
  ]);
  return { ...tenant, ...report, orderPath };
}
type Flows = Awaited<ReturnType<typeof flows>>;

async function leasesOf(
  session: Session,
  dseq: string,
  filter: {
    readonly gseq?: number | undefined;
    readonly oseq?: number | undefined;
    readonly provider?: string | undefined;
    readonly owner?: string | undefined;
  },
): Promise<Result<Lease[], AppError>> {
  const owner = filter.owner ?? session.key.address;
  const listed = await session.ledger.listLeases({ owner, dseq });
  if (!listed.ok) return listed;
  const leases = listed.value.filter(
    (lease) =>
      (filter.gseq === undefined || lease.id.gseq === filter.gseq) &&
      (filter.oseq === undefined || lease.id.oseq === filter.oseq) &&
      (filter.provider === undefined || lease.id.provider === filter.provider),
  );
  if (leases.length === 0) {
    return fail(
      appError(
        'LEASE_NOT_FOUND',
        `deployment ${dseq} of ${owner} has no matching lease; see its bids with \`akash-ip bids --dseq ${dseq}\``,
      ),
    );
  }
  return ok(leases);
}

/** `--allow-pending` of deploy and update: an IP endpoint left without an address is accepted, not exit 7. */
const allowPendingOption = () =>
  new Option(
    '--allow-pending',
    'exit 0 even when an IP endpoint ends without an address (withheld or pending); else exit 7',
  );

/** The report `deploy` and `update` print: incomplete (exit 7) while an IP endpoint has no address, unless allowed. */
function servedReport(
  state: DeploymentState,
  label: (address: string) => string,
  allowPending: boolean,
  { deploymentReport, unservedReason }: Pick<Flows, 'deploymentReport' | 'unservedReason'>,
): Report {
  const report = deploymentReport(state, label);
  const unserved = unservedReason(state, label);
  if (unserved === undefined) return report;
  if (allowPending && unserved.code === 'ENDPOINT_NOT_LEASED') return report;
  return { ...report, incomplete: unserved };
}

/** Registers the tenant commands: deploy, update, lease-status, migrate-endpoints, close, bids, leases. */
export function registerTenantCommands(program: Command, io: CliIo, exit: { code: number }): void {
  /** {@link withSession}, with the SDL loaded (its diagnostics printed) first: nothing is sent for a bad one. */
  const withSdlAndSession = async (
    file: string,
    options: { readonly strict?: true | undefined; readonly output: OutputFormat },
    command: { optsWithGlobals(): object },
    body: (session: Session, sdl: Sdl) => Promise<Result<Report, AppError>>,
  ): Promise<void> => {
    const loaded = await loadSdl(file, io, options.strict === true);
    if ('exit' in loaded) {
      exit.code = loaded.exit;
      return;
    }
    await withSession(command, io, exit, options.output, (session) => body(session, loaded.sdl));
  };

  program
    .command('deploy')
    .description(
      'validate an SDL, create the deployment, accept a bid, send the manifest and print the leased IPs',
    )
    .argument('<sdl>', 'SDL file, or - for stdin')
    .option(
      '--provider <name-or-address>',
      'accept only this provider’s bid (a devnet name or an akash1 address)',
    )
    .addOption(
      new Option('--pick <strategy>', 'how to choose among bids')
        .choices(['cheapest'] as const)
        .default('cheapest' as const)
        .conflicts('provider'),
    )
    .addOption(uaktOption('--deposit <uakt>', 'escrow deposit in uakt', 5_000_000n))
    .addOption(secondsOption('--bid-timeout <seconds>', 'longest wait for bids', 30))
    .addOption(
      secondsOption(
        '--timeout <seconds>',
        'longest wait for the provider to take the manifest and assign IPs',
        60,
      ),
    )
    .addOption(allowPendingOption())
    .option('--strict', 'also reject SDL JSON-schema violations')
    .addOption(outputOption())
    .action((file, options, command) =>
      withSdlAndSession(file, options, command, async (session, sdl) => {
        const tenant = await flows();
        let choice: BidChoice = { pick: options.pick };
        if (options.provider !== undefined) {
          const provider = session.resolveProvider(options.provider);
          if (!provider.ok) return provider;
          choice = { provider: provider.value };
        }
        const deployed = await tenant.deploy(
          session,
          sdl,
          { choice, deposit: options.deposit, bidTimeoutMs: options.bidTimeout, timeoutMs: options.timeout },
          progressOn(io),
        );
        return deployed.ok
          ? ok(servedReport(deployed.value, session.providerLabel, options.allowPending === true, tenant))
          : deployed;
      }),
    );

  program
    .command('update')
    .description('update a deployment to a new SDL: new version on the ledger, new manifest to its providers')
    .requiredOption('--dseq <dseq>', 'the deployment to update', parseDseq)
    .argument('<sdl>', 'SDL file, or - for stdin')
    .addOption(
      secondsOption('--timeout <seconds>', 'longest wait for the providers to take the manifest', 60),
    )
    .option('--yes', 'release the IPs of endpoints the new SDL no longer names (renamed or dropped)')
    .addOption(allowPendingOption())
    .option('--strict', 'also reject SDL JSON-schema violations')
    .addOption(outputOption())
    .action((file, options, command) =>
      withSdlAndSession(file, options, command, async (session, sdl) => {
        const tenant = await flows();
        const updated = await tenant.update(
          session,
          sdl,
          { dseq: options.dseq, file, yes: options.yes === true, timeoutMs: options.timeout },
          progressOn(io),
        );
        return updated.ok
          ? ok(servedReport(updated.value, session.providerLabel, options.allowPending === true, tenant))
          : updated;
      }),
    );

  const leaseStatus = program
    .command('lease-status')
    .description(
      'show a deployment’s leases as their providers report them: services, leased IPs, withheld endpoints',
    )
    .requiredOption('--dseq <dseq>', 'deployment sequence', parseDseq)
    .option('--gseq <gseq>', 'only this group', parseSeq)
    .option('--oseq <oseq>', 'only this order', parseSeq)
    .option('--provider <name-or-address>', 'only the lease on this provider')
    .option('--owner <address>', 'read another owner’s deployment (the provider decides whether you may)')
    .addOption(outputOption());
  addGatewayOptions(leaseStatus).action((options, command) => {
    const flags = gatewayFlagsOf(options);
    if (flags !== undefined) {
      // any provider by URL: its lease-status answer as it is, for the lease given (default group and order 1)
      return withGateway(command, io, exit, options.output, flags, async (client) => {
        const lease = { dseq: options.dseq, gseq: options.gseq ?? 1, oseq: options.oseq ?? 1 };
        const status = await client.leaseStatus(lease);
        return status.ok
          ? ok({ data: status.value, human: () => `${JSON.stringify(status.value, null, 2)}\n` })
          : status;
      });
    }
    return withSession(command, io, exit, options.output, async (session) => {
      const { deploymentReport, fetchLeaseState } = await flows();
      const provider =
        options.provider === undefined ? ok(undefined) : session.resolveProvider(options.provider);
      if (!provider.ok) return provider;
      const owner = options.owner ?? session.key.address;
      const deployment = await session.ledger.getDeployment({ owner, dseq: options.dseq });
      if (!deployment.ok) return deployment;
      const leases = await leasesOf(session, options.dseq, {
        gseq: options.gseq,
        oseq: options.oseq,
        provider: provider.value,
        owner,
      });
      if (!leases.ok) return leases;
      const states: LeaseState[] = [];
      for (const lease of leases.value) states.push(await fetchLeaseState(session, lease));
      // a provider refusing to tell (another owner's lease) fails the command with its code, printing nothing
      const refused = states.find(
        (state) =>
          state.error !== undefined &&
          ['FORBIDDEN', 'UNAUTHENTICATED', 'NOT_FOUND', 'LEASE_NOT_FOUND'].includes(state.error.code),
      );
      if (refused?.error !== undefined) return fail(refused.error);
      // any other provider failure: the report shows what is known, the exit code says it is incomplete
      return ok({
        ...deploymentReport({ deployment: deployment.value, leases: states }, session.providerLabel),
        incomplete: states.find((state) => state.error !== undefined)?.error,
      });
    });
  });

  const migrateEndpoints = program
    .command('migrate-endpoints')
    .description(
      'move IP endpoints (and their addresses) from another deployment of yours to this one, on the same provider',
    )
    .argument('<endpoints...>', 'endpoint names to move')
    .requiredOption('--dseq <dseq>', 'destination deployment', parseDseq)
    .option('--gseq <gseq>', 'destination group', parseSeq, 1)
    .option(
      '--provider <name-or-address>',
      'the provider holding both deployments (default: the destination’s)',
    )
    .option('--source-dseq <dseq>', 'take the endpoints only from this deployment', parseDseq)
    .option('--dry-run', 'show what would move without moving anything')
    .addOption(outputOption());
  addGatewayOptions(migrateEndpoints).action((endpoints, options, command) => {
    const body = {
      endpoints_to_migrate: endpoints,
      destination_dseq: options.dseq,
      destination_gseq: options.gseq,
      ...(options.sourceDseq === undefined ? {} : { source_dseq: options.sourceDseq }),
      ...(options.dryRun === true ? { dry_run: true } : {}),
    };
    const flags = gatewayFlagsOf(options);
    if (flags !== undefined) {
      return withGateway(command, io, exit, options.output, flags, async (client) => {
        const { migrationReport } = await flows();
        const reply = await client.migrate(body);
        if (!reply.ok) return reply;
        return ok(migrationReport(reply.value, options.dryRun === true, options.dseq, flags.providerUrl));
      });
    }
    return withSession(command, io, exit, options.output, async (session) => {
      const { migrationReport } = await flows();
      let provider: string;
      if (options.provider !== undefined) {
        const resolved = session.resolveProvider(options.provider);
        if (!resolved.ok) return resolved;
        provider = resolved.value;
      } else {
        const leases = await leasesOf(session, options.dseq, { gseq: options.gseq });
        if (!leases.ok) return leases;
        const providers = [...new Set(leases.value.map((lease) => lease.id.provider))];
        if (providers.length !== 1 || providers[0] === undefined) {
          return fail(
            appError('USAGE', `deployment ${options.dseq} has leases on several providers: pass --provider`),
          );
        }
        provider = providers[0];
      }
      const client = await session.providerClient(provider);
      if (!client.ok) return client;
      const reply = await client.value.migrate(body);
      if (!reply.ok) return reply;
      return ok(
        migrationReport(reply.value, options.dryRun === true, options.dseq, session.providerLabel(provider)),
      );
    });
  });

  program
    .command('close')
    .description('close a deployment: its leases end and the providers release its IPs')
    .requiredOption('--dseq <dseq>', 'deployment sequence', parseDseq)
    .addOption(outputOption())
    .action((options, command) =>
      withSession(command, io, exit, options.output, async (session) => {
        const { holdings, releasedBy, releasesText } = await flows();
        const id = { owner: session.key.address, dseq: options.dseq };
        const leases = await session.ledger.listLeases({ owner: id.owner, dseq: id.dseq, state: 'active' });
        const ended = leases.ok ? leases.value : [];
        // what each lease really holds now (an endpoint migrated away holds nothing here), asked before it ends
        const released: Release[] = [];
        const untold = new Set<string>();
        for (const lease of ended) {
          const status = await holdings(session, lease);
          if (!status.ok) untold.add(session.providerLabel(lease.id.provider));
          else if (status.value !== undefined) released.push(...releasedBy(lease, status.value, undefined));
        }
        const closed = await session.ledger.closeDeployment(id);
        if (!closed.ok) return closed;
        const providers = [...new Set(ended.map((lease) => session.providerLabel(lease.id.provider)))];
        const ips =
          released.length === 0
            ? untold.size === 0
              ? '; it held no IP address'
              : ''
            : `; the provider releases ${releasesText(released, session.providerLabel)}`;
        const unknown =
          untold.size === 0 ? '' : `; ${[...untold].join(', ')} could not say which IPs it held`;
        return ok({
          data: {
            dseq: options.dseq,
            state: closed.value.state,
            escrow: closed.value.escrow,
            leases: ended.map((lease) => lease.id),
            released,
          },
          human: () =>
            `deployment ${options.dseq} closed${ended.length === 0 ? '' : `; ${ended.length} lease(s) ended on ${providers.join(', ')}${ips}${unknown}`}\n`,
        });
      }),
    );

  program
    .command('bids')
    .description('list the bids on a deployment’s orders')
    .requiredOption('--dseq <dseq>', 'deployment sequence', parseDseq)
    .addOption(outputOption())
    .action((options, command) =>
      withSession(command, io, exit, options.output, async (session) => {
        // an unknown deployment is NOT_FOUND (exit 3), as in lease-status, not an empty list
        const deployment = await session.ledger.getDeployment({
          owner: session.key.address,
          dseq: options.dseq,
        });
        if (!deployment.ok) return deployment;
        const bids = await session.ledger.listBids({ owner: session.key.address, dseq: options.dseq });
        return bids.ok ? ok(bidsReport(bids.value, session.providerLabel, await flows())) : bids;
      }),
    );

  program
    .command('leases')
    .description('list your leases')
    .option('--dseq <dseq>', 'only this deployment', parseDseq)
    .addOption(
      new Option('--state <state>', 'lease state')
        .choices(['active', 'closed', 'all'] as const)
        .default('active' as const),
    )
    .addOption(outputOption())
    .action((options, command) =>
      withSession(command, io, exit, options.output, async (session) => {
        if (options.dseq !== undefined) {
          const id = { owner: session.key.address, dseq: options.dseq };
          const deployment = await session.ledger.getDeployment(id);
          if (!deployment.ok) return deployment;
        }
        const state: LedgerLeaseState | undefined = options.state === 'all' ? undefined : options.state;
        const leases = await session.ledger.listLeases({
          owner: session.key.address,
          ...(options.dseq === undefined ? {} : { dseq: options.dseq }),
          ...(state === undefined ? {} : { state }),
        });
        return leases.ok ? ok(leasesReport(leases.value, session.providerLabel, await flows())) : leases;
      }),
    );
}

/** The bids table. */
function bidsReport(
  bids: readonly Bid[],
  label: (address: string) => string,
  { formatPrice, orderPath }: Pick<Flows, 'formatPrice' | 'orderPath'>,
): Report {
  return {
    data: bids,
    human: (colors) =>
      renderTable(
        bids,
        [
          { header: 'ORDER', value: (bid) => orderPath(bid.id) },
          { header: 'PROVIDER', value: (bid) => label(bid.id.provider) },
          { header: 'PRICE', value: (bid) => formatPrice(bid.price.amount) },
          { header: 'STATE', value: (bid) => bid.state },
        ],
        colors,
      ),
  };
}

/** The leases table. */
function leasesReport(
  leases: readonly Lease[],
  label: (address: string) => string,
  { formatPrice, orderPath }: Pick<Flows, 'formatPrice' | 'orderPath'>,
): Report {
  return {
    data: leases,
    human: (colors) =>
      renderTable(
        leases,
        [
          { header: 'LEASE', value: (lease) => orderPath(lease.id) },
          { header: 'PROVIDER', value: (lease) => label(lease.id.provider) },
          {
            header: 'STATE',
            value: (lease) =>
              lease.closedReason === null ? lease.state : `${lease.state} (${lease.closedReason})`,
          },
          { header: 'PRICE', value: (lease) => formatPrice(lease.price.amount) },
        ],
        colors,
      ),
  };
}
