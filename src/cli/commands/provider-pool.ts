import type { Command } from '@commander-js/extra-typings';
import { type AppError, ok, type Result } from '../../errors/index.js';
import type { CliIo } from '../io.js';
import { outputOption, type Report, renderTable } from '../output.js';
import type { Session } from '../session.js';
import { providerCommand, withSession } from './common.js';

/** One pool of one provider, as `provider pool` prints it. */
interface PoolRow {
  readonly provider: string;
  readonly address: string;
  readonly pool: string;
  readonly family: string;
  readonly capacity: string;
  readonly allocated: string;
  readonly reserved: string;
  readonly quarantined: string;
  readonly available: string;
  readonly error?: string;
}

async function poolRows(session: Session, only: string | undefined): Promise<Result<PoolRow[], AppError>> {
  let addresses: string[];
  if (only !== undefined) addresses = [only];
  else {
    const listed = await session.ledger.listProviders();
    if (!listed.ok) return listed;
    addresses = listed.value
      .map((provider) => provider.address)
      .sort((a, b) => session.providerLabel(a).localeCompare(session.providerLabel(b)));
  }
  const rows: PoolRow[] = [];
  for (const address of addresses) {
    const label = session.providerLabel(address);
    const empty = {
      provider: label,
      address,
      pool: '-',
      family: '-',
      capacity: '0',
      allocated: '0',
      reserved: '0',
      quarantined: '0',
      available: '0',
    };
    const client = await session.providerClient(address);
    const status = client.ok ? await client.value.status() : client;
    if (!status.ok) {
      if (only !== undefined) return status;
      rows.push({ ...empty, error: `${status.error.code}: ${status.error.message}` });
      continue;
    }
    const pools = status.value.cluster.inventory.pools ?? [];
    if (pools.length === 0) rows.push(empty);
    for (const pool of pools) {
      rows.push({
        provider: label,
        address,
        pool: pool.name,
        family: pool.family ?? '-',
        capacity: pool.capacity.toString(),
        allocated: pool.allocated.toString(),
        reserved: (pool.reserved ?? 0n).toString(),
        quarantined: (pool.quarantined ?? 0n).toString(),
        available: (pool.available ?? 0n).toString(),
      });
    }
  }
  return ok(rows);
}

function poolReport(rows: readonly PoolRow[]): Report {
  return {
    data: rows,
    human: (colors) =>
      renderTable(
        rows,
        [
          { header: 'PROVIDER', value: (r) => r.provider },
          { header: 'POOL', value: (r) => r.pool },
          { header: 'CAPACITY', value: (r) => r.capacity },
          { header: 'ALLOCATED', value: (r) => r.allocated },
          { header: 'RESERVED', value: (r) => r.reserved },
          { header: 'QUARANTINED', value: (r) => r.quarantined },
          { header: 'AVAILABLE', value: (r) => (r.error === undefined ? r.available : colors.red(r.error)) },
        ],
        colors,
      ),
  };
}

/** Registers `akash-ip provider pool`. */
export function registerProviderPoolCommand(program: Command, io: CliIo, exit: { code: number }): void {
  const provider = providerCommand(program);
  provider
    .command('pool')
    .description(
      'show each provider’s IP pools: capacity, allocated, reserved by bids, quarantined, available',
    )
    .option('--provider <name-or-address>', 'only this provider')
    .addOption(outputOption())
    .action((options, command) =>
      withSession(command, io, exit, options.output, async (session) => {
        let only: string | undefined;
        if (options.provider !== undefined) {
          const resolved = session.resolveProvider(options.provider);
          if (!resolved.ok) return resolved;
          only = resolved.value;
        }
        const rows = await poolRows(session, only);
        return rows.ok ? ok(poolReport(rows.value)) : rows;
      }),
    );
}
